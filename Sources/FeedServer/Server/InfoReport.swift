import CFeedSystem
import Timeline
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// INFO's text: `# Section` headers and `key:value` lines, CRLF-terminated,
/// sections separated by a blank line, exactly as Redis lays it out so that
/// client parsers (redis-py's `info()`, redis-cli) read it unchanged.
struct InfoReport {
    typealias Section = (title: String, lines: [(String, String)])

    let server: ServerContext

    /// The sections plain `INFO` shows, in Redis's order.
    static let defaultSections = [
        "server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats",
        "cluster", "keyspace", "feed",
    ]
    /// Sections `INFO all` and `INFO everything` add, as Redis adds them.
    static let extraSections: [String] = ["commandstats"]

    /// The report for the sections a client asked for (names are case-insensitive;
    /// `default`, `all` and `everything` expand; unknown names add nothing).
    func render(_ requested: [String]) -> String {
        var names: [String] = []
        func add(_ name: String) { if !names.contains(name) { names.append(name) } }
        if requested.isEmpty {
            Self.defaultSections.forEach(add)
        }
        for name in requested.map({ $0.lowercased() }) {
            switch name {
            case "default": Self.defaultSections.forEach(add)
            case "all", "everything": (Self.defaultSections + Self.extraSections).forEach(add)
            default: add(name)
            }
        }
        let sections = names.compactMap { self.section($0) }
        return sections.map { section in
            "# \(section.title)\r\n" + section.lines.map { "\($0.0):\($0.1)\r\n" }.joined()
        }.joined(separator: "\r\n")
    }

    func section(_ name: String) -> Section? {
        switch name {
        case "server": return ("Server", self.serverLines())
        case "clients": return ("Clients", self.clientLines())
        case "memory": return ("Memory", self.memoryLines())
        case "persistence": return ("Persistence", self.persistenceLines())
        case "stats": return ("Stats", self.statsLines())
        case "replication": return ("Replication", self.replicationLines())
        case "cpu": return ("CPU", self.cpuLines())
        case "modules": return ("Modules", [])
        case "errorstats": return ("Errorstats", self.errorLines())
        case "commandstats": return ("Commandstats", self.commandLines())
        case "cluster": return ("Cluster", self.clusterLines())
        case "keyspace": return ("Keyspace", self.keyspaceLines())
        case "feed": return ("Feed", self.feedLines())
        default: return nil
        }
    }

    /// Redis's one field, then the change feed (docs/adr/0015-cluster.md).
    private func clusterLines() -> [(String, String)] {
        guard let cluster = self.server.cluster else { return [("cluster_enabled", "0")] }
        let changes = cluster.changes
        return [
            ("cluster_enabled", "1"),
            ("cluster_change_position", "\(changes.applied.load(ordering: .relaxed))"),
            ("cluster_change_behind", "\(changes.behind)"),
            ("cluster_change_entries_read", "\(changes.entriesRead.load(ordering: .relaxed))"),
            ("cluster_changes_applied", "\(changes.changesApplied.load(ordering: .relaxed))"),
            ("cluster_change_lag_ms", "\(changes.lastLagMilliseconds.load(ordering: .relaxed))"),
            ("cluster_change_store_reads", "\(changes.faults.load(ordering: .relaxed))"),
            ("cluster_change_errors", "\(changes.errors.load(ordering: .relaxed))"),
        ]
    }

    private func serverLines() -> [(String, String)] {
        let configuration = self.server.configuration
        let now = WallClock.microseconds()
        let uptime = (now - self.server.startedAtMicroseconds) / 1_000_000
        var system = utsname()
        uname(&system)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return [
            ("redis_version", ServerVersion.redisCompatible),
            ("feed_server_version", ServerVersion.feedServer),
            ("server_name", "feed-server"),
            ("redis_git_sha1", "00000000"),
            ("redis_git_dirty", "0"),
            ("redis_mode", "standalone"),
            ("os", "\(text(system.sysname)) \(text(system.release)) \(text(system.machine))"),
            ("arch_bits", String(MemoryLayout<Int>.size * 8)),
            ("multiplexing_api", "epoll"),
            ("process_id", String(getpid())),
            ("run_id", self.server.runID),
            ("tcp_port", String(self.server.boundPort.load(ordering: .relaxed))),
            ("server_time_usec", String(now)),
            ("uptime_in_seconds", String(uptime)),
            ("uptime_in_days", String(uptime / 86400)),
            ("hz", "10"),
            ("configured_hz", "10"),
            ("executable", CommandLine.arguments.first ?? ""),
            ("config_file", ""),
            ("event_loop_threads", String(configuration.eventLoopThreads)),
            ("io_threads_active", "0"),
        ]
    }

