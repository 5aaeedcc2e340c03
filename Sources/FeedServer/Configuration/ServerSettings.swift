import Foundation
import Logging
import NIOCore
import RESP
import Synchronization
import Timeline

/// Every setting of the server, in the order `--help`, the README and
/// ops/feed-server.conf list them.
public enum ServerSettings {
    public static let all: [ServerSetting] =
        network + persistence + cluster + feed + observability + RankSettings.all.map(ServerSetting.rank)

    private static let network: [ServerSetting] = [
        .text("bind", .network, "Address to listen on.", get: { $0.bindAddress }, set: { $0.bindAddress = $1 ?? "127.0.0.1" }),
        .integer(
            "port", .network, in: 0...65535, "TCP port; 0 picks a free one (the log says which).", get: { $0.port }, set: { $0.port = $1 },
            current: { String($0.boundPort.load(ordering: .relaxed)) }),
        .text(
            "requirepass", .network, "Password for AUTH / HELLO … AUTH.", defaultNote: "none", get: { $0.requirePass },
            set: { $0.requirePass = $1 }),
        .flag(
            "protected-mode", .network, "yes: without a password, refuse non-loopback clients with Redis's -DENIED message.", get: { $0.protectedMode },
            set: { $0.protectedMode = $1 }),
        .integer(
            "maxclients", .network, in: 1...1_000_000, "Most clients connected at once; one more gets -ERR max number of clients reached.", get: { $0.maxClients },
            set: { $0.maxClients = $1 }),
        .integer(
            "timeout", .network, in: 0...Int(Int32.max), "Close clients idle this many seconds; 0 = never.",
            get: { $0.idleTimeoutSeconds }, set: { $0.idleTimeoutSeconds = $1 }),
        .bytes(
            "client-output-limit", .network, atLeast: 1024, "Close a client whose unsent replies pass this size.",
            get: { $0.clientOutputLimit }, set: { $0.clientOutputLimit = $1 }),
        ServerSetting(
            "client-output-buffer-limit-pubsub", .network,
            "A subscriber (or event stream) whose unsent output passes HARD, or stays above SOFT for SECONDS, is closed with one log line: \"HARD SOFT SECONDS\" (0 turns a limit off).",
            get: { $0.pubsubOutputLimit.text }, set: { configuration, text in
                guard let limit = PubSubOutputLimit(text) else { return .invalid }
                configuration.pubsubOutputLimit = limit
                return nil
            }),
        .bytes(
            "proto-max-bulk-len", .network, atLeast: 1, "Longest bulk string in a request.",
            get: { $0.decoderLimits.maxBulkLength }, set: { $0.decoderLimits.maxBulkLength = $1 }),
        .integer(
            "max-multibulk-len", .network, in: 1...Int(Int32.max), "Most arguments in a request.",
            get: { $0.decoderLimits.maxMultibulkCount }, set: { $0.decoderLimits.maxMultibulkCount = $1 }),
        .integer(
            "threads", .network, in: 1...1024, "Event loop threads.", defaultNote: "one per core", get: { $0.eventLoopThreads },
            set: { $0.eventLoopThreads = $1 }),
        .choice(
            "log-level", .network, Logger.Level.allCases.map(\.rawValue),
            "trace, debug, info, notice, warning, error or critical.", get: { $0.logLevel.rawValue },
            set: { $0.logLevel = Logger.Level(rawValue: $1)! }),
    ]

