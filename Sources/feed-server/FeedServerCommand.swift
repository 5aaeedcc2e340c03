import ArgumentParser
import FeedServer
import Logging
import NIOCore
import NIOPosix
import RESP
import ServiceLifecycle
import Timeline
import UnixSignals

/// `feed-server`: parses flags (each also settable from the environment),
/// then runs the server until SIGTERM, SIGINT or SHUTDOWN.
@main
struct FeedServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed-server",
        abstract: "A news-feed server that speaks the Redis protocol.",
        discussion: """
            Connect with redis-cli or any Redis client and call FEED.* commands.
            Every option can also be set from the environment variable named in
            its help, or in a configuration file given as the one argument
            (redis.conf syntax: "name value" per line, # comments, include
            path; ops/feed-server.conf lists every setting). The command line
            wins over the environment, the environment over the file.

            The ranked feed (FEED.READ … RANKED), each also CONFIG SET-able:
            \(RankSettings.helpText)
            """
    )

    @Argument(
        parsing: .allUnrecognized,
        help: ArgumentHelp(
            "A configuration file (redis.conf syntax), and the ranked feed's --rank-… <value> settings, listed above.",
            valueName: "config-file"))
    var rankSettings: [String] = []

    @Option(name: .customLong("bind"), help: "Address to listen on. (default: 127.0.0.1, env: FEED_BIND)")
    var bind: String?

    @Option(help: "TCP port; 0 picks a free one. (default: 6380, env: FEED_PORT)")
    var port: Int?

    @Option(help: "Password clients must AUTH with; none by default. (env: FEED_REQUIREPASS)")
    var requirepass: String?

    @Option(
        name: .customLong("protected-mode"),
        help: "yes: without a password, refuse non-loopback clients. (default: yes, env: FEED_PROTECTED_MODE)")
    var protectedMode: String?

    @Option(help: "Most clients connected at once. (default: 10000, env: FEED_MAXCLIENTS)")
    var maxclients: Int?

    @Option(help: "Close clients idle this many seconds; 0 = never. (default: 0, env: FEED_TIMEOUT)")
    var timeout: Int?

    @Option(
        name: .customLong("client-output-limit"),
        help: "Close a client whose unsent replies pass this size, e.g. 64mb. (default: 256mb, env: FEED_CLIENT_OUTPUT_LIMIT)")
    var clientOutputLimit: String?

    @Option(
        name: .customLong("client-output-buffer-limit-pubsub"),
        help: "A subscriber whose unread output passes HARD, or stays above SOFT for SECONDS, is closed: \"HARD SOFT SECONDS\". (default: \"32mb 8mb 60\", env: FEED_CLIENT_OUTPUT_BUFFER_LIMIT_PUBSUB)")
    var clientOutputBufferLimitPubsub: String?

    @Option(
        name: .customLong("proto-max-bulk-len"),
        help: "Longest bulk string a request may carry, e.g. 512mb. (default: 512mb, env: FEED_PROTO_MAX_BULK_LEN)")
    var protoMaxBulkLen: String?

    @Option(
        name: .customLong("max-multibulk-len"),
        help: "Most arguments in one request. (default: 1048576, env: FEED_MAX_MULTIBULK_LEN)")
    var maxMultibulkLen: Int?

    @Option(help: "Event loop threads. (default: one per core, env: FEED_THREADS)")
    var threads: Int?

    @Option(
        name: .customLong("log-level"),
        help: "trace, debug, info, notice, warning, error or critical. (default: info, env: FEED_LOG_LEVEL)")
    var logLevel: String?

    @Option(
        help: "postgres (the source of truth) or none (memory only). (default: postgres, env: FEED_PERSISTENCE)")
    var persistence: String?

    @Option(
        name: .customLong("postgres-url"),
        help: "postgres://user[:password]@host:port/db; without it a private PostgreSQL runs in --data-dir. (env: FEED_POSTGRES_URL or DATABASE_URL)")
    var postgresURL: String?

    @Option(
        name: .customLong("data-dir"),
        help: "Where the embedded PostgreSQL keeps its data. (default: ./data, env: FEED_DATA_DIR)")
    var dataDir: String?

    @Option(
        help: "async: acknowledge once journaled (loss window: the flush interval); sync: once committed. (default: async, env: FEED_DURABILITY)")
    var durability: String?

    @Option(
        name: .customLong("flush-interval"),
        help: "Async writes reach PostgreSQL within about this long, e.g. 5ms. (default: 5ms, env: FEED_FLUSH_INTERVAL)")
    var flushInterval: String?

    @Option(
        name: .customLong("batch-size"),
        help: "Most journal entries per PostgreSQL transaction. (default: 2000, env: FEED_BATCH_SIZE)")
    var batchSize: Int?

    @Option(
        name: .customLong("max-backlog"),
        help: "Most writes waiting for PostgreSQL before new ones get TRYAGAIN. (default: 1000000, env: FEED_MAX_BACKLOG)")
    var maxBacklog: Int?

    @Option(
        name: .customLong("max-backlog-bytes"),
        help: "Most bytes waiting for PostgreSQL before new writes get TRYAGAIN. (default: 512mb, env: FEED_MAX_BACKLOG_BYTES)")
    var maxBacklogBytes: String?

    @Option(
        name: .customLong("shutdown-flush-timeout"),
        help: "How long SIGTERM/SHUTDOWN keeps trying to commit journaled writes; exit status 1 if some remain. (default: 30s, env: FEED_SHUTDOWN_FLUSH_TIMEOUT)")
    var shutdownFlushTimeout: String?

    @Option(
        name: .customLong("postgres-fsync"),
        help: "yes/no: fsync for the embedded PostgreSQL; no only for throwaway test data. (default: yes, env: FEED_POSTGRES_FSYNC)")
    var postgresFsync: String?

    @Option(
        name: .customLong("timeline-cap"),
        help: "Most posts a timeline, and an author's recent list, keeps. (default: 800, env: FEED_TIMELINE_CAP)")
    var timelineCap: Int?

    @Option(
        name: .customLong("celebrity-threshold"),
        help: "Authors with this many followers are pulled at read time, not pushed. (default: 5000, env: FEED_CELEBRITY_THRESHOLD)")
    var celebrityThreshold: Int?

    @Option(
        name: .customLong("repost-falloff"),
        help: "A repost is not shown when its post (or another repost of it) is among this many entries below it; 0 shows every repost. (default: 40, env: FEED_REPOST_FALLOFF)")
    var repostFalloff: Int?

    @Option(
        name: .customLong("notifications-cap"),
        help: "Most notification groups a user keeps (the stalest goes first); 0 turns notifications off. (default: 500, env: FEED_NOTIFICATIONS_CAP)")
    var notificationsCap: Int?

    @Option(
        name: .customLong("inactive-after"),
        help: "Users who have not read for this long get no fan-out, e.g. 7d, 12h, 30s, 500ms. (default: 7d, env: FEED_INACTIVE_AFTER)")
    var inactiveAfter: String?

    @Option(
        name: .customLong("post-cache-mb"),
        help: "Memory for post bodies, in MiB; least recently used go first. (default: 256, env: FEED_POST_CACHE_MB)")
    var postCacheMB: Int?

    @Option(
        help: "Keep memory near this size (100mb, 2gb) by evicting what PostgreSQL can give back; memory only: refuse writes past it with -OOM. 0 = no limit. (default: 0, env: FEED_MAXMEMORY)")
    var maxmemory: String?

    @Option(
        name: .customLong("warm-posts"),
        help: "After start-up, load this many of the newest posts into memory in the background. (default: 500000, env: FEED_WARM_POSTS)")
    var warmPosts: Int?

    @Option(
        name: .customLong("max-body-bytes"),
        help: "Longest post body accepted. (default: 65536, env: FEED_MAX_BODY_BYTES)")
    var maxBodyBytes: Int?

    @Option(
        name: .customLong("metrics-port"),
        help: "Port of the Prometheus /metrics endpoint, on the --bind address; 0 turns it off. (default: 9121, env: FEED_METRICS_PORT)")
    var metricsPort: Int?

    @Option(
        name: .customLong("events-port"),
        help: "Port of the browser event streams (GET /events/<user>?token=…, server-sent events), on the --bind address; 0 turns them off. (default: 0, env: FEED_EVENTS_PORT)")
    var eventsPort: Int?

    @Option(
        name: .customLong("events-secret"),
        help: "Secret FEED.TOKEN signs event-stream tokens with; nodes that share it accept each other's tokens. (default: random at start-up, so tokens last until a restart; env: FEED_EVENTS_SECRET)")
    var eventsSecret: String?

    @Option(
        name: .customLong("slowlog-log-slower-than"),
        help: "Log commands taking at least this many microseconds in SLOWLOG; -1 = off, 0 = all. (default: 10000, env: FEED_SLOWLOG_LOG_SLOWER_THAN)")
    var slowlogLogSlowerThan: Int?

    @Option(
        name: .customLong("slowlog-max-len"),
        help: "Entries SLOWLOG keeps. (default: 128, env: FEED_SLOWLOG_MAX_LEN)")
    var slowlogMaxLen: Int?

    @Option(
        name: .customLong("node-id"),
        help: "This server's number in post ids, 0-1023. (default: 0, env: FEED_NODE_ID)")
    var nodeID: Int?

    func run() async throws {
        let configuration = try self.resolve()
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "feed-server")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
        let context = ServerContext(configuration: configuration, logger: logger)
        let services = ServiceGroup(
            configuration: .init(
                services: context.services(group: group).map {
                    .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
                },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            ))
        do {
            try await services.run()
        } catch {
            logger.critical("feed-server stopped: \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
        try await group.shutdownGracefully()
    }

    /// Flags over environment over defaults, each value checked.
    /// What ArgumentParser left: `--rank-…` flags with their values, and
    /// at most one configuration file path (Redis's `redis-server path`).
    func extraArguments() throws -> (rank: [String: String], configFile: String?) {
        var given: [String: String] = [:]
        var configFile: String? = nil
        var index = 0
        while index < self.rankSettings.count {
            let flag = self.rankSettings[index]
            guard flag.hasPrefix("--") else {
                guard configFile == nil else { throw ValidationError("Unexpected argument '\(flag)' (one configuration file at most)") }
                configFile = flag
                index += 1
                continue
            }
            var name = String(flag.dropFirst(2))
            var value: String? = nil
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard RankSettings.named(name) != nil else { throw ValidationError("Unknown option '\(flag)'") }
            if value == nil {
                guard index + 1 < self.rankSettings.count else { throw ValidationError("Missing value for '\(flag)'") }
                index += 1
                value = self.rankSettings[index]
            }
            given[name.lowercased()] = value
            index += 1
        }
        return (given, configFile)
    }

    /// The ranked feed's weights: `--rank-…` flags, else their variables,
    /// else the configuration file, else the defaults.
    func rankWeights(_ settings: Settings, flags given: [String: String]) throws -> RankWeights {
        var weights = RankWeights()
        for setting in RankSettings.all {
            let below = settings.text(setting.environment)
            let fromFlag = given[setting.name]
            guard let text = fromFlag ?? below?.text else { continue }
            if let reason = setting.apply(text, to: &weights) {
                throw ValidationError(fromFlag != nil ? "--\(setting.name) \(text): \(reason)" : "\(below!.origin): \(reason)")
            }
        }
        return weights
    }

    func resolve() throws -> ServerConfiguration {
        let extra = try self.extraArguments()
        let settings: Settings
        do {
            settings = Settings(file: try extra.configFile.map(ConfigFile.read) ?? [])
        } catch {
            throw ValidationError(error.description)
        }
        var configuration = ServerConfiguration()
        configuration.bindAddress = settings.value(self.bind, "FEED_BIND") ?? configuration.bindAddress
        configuration.port = try settings.parse(self.port, "FEED_PORT", "--port", Int.init) ?? configuration.port
        guard (0...65535).contains(configuration.port) else { throw ValidationError("--port must be 0-65535") }
        configuration.requirePass = settings.value(self.requirepass, "FEED_REQUIREPASS").flatMap { $0.isEmpty ? nil : $0 }
        configuration.protectedMode =
            try settings.parse(self.protectedMode, "FEED_PROTECTED_MODE", "--protected-mode", Self.yesNo)
            ?? configuration.protectedMode
        configuration.maxClients =
            try settings.parse(self.maxclients, "FEED_MAXCLIENTS", "--maxclients", Int.init) ?? configuration.maxClients
        guard configuration.maxClients >= 1 else { throw ValidationError("--maxclients must be at least 1") }
        configuration.idleTimeoutSeconds =
            try settings.parse(self.timeout, "FEED_TIMEOUT", "--timeout", Int.init) ?? configuration.idleTimeoutSeconds
        guard configuration.idleTimeoutSeconds >= 0 else { throw ValidationError("--timeout must be 0 or more") }
        configuration.clientOutputLimit =
            try settings.parse(self.clientOutputLimit, "FEED_CLIENT_OUTPUT_LIMIT", "--client-output-limit", ByteSize.parse)
            ?? configuration.clientOutputLimit
        guard configuration.clientOutputLimit >= 1024 else {
            throw ValidationError("--client-output-limit must be at least 1kb")
        }
        configuration.pubsubOutputLimit =
            try settings.parse(
                self.clientOutputBufferLimitPubsub, "FEED_CLIENT_OUTPUT_BUFFER_LIMIT_PUBSUB", "--client-output-buffer-limit-pubsub",
                PubSubOutputLimit.init) ?? configuration.pubsubOutputLimit
        configuration.decoderLimits.maxBulkLength =
            try settings.parse(self.protoMaxBulkLen, "FEED_PROTO_MAX_BULK_LEN", "--proto-max-bulk-len", ByteSize.parse)
            ?? configuration.decoderLimits.maxBulkLength
        configuration.decoderLimits.maxMultibulkCount =
            try settings.parse(self.maxMultibulkLen, "FEED_MAX_MULTIBULK_LEN", "--max-multibulk-len", Int.init)
            ?? configuration.decoderLimits.maxMultibulkCount
        guard configuration.decoderLimits.maxBulkLength >= 1, configuration.decoderLimits.maxMultibulkCount >= 1 else {
            throw ValidationError("request limits must be at least 1")
        }
        configuration.eventLoopThreads =
            try settings.parse(self.threads, "FEED_THREADS", "--threads", Int.init) ?? configuration.eventLoopThreads
        guard configuration.eventLoopThreads >= 1 else { throw ValidationError("--threads must be at least 1") }
        configuration.logLevel =
            try settings.parse(self.logLevel, "FEED_LOG_LEVEL", "--log-level", { Logger.Level(rawValue: $0.lowercased()) })
            ?? configuration.logLevel
        configuration.persistence =
            try settings.parse(self.persistence, "FEED_PERSISTENCE", "--persistence", {
                ServerConfiguration.Persistence(rawValue: $0.lowercased())
            }) ?? configuration.persistence
        configuration.metricsPort =
            try settings.parse(self.metricsPort, "FEED_METRICS_PORT", "--metrics-port", Int.init) ?? configuration.metricsPort
        guard (0...65535).contains(configuration.metricsPort) else { throw ValidationError("--metrics-port must be 0-65535") }
        configuration.eventsPort =
            try settings.parse(self.eventsPort, "FEED_EVENTS_PORT", "--events-port", Int.init) ?? configuration.eventsPort
        guard (0...65535).contains(configuration.eventsPort) else { throw ValidationError("--events-port must be 0-65535") }
        configuration.eventsSecret = settings.value(self.eventsSecret, "FEED_EVENTS_SECRET").flatMap { $0.isEmpty ? nil : $0 }
        configuration.slowlogSlowerThanMicroseconds =
            try settings.parse(self.slowlogLogSlowerThan, "FEED_SLOWLOG_LOG_SLOWER_THAN", "--slowlog-log-slower-than", Int.init)
            ?? configuration.slowlogSlowerThanMicroseconds
        guard configuration.slowlogSlowerThanMicroseconds >= -1 else {
            throw ValidationError("--slowlog-log-slower-than must be -1 or more")
        }
        configuration.slowlogMaxLength =
            try settings.parse(self.slowlogMaxLen, "FEED_SLOWLOG_MAX_LEN", "--slowlog-max-len", Int.init) ?? configuration.slowlogMaxLength
        guard configuration.slowlogMaxLength >= 0 else { throw ValidationError("--slowlog-max-len must be 0 or more") }
        var feed = configuration.feed
        feed.timelineCap = try settings.parse(self.timelineCap, "FEED_TIMELINE_CAP", "--timeline-cap", Int.init) ?? feed.timelineCap
        feed.recentPostsCap = feed.timelineCap
        feed.celebrityThreshold =
            try settings.parse(self.celebrityThreshold, "FEED_CELEBRITY_THRESHOLD", "--celebrity-threshold", Int.init)
            ?? feed.celebrityThreshold
        feed.repostFalloff =
            try settings.parse(self.repostFalloff, "FEED_REPOST_FALLOFF", "--repost-falloff", Int.init) ?? feed.repostFalloff
        guard (0...feed.maxReadCount).contains(feed.repostFalloff) else {
            throw ValidationError("--repost-falloff must be 0-\(feed.maxReadCount)")
        }
        feed.notificationsCap =
            try settings.parse(self.notificationsCap, "FEED_NOTIFICATIONS_CAP", "--notifications-cap", Int.init)
            ?? feed.notificationsCap
        guard (0...1_000_000).contains(feed.notificationsCap) else {
            throw ValidationError("--notifications-cap must be 0-1000000")
        }
        feed.inactiveAfterMilliseconds =
            try settings.parse(self.inactiveAfter, "FEED_INACTIVE_AFTER", "--inactive-after", DurationText.milliseconds)
            ?? feed.inactiveAfterMilliseconds
        if let megabytes = try settings.parse(self.postCacheMB, "FEED_POST_CACHE_MB", "--post-cache-mb", Int.init) {
            guard megabytes >= 1 else { throw ValidationError("--post-cache-mb must be at least 1") }
            feed.postCacheBytes = megabytes * 1024 * 1024
        }
        feed.maxBodyBytes = try settings.parse(self.maxBodyBytes, "FEED_MAX_BODY_BYTES", "--max-body-bytes", Int.init) ?? feed.maxBodyBytes
        feed.node = try settings.parse(self.nodeID, "FEED_NODE_ID", "--node-id", Int.init) ?? feed.node
        guard feed.timelineCap >= 1 else { throw ValidationError("--timeline-cap must be at least 1") }
        guard feed.celebrityThreshold >= 1 else { throw ValidationError("--celebrity-threshold must be at least 1") }
        guard feed.maxBodyBytes >= 1 else { throw ValidationError("--max-body-bytes must be at least 1") }
        guard (0...1023).contains(feed.node) else { throw ValidationError("--node-id must be 0-1023") }
        feed.backfillCount = min(feed.backfillCount, feed.timelineCap)
        feed.ranking = try self.rankWeights(settings, flags: extra.rank)
        configuration.feed = feed

        configuration.maxMemoryBytes =
            try settings.parse(self.maxmemory, "FEED_MAXMEMORY", "--maxmemory", ByteSize.parse) ?? configuration.maxMemoryBytes
        configuration.warmPostLimit =
            try settings.parse(self.warmPosts, "FEED_WARM_POSTS", "--warm-posts", Int.init) ?? configuration.warmPostLimit
        guard configuration.warmPostLimit >= 0 else { throw ValidationError("--warm-posts must be 0 or more") }

        var postgres = configuration.postgres
        postgres.url = settings.value(self.postgresURL, "FEED_POSTGRES_URL") ?? settings.environment["DATABASE_URL"]
        postgres.dataDirectory = settings.value(self.dataDir, "FEED_DATA_DIR") ?? postgres.dataDirectory
        postgres.durability =
            try settings.parse(self.durability, "FEED_DURABILITY", "--durability", { PostgresSettings.Durability(rawValue: $0.lowercased()) })
            ?? postgres.durability
        if let interval = try settings.parse(self.flushInterval, "FEED_FLUSH_INTERVAL", "--flush-interval", DurationText.milliseconds) {
            postgres.flushInterval = .milliseconds(interval)
        }
        postgres.batchSize = try settings.parse(self.batchSize, "FEED_BATCH_SIZE", "--batch-size", Int.init) ?? postgres.batchSize
        postgres.maxBacklogEntries =
            try settings.parse(self.maxBacklog, "FEED_MAX_BACKLOG", "--max-backlog", Int.init) ?? postgres.maxBacklogEntries
        postgres.maxBacklogBytes =
            try settings.parse(self.maxBacklogBytes, "FEED_MAX_BACKLOG_BYTES", "--max-backlog-bytes", ByteSize.parse)
            ?? postgres.maxBacklogBytes
        if let timeout = try settings.parse(
            self.shutdownFlushTimeout, "FEED_SHUTDOWN_FLUSH_TIMEOUT", "--shutdown-flush-timeout", DurationText.milliseconds)
        {
            postgres.shutdownFlushTimeout = .milliseconds(timeout)
        }
        postgres.embeddedFsync =
            try settings.parse(self.postgresFsync, "FEED_POSTGRES_FSYNC", "--postgres-fsync", Self.yesNo) ?? postgres.embeddedFsync
        guard postgres.batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard postgres.maxBacklogEntries >= 1, postgres.maxBacklogBytes >= 1024 else {
            throw ValidationError("--max-backlog must be at least 1 and --max-backlog-bytes at least 1kb")
        }
        configuration.postgres = postgres
        if let unknown = settings.unknownFileSettings.first { throw ValidationError(unknown) }
        return configuration
    }

    static func yesNo(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "yes", "true", "1", "on": return true
        case "no", "false", "0", "off": return false
        default: return nil
        }
    }
}