    private func clientLines() -> [(String, String)] {
        [
            ("connected_clients", String(self.server.clients.count)),
            ("cluster_connections", "0"),
            ("maxclients", String(self.server.configuration.maxClients)),
            ("client_recent_max_input_buffer", "0"),
            ("client_recent_max_output_buffer", "0"),
            ("blocked_clients", "0"),
            ("tracking_clients", "0"),
            ("clients_in_timeout_table", "0"),
            // Browser event streams (--events-port), not RESP clients.
            ("connected_event_streams", String(self.server.eventStreams.count.load(ordering: .relaxed))),
        ]
    }

    /// Redis's memory fields, `used_memory` being the server's own reckoning
    /// (see `MemoryGovernor`), plus what eviction has let go.
    private func memoryLines() -> [(String, String)] {
        let memory = self.server.memory
        let (engineBytes, evictions) = self.server.feed.withEngine { ($0.estimatedBytes, $0.evictions) }
        let journalBytes = self.server.persistence?.journal.backlog.bytes ?? 0
        let used = memory.used(engineBytes: engineBytes, journalBytes: journalBytes)
        let resident = Int(feed_resident_bytes())
        let limit = memory.limit.load(ordering: .relaxed)
        return [
            ("used_memory", String(used)),
            ("used_memory_human", Self.human(used)),
            ("used_memory_rss", String(resident)),
            ("used_memory_rss_human", Self.human(resident)),
            ("used_memory_engine", String(engineBytes)),
            ("used_memory_journal", String(journalBytes)),
            ("used_memory_startup", String(memory.baseline)),
            ("used_memory_code", String(memory.fileResident.load(ordering: .relaxed))),
            ("maxmemory", String(limit)),
            ("maxmemory_human", Self.human(limit)),
            ("maxmemory_policy", self.server.maxmemoryPolicy),
            ("mem_allocator", "libc"),
            ("evicted_posts", String(evictions.posts)),
            ("evicted_timelines", String(evictions.timelines)),
            ("evicted_like_sets", String(evictions.likeSets)),
            ("evicted_bodies", String(evictions.bodies)),
            ("eviction_passes", String(memory.passes.load(ordering: .relaxed))),
            ("eviction_exhausted", String(evictions.exhausted)),
            ("oom_refusals", String(memory.refusals.load(ordering: .relaxed))),
        ]
    }

    private func persistenceLines() -> [(String, String)] {
        var lines: [(String, String)] = [
            ("loading", "0"),
            ("async_loading", "0"),
            ("persistence_mode", self.server.configuration.persistence.rawValue),
        ]
        if let persistence = self.server.persistence {
            let journal = persistence.journal
            let backlog = journal.backlog
            func value(_ counter: borrowing Atomic<Int>) -> String { String(counter.load(ordering: .relaxed)) }
            lines += [
                ("postgres", persistence.settings.url == nil ? "embedded" : "external"),
                ("durability", persistence.settings.durability.rawValue),
                ("postgres_up", persistence.isDown.load(ordering: .relaxed) ? "0" : "1"),
                ("journal_backlog_entries", String(backlog.entries)),
                ("journal_backlog_bytes", String(backlog.bytes)),
                ("journal_backlog_max_entries", String(journal.maxEntries)),
                ("journal_backlog_max_bytes", String(journal.maxBytes)),
                ("journal_backlog_full", persistence.isBacklogFull.load(ordering: .relaxed) ? "1" : "0"),
                ("journal_last_lsn", String(journal.lastLSN)),
                ("journal_committed_lsn", String(journal.committed.load(ordering: .relaxed))),
                ("flush_batches", value(persistence.batchesWritten)),
                ("flush_entries", value(persistence.entriesWritten)),
                ("flush_last_batch_entries", value(persistence.lastBatchEntries)),
                ("flush_last_batch_usec", value(persistence.lastBatchMicroseconds)),
                ("postgres_write_errors", value(persistence.writeErrors)),
                ("tryagain_replies", value(persistence.tryAgainReplies)),
                ("store_reads", value(persistence.storeReads)),
                ("startup_load_ms", value(persistence.loadMilliseconds)),
            ]
        }
        return lines + [
            ("rdb_changes_since_last_save", "0"),
            ("rdb_bgsave_in_progress", "0"),
            ("rdb_last_save_time", String(self.server.startedAtMicroseconds / 1_000_000)),
            ("rdb_last_bgsave_status", "ok"),
            ("aof_enabled", "0"),
            ("aof_rewrite_in_progress", "0"),
            ("aof_last_write_status", "ok"),
        ]
    }