    private static let persistence: [ServerSetting] = [
        .choice(
            "persistence", .persistence, ServerConfiguration.Persistence.allCases.map(\.rawValue),
            "postgres (the source of truth) or none (memory only).", get: { $0.persistence.rawValue },
            set: { $0.persistence = ServerConfiguration.Persistence(rawValue: $1)! }),
        .text(
            "postgres-url", .persistence,
            "postgres://user[:password]@host:port/db (?sslmode=require; ?host=/socket/dir for a unix socket); without it a private PostgreSQL runs in --data-dir. DATABASE_URL also works.",
            defaultNote: "none", secret: true, alsoFrom: "DATABASE_URL", get: { $0.postgres.url }, set: { $0.postgres.url = $1 }),
        .text(
            "data-dir", .persistence, "Where the embedded PostgreSQL keeps its data and log.", get: { $0.postgres.dataDirectory },
            set: { $0.postgres.dataDirectory = $1 ?? "data" }),
        .choice(
            "durability", .persistence, PostgresSettings.Durability.allCases.map(\.rawValue),
            "async: reply once journaled (loss window: the flush interval); sync: reply once committed.",
            get: { $0.postgres.durability.rawValue }, set: { $0.postgres.durability = PostgresSettings.Durability(rawValue: $1)! }),
        .duration(
            "flush-interval", .persistence, atLeast: 1, "An async write reaches PostgreSQL within about this long.",
            get: { $0.postgres.flushInterval.milliseconds }, set: { $0.postgres.flushInterval = .milliseconds($1) }),
        .integer(
            "batch-size", .persistence, in: 1...1_000_000, "Most journal entries per PostgreSQL transaction.",
            get: { $0.postgres.batchSize }, set: { $0.postgres.batchSize = $1 }),
        .integer(
            "max-backlog", .persistence, in: 1...Int(Int32.max), "Most writes waiting for PostgreSQL; past it, writes get TRYAGAIN.",
            get: { $0.postgres.maxBacklogEntries }, set: { $0.postgres.maxBacklogEntries = $1 }),
        .bytes(
            "max-backlog-bytes", .persistence, atLeast: 1024, "Most bytes waiting for PostgreSQL; past it, writes get TRYAGAIN.",
            get: { $0.postgres.maxBacklogBytes }, set: { $0.postgres.maxBacklogBytes = $1 }),
        .duration(
            "shutdown-flush-timeout", .persistence,
            "How long SIGTERM/SHUTDOWN keeps trying to commit journaled writes; exit status 1 if some remain.",
            get: { $0.postgres.shutdownFlushTimeout.milliseconds }, set: { $0.postgres.shutdownFlushTimeout = .milliseconds($1) }),
        .flag(
            "postgres-fsync", .persistence, "fsync for the embedded PostgreSQL; no only for throwaway test data.",
            get: { $0.postgres.embeddedFsync }, set: { $0.postgres.embeddedFsync = $1 }),
    ]

    private static let feed: [ServerSetting] = [
        .integer(
            "timeline-cap", .feed, in: 1...1_000_000, "Posts a timeline (and an author's recent list) keeps.",
            get: { $0.feed.timelineCap }, set: { $0.feed.timelineCap = $1 }),
        .integerOrAuto(
            "celebrity-threshold", .feed, in: 1...Int(Int32.max),
            "Followers at which an author's posts are pulled at read time, not pushed; auto: pulled when pushing them costs more than their followers' reads pay for pulling them (measured).",
            get: { $0.feed.celebrityAuto ? nil : $0.feed.celebrityThreshold },
            set: { configuration, value in
                configuration.feed.celebrityAuto = value == nil
                if let value { configuration.feed.celebrityThreshold = value }
            }),
        .duration(
            "celebrity-rate-half-life", .feed, atLeast: 1, "With --celebrity-threshold auto: posting and reading rates halve over this long.",
            get: { $0.feed.celebrityRateHalfLifeMilliseconds }, set: { $0.feed.celebrityRateHalfLifeMilliseconds = $1 }),
        .duration(
            "celebrity-recheck", .feed, "With --celebrity-threshold auto: an author's side is judged again at most this often.",
            get: { $0.feed.celebrityRecheckMilliseconds }, set: { $0.feed.celebrityRecheckMilliseconds = $1 }),
        .integer(
            "repost-falloff", .feed, in: 0...FeedConfiguration().maxReadCount,
            "A repost is not shown when its post (or another repost of it) is among this many entries below it; 0 shows every repost.",
            get: { $0.feed.repostFalloff }, set: { $0.feed.repostFalloff = $1 }),
        .integer(
            "notifications-cap", .feed, in: 0...1_000_000,
            "Most notification groups a user keeps (the stalest goes first); 0 turns notifications off.",
            get: { $0.feed.notificationsCap }, set: { $0.feed.notificationsCap = $1 }),
        .duration(
            "inactive-after", .feed, "Users who have not read for this long get no fan-out, e.g. 7d, 12h, 30s, 500ms.",
            get: { $0.feed.inactiveAfterMilliseconds }, set: { $0.feed.inactiveAfterMilliseconds = $1 }),
        .integer(
            "post-cache-mb", .feed, in: 1...(1 << 30), "Memory for post bodies, in MiB; the least recently used go first.",
            get: { $0.feed.postCacheBytes / (1024 * 1024) }, set: { $0.feed.postCacheBytes = $1 * 1024 * 1024 }),
        ServerSetting(
            "shared-reads", .feed,
            "yes: reads from memory run side by side on every event loop under a shared engine lock (more reads a second; on 2 cores shared with the clients, a longer tail for writes mixed in); no: one engine call at a time. CONFIG SET changes it.",
            get: { $0.sharedReads ? "yes" : "no" },
            set: { configuration, text in
                guard let value = ServerSetting.yesNo(text) else { return .invalid }
                configuration.sharedReads = value
                return nil
            },
            live: { text in
                guard let value = ServerSetting.yesNo(text) else {
                    return .failure(ConfigParameters.SetFailure(reason: "argument must be 'yes' or 'no'"))
                }
                return .success({ $0.feed.sharesReads = value })
            },
            current: { $0.feed.sharesReads ? "yes" : "no" }),
        .bytes(
            "maxmemory", .feed, atLeast: 0,
            "Keep memory near this size by evicting what PostgreSQL can give back; memory only: refuse writes past it with -OOM. 0 = no limit. CONFIG SET changes it.",
            get: { $0.maxMemoryBytes }, set: { $0.maxMemoryBytes = $1 },
            live: { text in
                guard let bytes = ByteSize.parse(text) else {
                    return .failure(ConfigParameters.SetFailure(reason: "argument must be a memory value"))
                }
                return .success({ $0.memory.limit.store(bytes, ordering: .relaxed) })
            },
            current: { String($0.memory.limit.load(ordering: .relaxed)) }),
        .integer(
            "warm-posts", .feed, in: 0...Int(Int32.max), "Newest posts loaded into memory in the background after start-up.",
            get: { $0.warmPostLimit }, set: { $0.warmPostLimit = $1 }),
        .integer(
            "max-body-bytes", .feed, in: 1...(512 << 20), "Longest post body accepted.", get: { $0.feed.maxBodyBytes },
            set: { $0.feed.maxBodyBytes = $1 }),
        .integer(
            "node-id", .feed, in: 0...1023, "This server's number in post ids (0-1023).", get: { $0.feed.node }, set: { $0.feed.node = $1 }),
    ]

