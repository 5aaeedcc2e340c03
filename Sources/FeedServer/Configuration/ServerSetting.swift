import Logging
import Timeline

/// One setting, declared once: its name (the flag is `--name`, the
/// configuration file and CONFIG GET say `name`), what it does, how to read
/// and write it in a `ServerConfiguration`, and — for the few CONFIG SET may
/// change — how to apply it to the running server. The command line, the
/// environment (`FEED_NAME`), the configuration file, `--help`, CONFIG
/// GET/SET, the README's table and ops/feed-server.conf all come from
/// `ServerSettings.all`.
public struct ServerSetting: Sendable {
    public let name: String
    public let doc: String
    /// Where the setting is shown: `--help` groups, the README's table.
    public let group: Group
    /// How `--help` and the README state the default when the value would
    /// not say it (`one per core`, `none`).
    let defaultNote: String?
    /// The value as CONFIG GET and the configuration file write it.
    let get: @Sendable (ServerConfiguration) -> String
    /// Sets the value from text, or says what is wrong with it.
    let set: @Sendable (inout ServerConfiguration, String) -> Problem?
    /// Not shown by CONFIG GET (it may hold a password).
    public let secret: Bool
    /// Another variable read after `environment` (DATABASE_URL, as hosting platforms set it).
    public let alsoFrom: String?
    /// CONFIG SET: checks a value and says how to apply it to the running
    /// server; nil for settings read at start-up only.
    let live: ConfigParameters.Setter?
    /// CONFIG GET's value while running, when it can differ from the start-up one.
    let current: (@Sendable (ServerContext) -> String)?

    public enum Group: String, Sendable, CaseIterable {
        case network = "Network and clients"
        case persistence = "Persistence"
        case cluster = "Several nodes"
        case feed = "The feed engine"
        case observability = "Observability and real time"
        case ranking = "The ranked feed"
    }

    enum Problem: Equatable {
        /// Not a value of the setting's kind: "… is not a valid --name".
        case invalid
        /// A value of the right kind out of bounds: "…: reason".
        case reason(String)
    }

    public var environment: String { ConfigFile.variable(of: self.name) }
    public var isLive: Bool { self.live != nil }

    /// The default as `--help`, the README and the example file state it.
    public var defaultText: String { self.defaultNote ?? self.displayed(ServerConfiguration()) }

    /// The value as people write it (sizes in kb/mb/gb where exact).
    func displayed(_ configuration: ServerConfiguration) -> String { self.display(self.get(configuration)) }
    private let display: @Sendable (String) -> String

    init(
        _ name: String, _ group: Group, _ doc: String, defaultNote: String? = nil, secret: Bool = false, alsoFrom: String? = nil,
        display: @escaping @Sendable (String) -> String = { $0 },
        get: @escaping @Sendable (ServerConfiguration) -> String,
        set: @escaping @Sendable (inout ServerConfiguration, String) -> Problem?,
        live: ConfigParameters.Setter? = nil, current: (@Sendable (ServerContext) -> String)? = nil
    ) {
        self.name = name
        self.group = group
        self.doc = doc
        self.defaultNote = defaultNote
        self.secret = secret
        self.alsoFrom = alsoFrom
        self.display = display
        self.get = get
        self.set = set
        self.live = live
        self.current = current
    }

    /// Applies `text` from `origin` (`--name value`, `FEED_NAME=value`,
    /// `file:line: name value`), or throws what a user should read.
    public func apply(_ text: String, from origin: String, to configuration: inout ServerConfiguration) throws(SettingError) {
        switch self.set(&configuration, text) {
        case nil: return
        case .invalid: throw SettingError(message: "\(origin) is not a valid --\(self.name)")
        case .reason(let reason): throw SettingError(message: "\(origin): \(reason)")
        }
    }

    // MARK: Kinds

    static func integer(
        _ name: String, _ group: Group, in range: ClosedRange<Int>, _ doc: String, defaultNote: String? = nil,
        get: @escaping @Sendable (ServerConfiguration) -> Int, set: @escaping @Sendable (inout ServerConfiguration, Int) -> Void,
        live: ConfigParameters.Setter? = nil, current: (@Sendable (ServerContext) -> String)? = nil
    ) -> ServerSetting {
        ServerSetting(name, group, doc, defaultNote: defaultNote, get: { String(get($0)) }, set: { configuration, text in
            guard let value = Int(text) else { return .invalid }
            guard range.contains(value) else { return .reason(Self.between(range)) }
            set(&configuration, value)
            return nil
        }, live: live, current: current)
    }