    private func statsLines() -> [(String, String)] {
        let stats = self.server.stats
        let traffic = stats.traffic(liveClients: self.server.clients.records())
        func value(_ counter: borrowing Atomic<Int>) -> String { String(counter.load(ordering: .relaxed)) }
        return [
            ("total_connections_received", value(stats.connectionsReceived)),
            ("total_commands_processed", String(traffic.commands)),
            ("instantaneous_ops_per_sec", String(stats.opsPerSecond.perSecond)),
            ("total_net_input_bytes", String(traffic.inputBytes)),
            ("total_net_output_bytes", String(traffic.outputBytes)),
            ("rejected_connections", value(stats.rejectedConnections)),
            ("expired_keys", "0"),
            ("evicted_keys", String(self.server.feed.withEngine { $0.evictions.posts + $0.evictions.timelines + $0.evictions.likeSets })),
            ("keyspace_hits", "0"),
            ("keyspace_misses", "0"),
            ("pubsub_channels", String(self.server.pubsub.channelCount)),
            ("pubsub_patterns", String(self.server.pubsub.patternCount)),
            ("total_error_replies", String(traffic.errorReplies)),
            ("total_protocol_errors", value(stats.protocolErrors)),
            ("client_output_buffer_limit_disconnections", value(stats.outputLimitDisconnections)),
        ]
    }

    /// `cmdstat_feed.read:calls=3,usec=42,usec_per_call=14.00,rejected_calls=0,failed_calls=0`
    /// for each command that has been called (or refused), as Redis 7 prints them.
    private func commandLines() -> [(String, String)] {
        self.server.commands.allStats.compactMap { stats in
            let calls = stats.calls.load(ordering: .relaxed)
            let rejected = stats.rejectedCalls.load(ordering: .relaxed)
            let failed = stats.failedCalls.load(ordering: .relaxed)
            guard calls > 0 || rejected > 0 || failed > 0 else { return nil }
            let microseconds = stats.nanoseconds.load(ordering: .relaxed) / 1000
            let perCall = calls == 0 ? 0 : Double(microseconds) / Double(calls)
            return (
                "cmdstat_\(stats.name)",
                "calls=\(calls),usec=\(microseconds),usec_per_call=\(Self.format2(perCall)),rejected_calls=\(rejected),failed_calls=\(failed)"
            )
        }
    }

    /// `errorstat_ERR:count=2`, one line per error code seen.
    private func errorLines() -> [(String, String)] {
        self.server.errors.snapshot.map { ("errorstat_\($0.code)", "count=\($0.count)") }
    }

    /// Two decimals, as Redis prints usec_per_call.
    static func format2(_ value: Double) -> String {
        let scaled = Int((value * 100).rounded())
        let fraction = scaled % 100
        return "\(scaled / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    private func keyspaceLines() -> [(String, String)] {
        let users = self.server.feed.withEngine { $0.userCount }
        return users == 0 ? [] : [("db0", "keys=\(users),expires=0,avg_ttl=0")]
    }