    private static let cluster: [ServerSetting] = [
        .flag(
            "cluster", .cluster,
            "yes: a Redis Cluster node: commands for users of slots other nodes own get -MOVED; the slot map lives in PostgreSQL, shared by the nodes.",
            get: { $0.clusterEnabled }, set: { $0.clusterEnabled = $1 }),
        .text(
            "cluster-announce-ip", .cluster, "The address clients and other nodes reach this node at.",
            defaultNote: "the --bind address", get: { $0.clusterAnnounceIP }, set: { $0.clusterAnnounceIP = $1 }),
    ]

    private static let observability: [ServerSetting] = [
        .integer(
            "metrics-port", .observability, in: 0...65535, "Port of the Prometheus /metrics endpoint, on --bind; 0 turns it off.",
            get: { $0.metricsPort }, set: { $0.metricsPort = $1 }),
        .integer(
            "events-port", .observability, in: 0...65535,
            "Port of the browser event streams (server-sent events: GET /events/<user>?token=…), on --bind; 0 turns them off.",
            get: { $0.eventsPort }, set: { $0.eventsPort = $1 }),
        .text(
            "events-secret", .observability,
            "The key FEED.TOKEN signs with; set it (the same on every node) for tokens that outlive a restart.",
            defaultNote: "random at start-up", secret: true, get: { $0.eventsSecret }, set: { $0.eventsSecret = $1 }),
        .integer(
            "slowlog-log-slower-than", .observability, in: -1...Int.max,
            "Log commands taking at least this many microseconds in SLOWLOG; -1 = off, 0 = all. CONFIG SET changes it.",
            get: { $0.slowlogSlowerThanMicroseconds }, set: { $0.slowlogSlowerThanMicroseconds = $1 },
            live: { text in
                ConfigParameters.integer(text, in: -1...Int.max).map { value in
                    { $0.slowlog.slowerThanMicroseconds.store(value, ordering: .relaxed) }
                }
            },
            current: { String($0.slowlog.slowerThanMicroseconds.load(ordering: .relaxed)) }),
        .integer(
            "slowlog-max-len", .observability, in: 0...Int.max, "Entries SLOWLOG keeps. CONFIG SET changes it.",
            get: { $0.slowlogMaxLength }, set: { $0.slowlogMaxLength = $1 },
            live: { text in
                ConfigParameters.integer(text, in: 0...Int.max).map { value in
                    { server in
                        server.slowlog.maxLength.store(value, ordering: .relaxed)
                        server.slowlog.trim()
                    }
                }
            },
            current: { String($0.slowlog.maxLength.load(ordering: .relaxed)) }),
    ]

