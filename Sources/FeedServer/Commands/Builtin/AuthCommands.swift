import NIOCore
import RESP
import Synchronization

/// AUTH and HELLO. There is one user, `default`; with `--requirepass` it has
/// that password, without it any password is accepted, as Redis's `nopass`.
enum AuthCommands {
    /// Checks a user/password pair in constant time for the password.
    static func credentialsAreValid(user: ByteBuffer?, password: ByteBuffer, server: ServerContext) -> Bool {
        // User names are case-sensitive in Redis; ours has one user.
        if let user, user.readableBytesView.elementsEqual("default".utf8) == false { return false }
        guard let expected = server.configuration.requirePass else { return true }
        let given = Array(password.readableBytesView)
        let wanted = Array(expected.utf8)
        var difference = given.count ^ wanted.count
        for index in 0..<max(given.count, wanted.count) {
            let a = index < given.count ? given[index] : 0
            let b = index < wanted.count ? wanted[index] : 0
            difference |= Int(a ^ b)
        }
        return difference == 0
    }

    static let auth = CommandSpec(
        "auth", arity: -2, flags: ["noscript", "loading", "stale", "fast", "no_auth", "sentinel", "allow_busy"],
        categories: ["@fast", "@connection"],
        summary: "Authenticates the connection.", since: "1.0.0", group: "connection",
        complexity: "O(N) where N is the number of passwords defined for the user",
        arguments: [
            CommandArgument("username", .string, optional: true),
            CommandArgument("password", .string),
        ]
    ) { call, state in
        switch call.count {
        case 2:
            guard call.server.configuration.requirePass != nil else {
                return state.reply.error(RedisError.noPasswordConfigured)
            }
            if credentialsAreValid(user: nil, password: call.arguments[1], server: call.server) {
                state.authenticated = true
                state.reply.ok()
            } else {
                state.reply.error(RedisError.wrongPass)
            }
        case 3:
            if credentialsAreValid(user: call.arguments[1], password: call.arguments[2], server: call.server) {
                state.authenticated = true
                state.reply.ok()
            } else {
                state.reply.error(RedisError.wrongPass)
            }
        default:
            state.reply.error(RedisError.syntax)
        }
    }

    static let hello = CommandSpec(
        "hello", arity: -1, flags: ["noscript", "loading", "stale", "fast", "no_auth", "sentinel", "allow_busy"],
        categories: ["@fast", "@connection"],
        summary: "Handshakes: picks RESP2 or RESP3, and can authenticate and name the connection.",
        since: "6.0.0", group: "connection",
        arguments: [
            CommandArgument(
                "arguments", .block, optional: true,
                children: [
                    CommandArgument("protover", .integer),
                    CommandArgument(
                        "username-password", .block, token: "AUTH", optional: true,
                        children: [CommandArgument("username", .string), CommandArgument("password", .string)]),
                    CommandArgument("clientname", .string, token: "SETNAME", optional: true),
                ])
        ]
    ) { call, state in
        var version = state.reply.version
        var next = 1
        if call.count >= 2 {
            guard let requested = call.integer(1) else {
                return state.reply.error(RedisError.protocolVersionNotInteger)
            }
            guard requested == 2 || requested == 3 else { return state.reply.error(RedisError.noProto) }
            version = requested == 3 ? .resp3 : .resp2
            next = 2
        }
        var credentials: (user: ByteBuffer, password: ByteBuffer)?
        var name: String?
        var index = next
        while index < call.count {
            let more = call.count - 1 - index
            if call.argument(index, is: "AUTH") && more >= 2 {
                credentials = (call.arguments[index + 1], call.arguments[index + 2])
                index += 3
            } else if call.argument(index, is: "SETNAME") && more >= 1 {
                let candidate = call.string(index + 1)
                guard ClientCommand.isValidName(candidate) else {
                    return state.reply.error(RedisError.invalidClientName)
                }
                name = candidate
                index += 2
            } else {
                return state.reply.error("ERR Syntax error in HELLO option '\(call.string(index))'")
            }
        }
        if let credentials {
            guard credentialsAreValid(user: credentials.user, password: credentials.password, server: call.server)
            else { return state.reply.error(RedisError.wrongPass) }
            state.authenticated = true
        }
        guard state.authenticated else { return state.reply.error(RedisError.helloNoAuth) }
        if let name { state.record.details.withLock { $0.name = name } }
        state.setProtocol(version)

        state.reply.mapHeader(7)
        state.reply.bulk("server")
        state.reply.bulk("feed-server")
        state.reply.bulk("version")
        state.reply.bulk(ServerVersion.redisCompatible)
        state.reply.bulk("proto")
        state.reply.integer(version.rawValue)
        state.reply.bulk("id")
        state.reply.integer(state.id)
        state.reply.bulk("mode")
        state.reply.bulk("standalone")
        state.reply.bulk("role")
        state.reply.bulk("master")
        state.reply.bulk("modules")
        state.reply.arrayHeader(0)
    }
}
