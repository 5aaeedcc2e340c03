import Logging
import NIOCore
import RESP
import Timeline

/// Everything the server can be told at start-up. Every field has the default
/// a user of a Redis-style server would expect; `feed-server --help` documents
/// each one and the environment variable that can set it.
public struct ServerConfiguration: Sendable {
    /// Where persistence goes.
    public enum Persistence: String, Sendable, CaseIterable {
        /// Memory only: nothing survives a restart.
        case none
        /// PostgreSQL is the source of truth.
        case postgres
    }

    /// The address to listen on. Loopback by default, so a fresh server is not
    /// reachable from other machines until someone decides it should be.
    public var bindAddress: String = "127.0.0.1"
    /// The TCP port; 0 picks a free one (the log line "listening" tells which).
    public var port: Int = 6380
    /// The password clients must send with AUTH (or HELLO … AUTH); nil for none.
    public var requirePass: String? = nil
    /// With no password set, refuse clients that are not on loopback, as Redis's
    /// protected mode does.
    public var protectedMode: Bool = true
    /// Most clients connected at once; one more is refused with Redis's error.
    public var maxClients: Int = 10_000
    /// Close a client idle for this many seconds; 0 never does (Redis's `timeout`).
    public var idleTimeoutSeconds: Int = 0
    /// Close a client whose unsent replies exceed this many bytes: a client that
    /// sends but never reads cannot make the server buffer without bound.
    public var clientOutputLimit: Int = 256 * 1024 * 1024
    /// Redis's `client-output-buffer-limit pubsub`: a subscriber whose unsent
    /// output passes `hard` bytes, or stays above `soft` for `seconds`, is
    /// closed (Redis's default: 32mb 8mb 60).
    public var pubsubOutputLimit = PubSubOutputLimit()
    /// Framing limits for requests (multibulk count, bulk length).
    public var decoderLimits: RESPDecoderLimits = RESPDecoderLimits()
    /// Event loop threads; one per core by default.
    public var eventLoopThreads: Int = System.coreCount
    /// How much the log says.
    public var logLevel: Logger.Level = .info
    /// Where writes are persisted. PostgreSQL by default: an embedded private
    /// instance unless `postgresURL` names one.
    public var persistence: Persistence = .postgres
    /// How and where PostgreSQL is used.
    public var postgres: PostgresSettings = PostgresSettings()
    /// The feed engine's settings: timeline cap, celebrity threshold,
    /// inactivity, post cache budget, body limit.
    public var feed: FeedConfiguration = FeedConfiguration()
    /// Keep memory near this many bytes (Redis's `maxmemory`): with
    /// PostgreSQL, by evicting what the store can give back; memory only, by
    /// refusing writes with `-OOM`. 0: no limit. CONFIG SET can change it.
    public var maxMemoryBytes: Int = 0
    /// Reads from memory run side by side under a shared engine lock
    /// (docs/adr/0003-engine-ownership.md): more reads a second, a longer
    /// tail for writes mixed in on this 2-core machine. CONFIG SET can change it.
    public var sharedReads = false
    /// How many of the store's newest posts are loaded in the background
    /// after start-up (bounded further by `maxMemoryBytes`).
    public var warmPostLimit: Int = 500_000
    /// The port of the Prometheus `/metrics` endpoint, on `bindAddress`; 0 turns it off.
    public var metricsPort: Int = 9121
    /// The port of the server-sent events endpoint (`GET /events/<user>?token=…`),
    /// on `bindAddress`; 0 (the default) turns it off.
    public var eventsPort: Int = 0
    /// The secret FEED.TOKEN signs with; nil: one made at start-up (tokens
    /// then last until a restart). Servers that share it accept each other's tokens.
    public var eventsSecret: String? = nil
    /// Commands that take at least this many microseconds go to the slow log;
    /// negative turns it off, 0 logs every command (Redis's slowlog-log-slower-than).
    public var slowlogSlowerThanMicroseconds: Int = 10_000
    /// Entries the slow log keeps (Redis's slowlog-max-len).
    public var slowlogMaxLength: Int = 128
    /// Cluster mode (docs/adr/0015-cluster.md): route by Redis Cluster's hash
    /// slots, with the slot map and membership in PostgreSQL.
    public var clusterEnabled = false
    /// The address other nodes and clients reach this node at; nil: `bindAddress`.
    public var clusterAnnounceIP: String? = nil