    /// The engine's size and what it has done: users, posts, follows,
    /// resident timelines, celebrities, the post cache's hit ratio, fan-out.
    private func feedLines() -> [(String, String)] {
        let (summary, counters, costs) = self.server.feed.withEngine { ($0.summary, $0.counters, $0.celebrityCosts) }
        let lookups = summary.cacheHits + summary.cacheMisses
        let ratio = lookups == 0 ? 1.0 : Double(summary.cacheHits) / Double(lookups)
        let feed = self.server.configuration.feed
        return [
            ("users", String(summary.users)),
            ("posts", String(summary.posts)),
            ("recent_entries", String(summary.recentEntries)),
            ("like_sets", String(summary.likeSets)),
            ("remembered_deletes", String(summary.rememberedDeletes)),
            ("follows", String(summary.follows)),
            ("mutes", String(summary.mutes)),
            ("blocks", String(summary.blocks)),
            ("follows_hiding_reposts", String(summary.hiddenRepostFollows)),
            ("resident_timelines", String(summary.residentTimelines)),
            ("timeline_entries", String(summary.timelineEntries)),
            ("celebrities", String(summary.celebrities)),
            ("pulled_authors", String(summary.pulledAuthors)),
            ("celebrity_threshold", feed.celebrityAuto ? "auto" : String(feed.celebrityThreshold)),
            // Auto's measured costs, and how many authors it moved each way.
            ("celebrity_push_ns", String(Int(costs.pushNanosPerFollower.rounded()))),
            ("celebrity_pull_ns", String(Int(costs.pullNanosPerRead.rounded()))),
            ("celebrities_pulled_by_cost", String(counters.celebritiesPulledByCost)),
            ("celebrities_pushed_by_cost", String(counters.celebritiesPushedByCost)),
            ("timeline_cap", String(feed.timelineCap)),
            ("post_cache_bodies", String(summary.cachedBodies)),
            ("post_cache_hits", String(summary.cacheHits)),
            ("post_cache_misses", String(summary.cacheMisses)),
            ("post_cache_evictions", String(summary.cacheEvictions)),
            ("post_cache_hit_ratio", String(format4(ratio))),
            ("posts_created", String(counters.posts)),
            ("reposts_created", String(counters.reposts)),
            ("replies_created", String(counters.replies)),
            ("entries_filtered", String(counters.entriesFiltered)),
            ("reposts_collapsed", String(counters.repostsCollapsed)),
            ("ranked_reads", String(counters.rankedReads)),
            ("ranked_pages", String(counters.rankedPages)),
            ("ranked_snapshots", String(summary.rankedSnapshots)),
            ("affinity_entries", String(summary.affinityEntries)),
            ("notification_groups", String(summary.notificationGroups)),
            ("notification_sources", String(summary.notificationSources)),
            ("feed_reads", String(counters.reads)),
            ("fanout_deliveries", String(counters.fanoutDeliveries)),
            ("fanouts_skipped_celebrity", String(counters.fanoutsSkippedForCelebrity)),
            ("fanout_inactive_skipped", String(counters.inactiveFollowersSkipped)),
            ("timelines_dropped", String(counters.timelinesDropped)),
            ("timeline_rebuilds", String(counters.timelineRebuilds)),
            ("reads_with_celebrity_merge", String(counters.readsWithCelebrityMerge)),
            ("store_continuations", String(counters.storeContinuations)),
            ("store_faults", String(counters.storeFaults)),
            ("used_memory_timelines", String(summary.timelineBytes)),
            ("used_memory_recent_posts", String(summary.recentPostBytes)),
            ("used_memory_follow_graph", String(summary.followGraphBytes)),
            ("used_memory_post_metadata", String(summary.postMetadataBytes)),
            ("used_memory_post_bodies", String(summary.postBodyBytes)),
            ("used_memory_likes", String(summary.likeBytes)),
            ("used_memory_users", String(summary.userBytes)),
            ("used_memory_social", String(summary.socialBytes)),
            ("used_memory_ranking", String(summary.rankingBytes)),
            ("used_memory_notifications", String(summary.notificationBytes)),
        ]
    }

    /// Four decimals, as a ratio reads best.
    private func format4(_ value: Double) -> String {
        let scaled = Int((value * 10_000).rounded())
        let fraction = String(scaled % 10_000)
        return "\(scaled / 10_000).\(String(repeating: "0", count: 4 - fraction.count))\(fraction)"
    }

    private func replicationLines() -> [(String, String)] {
        [
            ("role", "master"),
            ("connected_slaves", "0"),
            ("master_failover_state", "no-failover"),
            ("master_replid", self.server.runID),
            ("master_repl_offset", "0"),
        ]
    }

    private func cpuLines() -> [(String, String)] {
        var self_ = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &self_)
        func seconds(_ time: timeval) -> String {
            let value = Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000
            return String(format6(value))
        }
        return [
            ("used_cpu_sys", seconds(self_.ru_stime)),
            ("used_cpu_user", seconds(self_.ru_utime)),
        ]
    }

    /// Six decimals, as Redis prints CPU seconds.
    private func format6(_ value: Double) -> String {
        let micros = Int64((value * 1_000_000).rounded())
        let whole = micros / 1_000_000
        let fraction = String(micros % 1_000_000)
        return "\(whole).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)"
    }

    /// Redis's human-readable sizes: 1.50K, 12.34M, with B for bytes.
    static func human(_ bytes: Int) -> String {
        let units: [(Double, String)] = [(1_099_511_627_776, "T"), (1_073_741_824, "G"), (1_048_576, "M"), (1024, "K")]
        for (size, suffix) in units where Double(bytes) >= size {
            let value = (Double(bytes) / size * 100).rounded() / 100
            let whole = Int(value)
            let hundredths = Int(((value - Double(whole)) * 100).rounded())
            return "\(whole).\(hundredths < 10 ? "0" : "")\(hundredths)\(suffix)"
        }
        return "\(bytes)B"
    }
}
