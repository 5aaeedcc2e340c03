import CFeedSystem
import Synchronization
import Timeline

/// `--maxmemory`: keeps the memory the server uses near a bound.
///
/// Used memory is reckoned, not asked of the allocator: glibc's `mallinfo2`
/// walks every free chunk under malloc's own lock (54 ms with a million free
/// chunks, measured here), far too slow to ask before each command. The
/// reckoning, which follows the resident set (bench/memory_bound.py):
/// - resident pages backed by files (code and libraries) when the listener
///   opened — not sampled after, so used memory does not jump when a code
///   path runs for the first time (RSS runs a few MB above for that);
/// - anonymous memory the process had at start-up (runtime, stacks);
/// - the engine's running estimate of what it holds (kept as it changes,
///   sized as the allocator sizes it), plus the journal's bytes, plus 8% for
///   the allocator's own granules and free lists and other buffers, as
///   measured here against malloc_stats.
///
/// Over the bound, with PostgreSQL behind the engine, a command first evicts
/// what the store can give back, until it is under the bound. Writes the store
/// does not have yet cannot go; they may hold memory past the bound for a
/// flush interval (the journal's own bound limits them). If what remains
/// besides them is still over, the write is refused with Redis's `-OOM`.
/// Memory only, nothing can be evicted, and writes that add state are
/// refused past the bound.
final class MemoryGovernor: Sendable {
    /// Bytes; 0 = no bound. CONFIG SET maxmemory changes it.
    let limit: Atomic<Int>
    /// Anonymous resident bytes at start-up.
    let baseline: Int
    /// File-backed resident bytes when the listener opened.
    let fileResident: Atomic<Int>
    /// Writes refused with -OOM.
    let refusals = Atomic<Int>(0)
    /// Eviction passes run.
    let passes = Atomic<Int>(0)

    /// The allocator's overhead on what the engine and journal hold, in percent.
    static let allocatorOverheadPercent = 8

    init(limit: Int) {
        self.limit = Atomic(limit)
        self.baseline = Int(feed_resident_anonymous_bytes())
        self.fileResident = Atomic(Int(feed_resident_file_bytes()))
    }

    /// Used memory by this reckoning.
    func used(engineBytes: Int, journalBytes: Int) -> Int {
        self.fileResident.load(ordering: .relaxed) + self.baseline
            + (engineBytes + journalBytes) * (100 + Self.allocatorOverheadPercent) / 100
    }

    /// Samples the file-backed resident pages (once start-up is done).
    func sample() {
        self.fileResident.store(Int(feed_resident_file_bytes()), ordering: .relaxed)
    }

    /// Called under the engine lock before a write that can add state.
    /// Evicts if over the bound and a store stands behind the engine;
    /// returns false when the write must be refused.
    func admit(_ engine: inout FeedEngine, journalBytes: Int, canEvict: Bool, now: Int64) -> Bool {
        let limit = self.limit.load(ordering: .relaxed)
        guard limit > 0 else { return true }
        if self.used(engineBytes: engine.estimatedBytes, journalBytes: journalBytes) <= limit { return true }
        guard canEvict else { return false }
        self.evict(&engine, journalBytes: journalBytes, limit: limit, now: now)
        // What is left over the bound may be writes the store does not have
        // yet (in the journal, and in the engine until they are durable):
        // they leave within a flush interval, and the journal's own bound
        // (TRYAGAIN) limits them. Only the rest refuses a write.
        let used = self.used(engineBytes: engine.estimatedBytes, journalBytes: journalBytes)
        return used - 3 * journalBytes <= limit
    }

    /// Brings used memory just under the bound, as far as eviction can, as
    /// Redis does: trimming a cold recent list frees it whole, which spaces
    /// the passes out by itself.
    func evict(_ engine: inout FeedEngine, journalBytes: Int, limit: Int, now: Int64) {
        let used = self.used(engineBytes: engine.estimatedBytes, journalBytes: journalBytes)
        let target = used - limit
        guard target > 0 else { return }
        self.passes.add(1, ordering: .relaxed)
        engine.evict(bytes: target, now: now)
    }
}

extension ServerContext {
    /// As Redis does before every command: over the bound, with a store,
    /// evict until under it. Called under the engine lock by reads (writes
    /// do it in `admit`); one comparison when under the bound.
    func relieveMemory(_ engine: inout FeedEngine) {
        guard self.needsRelief(engine) else { return }
        let limit = self.memory.limit.load(ordering: .relaxed)
        let journalBytes = self.persistence?.journal.backlog.bytes ?? 0
        self.memory.evict(&engine, journalBytes: journalBytes, limit: limit, now: WallClock.milliseconds())
    }

    /// Whether `relieveMemory` would evict: a shared read, which cannot,
    /// then runs exclusively instead.
    func needsRelief(_ engine: borrowing FeedEngine) -> Bool {
        let limit = self.memory.limit.load(ordering: .relaxed)
        guard limit > 0, let persistence = self.persistence else { return false }
        return self.memory.used(engineBytes: engine.estimatedBytes, journalBytes: persistence.journal.backlog.bytes) > limit
    }

    /// Evicts when over the bound, whatever made memory grow, ten times a
    /// second (store answers that fill caches, say).
    func enforceMemoryBound() {
        let memory = self.memory
        let limit = memory.limit.load(ordering: .relaxed)
        guard limit > 0, let persistence = self.persistence else { return }
        let journalBytes = persistence.journal.backlog.bytes
        let now = WallClock.milliseconds()
        self.feed.withEngine { engine in
            if memory.used(engineBytes: engine.estimatedBytes, journalBytes: journalBytes) > limit {
                memory.evict(&engine, journalBytes: journalBytes, limit: limit, now: now)
            }
        }
    }
}
