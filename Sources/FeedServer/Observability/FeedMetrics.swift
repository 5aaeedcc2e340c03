import CFeedSystem
import CoreMetrics
import Prometheus
import Synchronization
import Timeline

/// The server's Prometheus metrics, made through swift-metrics on a
/// swift-prometheus registry of the server's own (so two servers in one
/// process, as in the tests, never share a counter).
///
/// Only the latency histograms are recorded as things happen. Everything the
/// server already counts for INFO (engine, clients, persistence) is read when
/// Prometheus scrapes, so those counts cost the hot path nothing extra.
final class FeedMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusFactory
    let flushDuration: CoreMetrics.Timer
    let flushBatchEntries: Recorder
    private let sampled = Mutex(Sampled())

    /// Latency buckets for commands: 1 µs to 1 s.
    static let commandBuckets: [Duration] = [
        .microseconds(1), .nanoseconds(2500), .microseconds(5), .microseconds(10), .microseconds(25),
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .seconds(1),
    ]
    static let flushBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5),
    ]

    init() {
        self.factory = PrometheusFactory(
            registry: self.registry, help: Self.help,
            durationBuckets: [
                "feed_command_duration_seconds": Self.commandBuckets,
                "feed_persistence_flush_duration_seconds": Self.flushBuckets,
            ],
            valueBuckets: ["feed_persistence_flush_batch_entries": [1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000]])
        self.flushDuration = CoreMetrics.Timer(label: "feed_persistence_flush_duration_seconds", factory: self.factory)
        self.flushBatchEntries = Recorder(label: "feed_persistence_flush_batch_entries", aggregate: true, factory: self.factory)
    }

    func commandTimer(_ command: String) -> CoreMetrics.Timer {
        CoreMetrics.Timer(label: "feed_command_duration_seconds", dimensions: [("command", command)], factory: self.factory)
    }

    /// The text Prometheus scrapes, with every sampled value brought up to date.
    func exposition(of server: ServerContext) -> [UInt8] {
        self.sampled.withLock { self.sample(server, into: &$0) }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64 * 1024)
        self.registry.emit(into: &buffer)
        return buffer
    }

    // MARK: Sampling at scrape time

    private struct Sampled {
        var counters: [String: (counter: CoreMetrics.Counter, last: Int)] = [:]
        var gauges: [String: CoreMetrics.Gauge] = [:]
        /// False while taking new baselines after CONFIG RESETSTAT.
        var recording = true
    }

    /// Runs `reset` (CONFIG RESETSTAT) so that no Prometheus counter loses
    /// or repeats what it counted: what happened before is sampled first,
    /// and the totals after the reset become the new baselines.
    func resetStatistics(of server: ServerContext, _ reset: () -> Void) {
        self.sampled.withLock { sampled in
            self.sample(server, into: &sampled)
            reset()
            sampled.recording = false
            self.sample(server, into: &sampled)
            sampled.recording = true
        }
    }

    /// Brings a counter up to `total`, a count the server keeps itself. A
    /// total that went down (CONFIG RESETSTAT) counts from zero again, so the
    /// Prometheus counter never decreases.
    private func counter(_ name: String, labels: [(String, String)] = [], total: Int, in sampled: inout Sampled) {
        let key = Self.key(name, labels)
        let known = sampled.counters[key] ?? (CoreMetrics.Counter(label: name, dimensions: labels, factory: self.factory), 0)
        let delta = total >= known.last ? total - known.last : total
        if delta > 0 && sampled.recording { known.counter.increment(by: delta) }
        sampled.counters[key] = (known.counter, total)
    }

    private func gauge(_ name: String, labels: [(String, String)] = [], _ value: Int, in sampled: inout Sampled) {
        let key = Self.key(name, labels)
        let gauge = sampled.gauges[key] ?? CoreMetrics.Gauge(label: name, dimensions: labels, factory: self.factory)
        gauge.record(value)
        sampled.gauges[key] = gauge
    }

    private func gauge(_ name: String, seconds value: Double, in sampled: inout Sampled) {
        let gauge = sampled.gauges[name] ?? CoreMetrics.Gauge(label: name, dimensions: [], factory: self.factory)
        gauge.record(value)
        sampled.gauges[name] = gauge
    }

    private static func key(_ name: String, _ labels: [(String, String)]) -> String {
        labels.isEmpty ? name : name + "{" + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
    }

    private func sample(_ server: ServerContext, into sampled: inout Sampled) {
        let (summary, counters, evictions) = server.feed.withEngine { ($0.summary, $0.counters, $0.evictions) }
        let stats = server.stats
        let clients = server.clients.records()
        let traffic = stats.traffic(liveClients: clients)
        let commands = server.commands.allStats
        let errors = server.errors.snapshot
        do {
            // Engine work.
            self.counter("feed_posts_created_total", total: counters.posts, in: &sampled)
            self.counter("feed_reads_total", total: counters.reads, in: &sampled)
            self.counter("feed_fanout_deliveries_total", total: counters.fanoutDeliveries, in: &sampled)
            self.counter("feed_fanouts_skipped_celebrity_total", total: counters.fanoutsSkippedForCelebrity, in: &sampled)
            self.counter("feed_fanout_inactive_followers_skipped_total", total: counters.inactiveFollowersSkipped, in: &sampled)
            self.counter("feed_celebrity_merge_reads_total", total: counters.readsWithCelebrityMerge, in: &sampled)
            self.counter("feed_celebrity_lists_merged_total", total: counters.celebrityListsMerged, in: &sampled)
            self.counter("feed_timeline_rebuilds_total", total: counters.timelineRebuilds, in: &sampled)
            self.counter("feed_timelines_dropped_total", total: counters.timelinesDropped, in: &sampled)
            self.counter("feed_post_cache_hits_total", total: summary.cacheHits, in: &sampled)
            self.counter("feed_post_cache_misses_total", total: summary.cacheMisses, in: &sampled)
            self.counter("feed_post_cache_evictions_total", total: summary.cacheEvictions, in: &sampled)
            // Engine size.
            self.gauge("feed_users", summary.users, in: &sampled)
            self.gauge("feed_posts", summary.posts, in: &sampled)
            self.gauge("feed_follows", summary.follows, in: &sampled)
            self.gauge("feed_mutes", summary.mutes, in: &sampled)
            self.gauge("feed_blocks", summary.blocks, in: &sampled)
            self.counter("feed_reposts_created_total", total: counters.reposts, in: &sampled)
            self.counter("feed_replies_created_total", total: counters.replies, in: &sampled)
            self.counter("feed_entries_filtered_total", total: counters.entriesFiltered, in: &sampled)
            self.counter("feed_reposts_collapsed_total", total: counters.repostsCollapsed, in: &sampled)
            self.counter("feed_ranked_reads_total", total: counters.rankedReads, in: &sampled)
            self.counter("feed_ranked_pages_total", total: counters.rankedPages, in: &sampled)
            self.gauge("feed_ranked_snapshots", summary.rankedSnapshots, in: &sampled)
            self.gauge("feed_affinity_entries", summary.affinityEntries, in: &sampled)
            self.gauge("feed_notification_groups", summary.notificationGroups, in: &sampled)
            self.gauge("feed_notification_sources", summary.notificationSources, in: &sampled)
            self.gauge("feed_resident_timelines", summary.residentTimelines, in: &sampled)
            // Several nodes: the change feed as this node applies it.
            if let changes = server.cluster?.changes {
                self.counter("feed_cluster_changes_applied_total", total: changes.changesApplied.load(ordering: .relaxed), in: &sampled)
                self.gauge("feed_cluster_change_behind", changes.behind, in: &sampled)
                self.gauge("feed_cluster_change_lag_seconds", seconds: Double(changes.lastLagMilliseconds.load(ordering: .relaxed)) / 1000, in: &sampled)
                self.counter("feed_cluster_change_errors_total", total: changes.errors.load(ordering: .relaxed), in: &sampled)
            }
            // --celebrity-threshold auto: authors moved each way.
            self.counter("feed_celebrities_pulled_by_cost_total", total: counters.celebritiesPulledByCost, in: &sampled)
            self.counter("feed_celebrities_pushed_by_cost_total", total: counters.celebritiesPushedByCost, in: &sampled)
            self.gauge("feed_timeline_entries", summary.timelineEntries, in: &sampled)
            self.gauge("feed_celebrities", summary.celebrities, in: &sampled)
            self.gauge("feed_pulled_authors", summary.pulledAuthors, in: &sampled)
            self.gauge("feed_post_cache_bodies", summary.cachedBodies, in: &sampled)
            for (structure, bytes) in [
                ("timelines", summary.timelineBytes), ("recent_posts", summary.recentPostBytes),
                ("follow_graph", summary.followGraphBytes), ("post_metadata", summary.postMetadataBytes),
                ("post_bodies", summary.postBodyBytes), ("likes", summary.likeBytes), ("users", summary.userBytes),
                ("social", summary.socialBytes), ("ranking", summary.rankingBytes),
                ("notifications", summary.notificationBytes),
            ] {
                self.gauge("feed_memory_bytes", labels: [("structure", structure)], bytes, in: &sampled)
            }
            let journalBytes = server.persistence?.journal.backlog.bytes ?? 0
            self.gauge(
                "feed_used_memory_bytes", server.memory.used(engineBytes: summary.totalBytes, journalBytes: journalBytes),
                in: &sampled)
            self.gauge("feed_maxmemory_bytes", server.memory.limit.load(ordering: .relaxed), in: &sampled)
            self.gauge("process_resident_memory_bytes", Int(feed_resident_bytes()), in: &sampled)
            for (kind, total) in [
                ("posts", evictions.posts), ("timelines", evictions.timelines), ("like_sets", evictions.likeSets),
                ("bodies", evictions.bodies),
            ] {
                self.counter("feed_evictions_total", labels: [("kind", kind)], total: total, in: &sampled)
            }
            self.counter("feed_oom_refusals_total", total: server.memory.refusals.load(ordering: .relaxed), in: &sampled)
            self.counter("feed_store_continuations_total", total: counters.storeContinuations, in: &sampled)
            self.counter("feed_store_faults_total", total: counters.storeFaults, in: &sampled)
            // Clients and traffic.
            self.gauge("feed_connected_clients", clients.count, in: &sampled)
            self.gauge("feed_event_streams", server.eventStreams.count.load(ordering: .relaxed), in: &sampled)
            self.gauge("feed_pubsub_channels", server.pubsub.channelCount, in: &sampled)
            self.counter("feed_connections_received_total", total: stats.connectionsReceived.load(ordering: .relaxed), in: &sampled)
            self.counter("feed_rejected_connections_total", total: stats.rejectedConnections.load(ordering: .relaxed), in: &sampled)
            self.counter("feed_protocol_errors_total", total: stats.protocolErrors.load(ordering: .relaxed), in: &sampled)
            self.counter(
                "feed_output_limit_disconnections_total", total: stats.outputLimitDisconnections.load(ordering: .relaxed),
                in: &sampled)
            self.counter("feed_commands_processed_total", total: traffic.commands, in: &sampled)
            self.counter("feed_net_input_bytes_total", total: traffic.inputBytes, in: &sampled)
            self.counter("feed_net_output_bytes_total", total: traffic.outputBytes, in: &sampled)
            self.counter("feed_error_replies_total", total: traffic.errorReplies, in: &sampled)
            // The codes a dashboard plots exist from the start, at 0.
            var codes = Dictionary(errors, uniquingKeysWith: +)
            for code in ["ERR", "TRYAGAIN"] where codes[code] == nil { codes[code] = 0 }
            for (code, count) in codes {
                self.counter("feed_errors_total", labels: [("code", code)], total: count, in: &sampled)
            }
            for command in commands {
                let failed = command.failedCalls.load(ordering: .relaxed)
                let rejected = command.rejectedCalls.load(ordering: .relaxed)
                if failed > 0 || sampled.counters[Self.key("feed_command_failures_total", [("command", command.name)])] != nil {
                    self.counter("feed_command_failures_total", labels: [("command", command.name)], total: failed, in: &sampled)
                }
                if rejected > 0 || sampled.counters[Self.key("feed_command_rejections_total", [("command", command.name)])] != nil {
                    self.counter("feed_command_rejections_total", labels: [("command", command.name)], total: rejected, in: &sampled)
                }
            }
            // Persistence.
            guard let persistence = server.persistence else { return }
            let backlog = persistence.journal.backlog
            self.gauge("feed_postgres_up", persistence.isDown.load(ordering: .relaxed) ? 0 : 1, in: &sampled)
            self.gauge("feed_persistence_backlog_entries", backlog.entries, in: &sampled)
            self.gauge("feed_persistence_backlog_bytes", backlog.bytes, in: &sampled)
            self.gauge("feed_persistence_backlog_max_entries", persistence.journal.maxEntries, in: &sampled)
            self.gauge("feed_persistence_backlog_full", persistence.isBacklogFull.load(ordering: .relaxed) ? 1 : 0, in: &sampled)
            self.counter("feed_persistence_entries_written_total", total: persistence.entriesWritten.load(ordering: .relaxed), in: &sampled)
            self.counter("feed_postgres_errors_total", total: persistence.writeErrors.load(ordering: .relaxed), in: &sampled)
            self.counter("feed_tryagain_replies_total", total: persistence.tryAgainReplies.load(ordering: .relaxed), in: &sampled)
            self.counter("feed_store_reads_total", total: persistence.storeReads.load(ordering: .relaxed), in: &sampled)
        }
    }

    // MARK: Help

    static let help: [String: String] = [
        "feed_command_duration_seconds": "Time to run a command, from its request being framed to its reply being written.",
        "feed_command_failures_total": "Commands that ran and replied with an error, by command.",
        "feed_command_rejections_total": "Commands refused before running (arity, authentication), by command.",
        "feed_errors_total": "Error replies by error code (ERR, TRYAGAIN, ...).",
        "feed_error_replies_total": "Error replies of every kind.",
        "feed_posts_created_total": "Posts created (replies and reposts included).",
        "feed_reposts_created_total": "Reposts created.",
        "feed_replies_created_total": "Replies created.",
        "feed_entries_filtered_total": "Feed entries reads left out: mutes, blocks, hidden reposts, replies to strangers.",
        "feed_reposts_collapsed_total": "Reposts reads left out because the post was shown just below.",
        "feed_ranked_reads_total": "Ranked first pages (FEED.READ … RANKED without PAGE): each ranks the reader's candidates.",
        "feed_ranked_pages_total": "Ranked pages read with a PAGE token.",
        "feed_ranked_snapshots": "Ranked snapshots kept for PAGE tokens.",
        "feed_celebrities_pulled_by_cost_total": "Authors --celebrity-threshold auto moved to pulling.",
        "feed_celebrities_pushed_by_cost_total": "Authors --celebrity-threshold auto moved back to pushing.",
        "feed_cluster_changes_applied_total": "Other nodes' changes applied to this node's engine.",
        "feed_cluster_change_behind": "Change feed rows seen and not yet applied here.",
        "feed_cluster_change_lag_seconds": "From the latest applied row's commit on its node to its apply here.",
        "feed_cluster_change_errors_total": "Failures reading or applying the change feed (retried).",
        "feed_affinity_entries": "Authors in readers' affinity tables (the ranked feed).",
        "feed_notification_groups": "Notification groups in users' notification feeds.",
        "feed_notification_sources": "Actions (likes, reposts, replies, follows, mentions) in notification groups.",
        "feed_mutes": "Mutes in force.",
        "feed_blocks": "Blocks in force.",
        "feed_reads_total": "Home-timeline reads (FEED.READ).",
        "feed_fanout_deliveries_total": "Timeline writes made by fan-out on write.",
        "feed_fanouts_skipped_celebrity_total": "Posts by celebrities, not pushed to followers (pulled on read instead).",
        "feed_fanout_inactive_followers_skipped_total": "Followers skipped by fan-out because they are inactive.",
        "feed_celebrity_merge_reads_total": "Reads that merged the recent posts of at least one celebrity.",
        "feed_celebrity_lists_merged_total": "Celebrity post lists merged into reads, in all.",
        "feed_timeline_rebuilds_total": "Timelines rebuilt from their authors' recent posts on a read.",
        "feed_timelines_dropped_total": "Timelines dropped because their owner became inactive.",
        "feed_post_cache_hits_total": "Post bodies found in the post cache.",
        "feed_post_cache_misses_total": "Post bodies not in the post cache.",
        "feed_post_cache_evictions_total": "Post bodies evicted from the post cache.",
        "feed_users": "Users known to the engine.",
        "feed_posts": "Post records in memory (the store has every post).",
        "feed_follows": "Follow edges.",
        "feed_resident_timelines": "Home timelines held in memory.",
        "feed_timeline_entries": "Post ids held in home timelines.",
        "feed_celebrities": "Authors with more followers than the celebrity threshold.",
        "feed_pulled_authors": "Authors whose recent posts readers merge on read.",
        "feed_post_cache_bodies": "Post bodies in the post cache.",
        "feed_memory_bytes": "Estimated memory by structure.",
        "feed_used_memory_bytes": "Memory the server reckons it uses (INFO used_memory), held near feed_maxmemory_bytes.",
        "feed_maxmemory_bytes": "The maxmemory bound; 0 for none.",
        "feed_evictions_total": "What eviction let go to stay under maxmemory, by kind (posts, timelines, like_sets, bodies).",
        "feed_oom_refusals_total": "Writes refused with OOM past maxmemory.",
        "feed_store_continuations_total": "Reads that went on in PostgreSQL below what memory holds.",
        "feed_store_faults_total": "Commands that fetched a post, its likers or a count from PostgreSQL first.",
        "process_resident_memory_bytes": "Resident set size of the process.",
        "feed_connected_clients": "Clients connected.",
        "feed_event_streams": "Browser event streams open (--events-port).",
        "feed_pubsub_channels": "Pub/sub channels with at least one subscriber.",
        "feed_connections_received_total": "Connections accepted.",
        "feed_rejected_connections_total": "Connections refused (maxclients, protected mode).",
        "feed_protocol_errors_total": "Requests that could not be framed; the connection was closed.",
        "feed_output_limit_disconnections_total": "Clients closed for not reading their replies.",
        "feed_commands_processed_total": "Commands processed.",
        "feed_net_input_bytes_total": "Bytes read from clients.",
        "feed_net_output_bytes_total": "Bytes written to clients.",
        "feed_postgres_up": "1 while the last write to PostgreSQL succeeded.",
        "feed_persistence_backlog_entries": "Acknowledged writes not yet committed to PostgreSQL (the fan-out queue depth).",
        "feed_persistence_backlog_bytes": "Bytes of acknowledged writes not yet committed to PostgreSQL.",
        "feed_persistence_backlog_max_entries": "The backlog's bound; writes get TRYAGAIN once it is reached.",
        "feed_persistence_backlog_full": "1 while the backlog is full and writes are refused with TRYAGAIN.",
        "feed_persistence_entries_written_total": "Journal entries committed to PostgreSQL.",
        "feed_persistence_flush_duration_seconds": "Time to commit one batch to PostgreSQL.",
        "feed_persistence_flush_batch_entries": "Journal entries per committed batch.",
        "feed_postgres_errors_total": "Failed attempts to commit a batch to PostgreSQL.",
        "feed_tryagain_replies_total": "Writes refused with TRYAGAIN because the backlog was full.",
        "feed_store_reads_total": "Requests answered partly from PostgreSQL (evicted bodies, deep pages).",
    ]
}
