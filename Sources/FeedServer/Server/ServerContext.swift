import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Timeline

/// What every connection shares: configuration, the client registry, the
/// counters, the command table, and a way to ask the server to stop. All of it
/// is immutable or internally synchronised.
public final class ServerContext: Sendable {
    public let configuration: ServerConfiguration
    let clients = ClientRegistry()
    let stats = ServerStats()
    /// Prometheus metrics, error replies by code, the slow log.
    let metrics = FeedMetrics()
    let errors = ErrorStats()
    let slowlog: SlowLog
    let commands: CommandTable
    let logger: Logger
    /// Microseconds since the Unix epoch at start-up.
    let startedAtMicroseconds: Int64
    /// Redis's run_id: 40 random hex characters, new on every start.
    let runID: String
    /// The port actually bound (differs from the configuration when it said 0).
    let boundPort = Atomic<Int>(0)
    let shutdown: ShutdownRequest
    /// The feed engine, behind its lock.
    let feed: SharedFeedEngine
    /// The journal, durability and store when PostgreSQL is on; nil for `--persistence none`.
    let persistence: Persistence?
    /// `--maxmemory`.
    let memory: MemoryGovernor
    /// Channels, patterns and who listens to them.
    let pubsub: PubSubRegistry
    /// The feed channels' events (`feed:<user>`, `posts:<author>`).
    let feedEvents: FeedEvents
    /// This node's part in a cluster; nil unless `--cluster yes`.
    let cluster: ClusterState?
    /// Browser event streams open now (`--events-port`).
    let eventStreams: EventStreamRegistry
    /// Signs and checks the event streams' tokens (FEED.TOKEN).
    let eventTokens: EventTokens

    /// The services that make up the server, in start order: persistence (if
    /// on), then the listener. A service group shuts them down in reverse, so
    /// the listener stops before the journal's last commit.
    public func services(group: any EventLoopGroup) -> [any Service] {
        var services: [any Service] = []
        // Metrics first, so they answer while PostgreSQL loads and until the last commit.
        if self.configuration.metricsPort != 0 { services.append(MetricsService(context: self, group: group)) }
        if let persistence = self.persistence { services.append(PersistenceService(context: self, persistence: persistence)) }
        // Event streams stop before the listener, and open after start-up's loading.
        services.append(FeedServerService(context: self, group: group))
        if self.configuration.eventsPort != 0 { services.append(EventStreamService(context: self, group: group)) }
        return services
    }

    /// Redis's name for what happens past maxmemory: with a store, the
    /// least recently used of what it can give back goes; memory only, writes
    /// are refused.
    var maxmemoryPolicy: String { self.persistence == nil ? "noeviction" : "allkeys-lru" }

    public init(configuration: ServerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.commands = CommandTable(BuiltinCommands.all + FeedCommands.all + PubSubCommands.all, metrics: self.metrics)
        self.slowlog = SlowLog(
            slowerThanMicroseconds: configuration.slowlogSlowerThanMicroseconds, maxLength: configuration.slowlogMaxLength)
        var feed = configuration.feed
        feed.recordsMutations = configuration.persistence == .postgres
        // What follows from the timeline cap: the recent lists keep as many; a follow copies at most that.
        feed.recentPostsCap = feed.timelineCap
        feed.backfillCount = Swift.min(feed.backfillCount, feed.timelineCap)
        self.feed = SharedFeedEngine(configuration: feed, sharedReads: configuration.sharedReads)
        self.persistence = configuration.persistence == .postgres ? Persistence(settings: configuration.postgres) : nil
        self.memory = MemoryGovernor(limit: configuration.maxMemoryBytes)
        self.pubsub = PubSubRegistry()
        self.eventStreams = EventStreamRegistry()
        self.feedEvents = FeedEvents(pubsub: self.pubsub, streams: self.eventStreams)
        self.cluster = configuration.clusterEnabled ? ClusterState() : nil
        self.eventTokens = EventTokens(secret: configuration.eventsSecret.map { Array($0.utf8) } ?? EventTokens.randomSecret())
        self.startedAtMicroseconds = WallClock.microseconds()
        var generator = SystemRandomNumberGenerator()
        self.runID = String((0..<40).map { _ in "0123456789abcdef".randomElement(using: &generator)! })
        self.shutdown = ShutdownRequest()
    }
}

/// A one-shot request to stop the server, made by SHUTDOWN or by the service
/// group's graceful shutdown, and awaited by the server's service.
public final class ShutdownRequest: Sendable {
    private let state = Mutex<(requested: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public init() {}

    public func request() {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.requested else { return [] }
            state.requested = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    public var isRequested: Bool { self.state.withLock { $0.requested } }

    /// Returns once `request()` has been called (at once if it already was),
    /// or when the calling task is cancelled.
    public func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = self.state.withLock { state -> Bool in
                    if state.requested { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.request()
        }
    }
}
