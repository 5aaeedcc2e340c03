/// The error replies clients see, in Redis's words, so client libraries that
/// match on them (and people who search for them) find what they expect.
enum RedisError {
    static let syntax = "ERR syntax error"
    static let notAnInteger = "ERR value is not an integer or out of range"
    static let noAuth = "NOAUTH Authentication required."
    static let wrongPass = "WRONGPASS invalid username-password pair or user is disabled."
    static let noPasswordConfigured =
        "ERR AUTH <password> called without any password configured for the default user. "
        + "Are you sure your configuration is correct?"
    static let helloNoAuth =
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        + "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
        + "select the RESP protocol version at the same time"
    static let noProto = "NOPROTO unsupported protocol version"
    static let protocolVersionNotInteger = "ERR Protocol version is not an integer or out of range"
    static let dbIndexOutOfRange = "ERR DB index is out of range"
    static let maxClients = "ERR max number of clients reached"
    static let invalidClientName = "ERR Client names cannot contain spaces, newlines or special characters."
    static let noSuchClient = "ERR No such client"
    static let noShutdownInProgress = "ERR No shutdown in progress."

    static func wrongArity(_ fullName: String) -> String {
        "ERR wrong number of arguments for '\(fullName)' command"
    }

    static func unknownSubcommand(_ subcommand: String, of container: String) -> String {
        "ERR unknown subcommand '\(subcommand.prefix(128))'. Try \(container.uppercased()) HELP."
    }

    /// `unknown command 'xyz', with args beginning with: 'a' 'b' `, with
    /// Redis's 128-character bounds on the name and on the quoted arguments.
    static func unknownCommand(_ name: String, arguments: some Sequence<String>) -> String {
        var quoted = ""
        for argument in arguments {
            let used = quoted.unicodeScalars.count
            if used >= 128 { break }
            quoted += "'\(String(argument.unicodeScalars.prefix(128 - used)))' "
        }
        return "ERR unknown command '\(String(name.unicodeScalars.prefix(128)))', with args beginning with: \(quoted)"
    }

    /// Redis's protected-mode refusal, with our flags in place of its config file.
    static let protectedMode =
        "DENIED feed-server is running in protected mode because protected mode is enabled and no password "
        + "is set for the default user. In this mode connections are only accepted from the loopback interface. "
        + "If you want to connect from external computers to feed-server you may adopt one of the following "
        + "solutions: 1) Set a password with --requirepass (or FEED_REQUIREPASS), and make clients AUTH with it. "
        + "2) Disable protected mode by restarting the server with '--protected-mode no', but MAKE SURE the "
        + "server is not publicly accessible from internet if you do so. NOTE: You only need to do one of the "
        + "above things in order for the server to start accepting connections from the outside."
}
