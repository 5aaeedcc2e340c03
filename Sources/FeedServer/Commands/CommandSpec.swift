/// Runs one command: reads `call`, writes its reply into `state.reply`.
typealias CommandHandler = @Sendable (CommandCall, inout ConnectionState) -> Void

/// One command: how it is called, who may call it, and the documentation
/// COMMAND INFO / COMMAND DOCS give (which redis-cli turns into hints).
///
/// A class, so looking one up per request costs one reference, not a copy of
/// every field. Specs are created once, at start-up, and never freed.
final class CommandSpec: Sendable {
    /// Lower case; a subcommand's is `container|sub`, as Redis names them.
    let fullName: String
    /// Redis's convention: N means exactly N arguments (name included), -N at least N.
    let arity: Int
    /// COMMAND INFO flags, e.g. `fast`, `no_auth`, `write`.
    let flags: [String]
    /// ACL categories, e.g. `@fast`, `@connection`.
    let categories: [String]
    /// Position of the first key (the user id for FEED commands), 0 for none;
    /// cluster-aware clients route by it.
    let firstKey: Int
    let summary: String
    let since: String
    /// Redis's command groups, plus `feed` for ours.
    let group: String
    let complexity: String
    let arguments: [CommandArgument]
    /// Container commands (CLIENT, COMMAND, CONFIG) hold their subcommands here.
    let subcommands: [CommandSpec]
    /// Nil for a container that only dispatches.
    let handler: CommandHandler?

    init(
        _ fullName: String,
        arity: Int,
        flags: [String] = [],
        categories: [String] = [],
        firstKey: Int = 0,
        summary: String,
        since: String = "1.0.0",
        group: String,
        complexity: String = "O(1)",
        arguments: [CommandArgument] = [],
        subcommands: [CommandSpec] = [],
        handler: CommandHandler?
    ) {
        self.fullName = fullName
        self.arity = arity
        self.flags = flags
        self.categories = categories
        self.firstKey = firstKey
        self.summary = summary
        self.since = since
        self.group = group
        self.complexity = complexity
        self.arguments = arguments
        self.subcommands = subcommands
        self.handler = handler
    }

    /// May run before the client has authenticated (AUTH, HELLO, QUIT, RESET).
    var allowedBeforeAuth: Bool { self.flags.contains("no_auth") }

    /// Kept out of SLOWLOG, as Redis keeps them: their arguments hold passwords.
    var skipsSlowlog: Bool { self.fullName == "auth" || self.fullName == "hello" }

    /// The name a client types: `ping`, or `setname` for `client|setname`.
    var shortName: String {
        guard let bar = self.fullName.lastIndex(of: "|") else { return self.fullName }
        return String(self.fullName[self.fullName.index(after: bar)...])
    }

    func acceptsArgumentCount(_ count: Int) -> Bool {
        self.arity >= 0 ? count == self.arity : count >= -self.arity
    }
}

/// One argument in COMMAND DOCS, Redis's argument model.
struct CommandArgument: Sendable {
    enum Kind: String, Sendable {
        case string, integer, double, key, pattern
        case pureToken = "pure-token"
        case oneof, block
    }

    let name: String
    let kind: Kind
    let token: String?
    let optional: Bool
    let multiple: Bool
    let children: [CommandArgument]

    init(
        _ name: String,
        _ kind: Kind,
        token: String? = nil,
        optional: Bool = false,
        multiple: Bool = false,
        children: [CommandArgument] = []
    ) {
        self.name = name
        self.kind = kind
        self.token = token
        self.optional = optional
        self.multiple = multiple
        self.children = children
    }

    /// How the argument reads in a usage line: `[COUNT count]`, `<user>`, `NOW|FORCE`.
    var usage: String {
        var text: String
        switch self.kind {
        case .pureToken: text = self.token ?? self.name.uppercased()
        case .oneof: text = self.children.map(\.usage).joined(separator: "|")
        case .block: text = self.children.map(\.usage).joined(separator: " ")
        default: text = self.token.map { "\($0) \(self.name)" } ?? self.name
        }
        if self.multiple { text += " [\(text) ...]" }
        return self.optional ? "[\(text)]" : text
    }
}