/// Reads a setting from a flag, else the environment, else the
/// configuration file, and remembers which the server asked for, so that a
/// file naming a setting that does not exist is refused.
final class Settings {
    let environment = ProcessEnvironment.current
    /// The file's values by variable name (a later line wins), with where each came from.
    private var file: [String: (value: String, origin: String)] = [:]
    private var asked: Set<String> = []

    init(file lines: [ConfigFile.Line] = []) {
        for line in lines { self.file[ConfigFile.variable(of: line.name)] = (line.value, "\(line.origin): \(line.name) \(line.value)") }
    }

    /// The environment's value, else the file's, with how to name it in a message.
    func text(_ variable: String) -> (text: String, origin: String)? {
        self.asked.insert(variable)
        if let text = self.environment[variable] { return (text, "\(variable)=\(text)") }
        return self.file[variable].map { ($0.value, $0.origin) }
    }

    func value(_ flag: String?, _ variable: String) -> String? {
        let below = self.text(variable)
        return flag ?? below?.text
    }

    /// A typed flag, else the variable or the file parsed with `parse`; nil when none is set.
    func parse<T>(_ flag: T?, _ variable: String, _ name: String, _ parse: (String) -> T?) throws -> T? {
        let below = self.text(variable)
        if let flag { return flag }
        guard let below else { return nil }
        guard let value = parse(below.text) else { throw ValidationError("\(below.origin) is not a valid \(name)") }
        return value
    }

    /// A string flag parsed with `parse` (else the variable or the file); nil when none is set.
    func parse<T>(_ flag: String?, _ variable: String, _ name: String, _ parse: (String) -> T?) throws -> T? {
        let below = self.text(variable)
        guard let text = flag ?? below?.text else { return nil }
        guard let value = parse(text) else {
            throw ValidationError(flag != nil ? "\(name) \(text) is not valid" : "\(below!.origin) is not a valid \(name)")
        }
        return value
    }

    /// File lines naming no setting the server has.
    var unknownFileSettings: [String] {
        self.file.filter { !self.asked.contains($0.key) }.map { "\($0.value.origin): no such setting" }.sorted()
    }
}