    public init() {}

    /// Checks every setting against its declaration (ServerSettings), so a
    /// configuration built in code is held to what the command line is (the
    /// server checks it before it listens).
    public func validate() throws(SettingError) {
        for setting in ServerSettings.all {
            var copy = self
            let value = setting.get(self)
            if let problem = setting.set(&copy, value) {
                switch problem {
                case .invalid: throw SettingError(message: "\(setting.name) \(value) is not a valid --\(setting.name)")
                case .reason(let reason): throw SettingError(message: "\(setting.name) \(value): \(reason)")
                }
            }
        }
        if self.clusterEnabled && self.persistence != .postgres {
            throw SettingError(message: "cluster mode needs PostgreSQL (--persistence postgres): the nodes share it")
        }
    }
}

/// When a write is acknowledged, and how the journal reaches PostgreSQL.
public struct PostgresSettings: Sendable {
    public enum Durability: String, Sendable, CaseIterable {
        /// Acknowledge once the write is in memory and journaled; it reaches
        /// PostgreSQL within the flush interval (the loss window on a crash).
        case async
        /// Acknowledge once the batch holding the write has committed.
        case sync
    }

    /// `postgres://user[:password]@host:port/db`; nil runs a private embedded
    /// PostgreSQL in `dataDirectory`.
    public var url: String? = nil
    public var durability: Durability = .async
    /// An async write reaches PostgreSQL within about this long.
    public var flushInterval: Duration = .milliseconds(5)
    /// Most journal entries in one transaction.
    public var batchSize = 2000
    /// Most journal entries, and bytes, waiting for PostgreSQL; past either,
    /// writes get TRYAGAIN.
    public var maxBacklogEntries = 1_000_000
    public var maxBacklogBytes = 512 * 1024 * 1024
    /// Where the embedded PostgreSQL keeps its data (`<dir>/postgres`) and log.
    public var dataDirectory = "data"
    /// fsync for the embedded PostgreSQL. Off only for throwaway test
    /// instances: a process crash loses nothing, a machine crash could.
    public var embeddedFsync = true
    /// How long a graceful shutdown keeps trying to commit the journal.
    public var shutdownFlushTimeout: Duration = .seconds(30)
    /// A batch not committed within this long counts as failed and is retried.
    public var writeTimeout: Duration = .seconds(5)

    public init() {}
}

/// The output a subscriber may leave unread (`--client-output-buffer-limit-pubsub`).
public struct PubSubOutputLimit: Sendable, Equatable {
    public var hard = 32 * 1024 * 1024
    public var soft = 8 * 1024 * 1024
    public var seconds = 60

    public init() {}

    /// `hard soft seconds` as Redis writes it (`32mb 8mb 60`); 0 turns a limit off.
    public init?(_ text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard parts.count == 3, let hard = ByteSize.parse(parts[0]), let soft = ByteSize.parse(parts[1]),
            let seconds = Int(parts[2]), seconds >= 0
        else { return nil }
        self.hard = hard
        self.soft = soft
        self.seconds = seconds
    }

    public var description: String { "\(self.hard) \(self.soft) \(self.seconds)" }
}

/// One receiver's standing against its `PubSubOutputLimit`: over the hard
/// limit at once, or over the soft one for longer than it allows.
struct OutputLimitWatch {
    private var overSoftLimitSince: NIODeadline?

    mutating func isExceeded(unsent: Int, _ limit: PubSubOutputLimit, now: NIODeadline = .now()) -> Bool {
        var over = limit.hard > 0 && unsent > limit.hard
        if limit.soft > 0 && unsent > limit.soft {
            let since = self.overSoftLimitSince ?? now
            self.overSoftLimitSince = since
            if now - since >= .seconds(Int64(limit.seconds)) { over = true }
        } else {
            self.overSoftLimitSince = nil
        }
        return over
    }
}