    static func bytes(
        _ name: String, _ group: Group, atLeast least: Int, _ doc: String,
        get: @escaping @Sendable (ServerConfiguration) -> Int, set: @escaping @Sendable (inout ServerConfiguration, Int) -> Void,
        live: ConfigParameters.Setter? = nil, current: (@Sendable (ServerContext) -> String)? = nil
    ) -> ServerSetting {
        ServerSetting(
            name, group, doc, display: { Int($0).map(ByteSize.text) ?? $0 }, get: { String(get($0)) },
            set: { configuration, text in
                guard let value = ByteSize.parse(text) else { return .invalid }
                guard value >= least else { return .reason("must be at least \(ByteSize.text(least))") }
                set(&configuration, value)
                return nil
            }, live: live, current: current)
    }

    static func duration(
        _ name: String, _ group: Group, atLeast least: Int64 = 0, _ doc: String,
        get: @escaping @Sendable (ServerConfiguration) -> Int64, set: @escaping @Sendable (inout ServerConfiguration, Int64) -> Void
    ) -> ServerSetting {
        ServerSetting(name, group, doc, get: { DurationText.text(get($0)) }, set: { configuration, text in
            guard let value = DurationText.milliseconds(text) else { return .invalid }
            guard value >= least else { return .reason("must be at least \(DurationText.text(least))") }
            set(&configuration, value)
            return nil
        })
    }

    /// A whole number in `range`, or `auto`.
    static func integerOrAuto(
        _ name: String, _ group: Group, in range: ClosedRange<Int>, _ doc: String,
        get: @escaping @Sendable (ServerConfiguration) -> Int?, set: @escaping @Sendable (inout ServerConfiguration, Int?) -> Void
    ) -> ServerSetting {
        ServerSetting(name, group, doc, get: { get($0).map(String.init) ?? "auto" }, set: { configuration, text in
            if text.lowercased() == "auto" {
                set(&configuration, nil)
                return nil
            }
            guard let value = Int(text) else { return .invalid }
            guard range.contains(value) else { return .reason(Self.between(range) + ", or auto") }
            set(&configuration, value)
            return nil
        })
    }

    /// One of `choices` (any case).
    static func choice(
        _ name: String, _ group: Group, _ choices: [String], _ doc: String,
        get: @escaping @Sendable (ServerConfiguration) -> String, set: @escaping @Sendable (inout ServerConfiguration, String) -> Void
    ) -> ServerSetting {
        ServerSetting(name, group, doc, get: get, set: { configuration, text in
            guard choices.contains(text.lowercased()) else { return .invalid }
            set(&configuration, text.lowercased())
            return nil
        })
    }

    static func flag(
        _ name: String, _ group: Group, _ doc: String,
        get: @escaping @Sendable (ServerConfiguration) -> Bool, set: @escaping @Sendable (inout ServerConfiguration, Bool) -> Void
    ) -> ServerSetting {
        ServerSetting(name, group, doc, get: { get($0) ? "yes" : "no" }, set: { configuration, text in
            guard let value = Self.yesNo(text) else { return .invalid }
            set(&configuration, value)
            return nil
        })
    }

    /// Any text; empty means none.
    static func text(
        _ name: String, _ group: Group, _ doc: String, defaultNote: String? = nil, secret: Bool = false, alsoFrom: String? = nil,
        get: @escaping @Sendable (ServerConfiguration) -> String?, set: @escaping @Sendable (inout ServerConfiguration, String?) -> Void
    ) -> ServerSetting {
        ServerSetting(name, group, doc, defaultNote: defaultNote, secret: secret, alsoFrom: alsoFrom, get: { get($0) ?? "" }, set: { configuration, text in
            set(&configuration, text.isEmpty ? nil : text)
            return nil
        })
    }

    /// A ranked-feed weight (RankSettings), kept in `feed.ranking` and, while
    /// running, in the engine (CONFIG SET re-weighs from the next first page).
    static func rank(_ setting: RankSetting) -> ServerSetting {
        ServerSetting(
            setting.name, .ranking, setting.doc, get: { setting.text(of: $0.feed.ranking) },
            set: { configuration, text in setting.apply(text, to: &configuration.feed.ranking).map(Problem.reason) },
            live: { @Sendable text in
                setting.parse(text).map { apply -> @Sendable (ServerContext) -> Void in
                    { @Sendable server in server.feed.withEngine { apply(&$0.rankWeights) } }
                }
            },
            current: { server in setting.text(of: server.feed.withEngine { $0.rankWeights }) })
    }

    static func between(_ range: ClosedRange<Int>) -> String {
        "argument must be between \(range.lowerBound) and \(range.upperBound) inclusive"
    }

    public static func yesNo(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "yes", "true", "1", "on": return true
        case "no", "false", "0", "off": return false
        default: return nil
        }
    }
}

/// A setting refused, in words for whoever set it.
public struct SettingError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { self.message }
}