    public static func named(_ name: String) -> ServerSetting? {
        let lower = name.lowercased()
        return all.first { $0.name == lower }
    }

    /// `--help`: every setting by group, with its default and variable.
    public static var helpText: String {
        ServerSetting.Group.allCases.map { group in
            "\(group.rawValue):\n"
                + all.filter { $0.group == group }.map {
                    "  --\($0.name) <value>\n      \($0.doc)\n      (default: \($0.defaultText), env: \($0.environment)\($0.isLive ? ", CONFIG SET" : ""))"
                }.joined(separator: "\n")
        }.joined(separator: "\n\n")
    }

    /// The README's settings table.
    public static var readmeTable: String {
        (["| flag | environment | default | what it does |", "|---|---|---|---|"]
            + all.map { setting in
                let value = setting.defaultNote ?? "`\(setting.defaultText)`"
                return "| `--\(setting.name)` | `\(setting.environment)` | \(value) | \(setting.doc.replacingOccurrences(of: "|", with: "\\|")) |"
            })
            .joined(separator: "\n")
    }

    /// ops/feed-server.conf: every setting with its default, by group;
    /// those without a plain default commented out.
    public static var exampleFile: String {
        var lines = [
            "# feed-server configuration, redis.conf syntax: one `name value` per line",
            "# (the name is a flag's without --), # comments, `include path`.",
            "# Run: feed-server /etc/feed-server.conf. The command line wins over the",
            "# environment (FEED_NAME), the environment over this file.",
            "# Every setting is listed with its default; generated from the",
            "# declarations in Sources/FeedServer/Configuration/ServerSettings.swift.",
        ]
        for group in ServerSetting.Group.allCases {
            lines += ["", "# ── \(group.rawValue) ──"]
            for setting in all where setting.group == group {
                lines += ["", "# \(setting.doc)"]
                if setting.defaultNote != nil {
                    lines.append("# \(setting.name) <value>    (default: \(setting.defaultText))")
                } else {
                    let value = setting.defaultText
                    lines.append("\(setting.name) \(value.contains(" ") || value.isEmpty ? "\"\(value)\"" : value)")
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Builds a configuration from the command line's `--name value` pairs,
    /// the environment and a configuration file's lines, in that order of
    /// precedence, every value checked; then the checks across settings.
    public static func configuration(
        flags: [(name: String, value: String)], environment: [String: String], file: [ConfigFile.Line]
    ) throws(SettingError) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        var fromFile: [String: ConfigFile.Line] = [:]
        for line in file {
            guard let setting = Self.named(line.name) else {
                throw SettingError(message: "\(line.origin): \(line.name) \(line.value): no such setting")
            }
            fromFile[setting.name] = line  // a later line wins, as in Redis
        }
        var fromFlags: [String: String] = [:]
        for flag in flags {
            guard let setting = Self.named(flag.name) else { throw SettingError(message: "Unknown option '--\(flag.name)'") }
            fromFlags[setting.name] = flag.value
        }
        for setting in all {
            if let value = fromFlags[setting.name] {
                try setting.apply(value, from: "--\(setting.name) \(value)", to: &configuration)
            } else if let value = environment[setting.environment] {
                try setting.apply(value, from: "\(setting.environment)=\(value)", to: &configuration)
            } else if let variable = setting.alsoFrom, let value = environment[variable] {
                try setting.apply(value, from: "\(variable)=\(value)", to: &configuration)
            } else if let line = fromFile[setting.name] {
                try setting.apply(line.value, from: "\(line.origin): \(line.name) \(line.value)", to: &configuration)
            }
        }
        return configuration
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

extension PubSubOutputLimit {
    /// `32mb 8mb 60`, as the flag takes it.
    var text: String { "\(ByteSize.text(self.hard)) \(ByteSize.text(self.soft)) \(self.seconds)" }
}
