import CFeedSystem
import Synchronization
import Timeline

/// `--maxmemory`: keeps the memory the server uses near a bound.
///
/// Used memory is what the process held before the engine held anything
/// (code, stacks, buffers: the resident size at start-up), plus the engine's
/// running estimate of what it holds, plus the journal's bytes. It is an
/// estimate kept in O(1) rather than the allocator's count, because
/// glibc's `mallinfo2` walks every free chunk under malloc's own lock (54 ms
/// with a million free chunks, measured here): far too slow to ask on every
/// write. bench/memory-bound checks that it follows the resident size.
///
/// Over the bound, with PostgreSQL behind the engine, a write first evicts
/// what the store can give back (down to 98% of the bound); what cannot be
/// evicted (writes the store does not have yet) stays, and if that is still
/// too much the write is refused with Redis's `-OOM`. Memory only, nothing
/// can be evicted, and writes that add state are refused past the bound.
final class MemoryGovernor: Sendable {
    /// Bytes; 0 = no bound. CONFIG SET maxmemory changes it.
    let limit: Atomic<Int>
    /// Resident bytes before the engine held anything.
    let baseline: Int
    /// Writes refused with -OOM.
    let refusals = Atomic<Int>(0)
    /// Eviction passes run.
    let passes = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = Atomic(limit)
        self.baseline = Int(feed_resident_bytes())
    }

    /// Used memory by this reckoning.
    func used(engineBytes: Int, journalBytes: Int) -> Int {
        self.baseline + engineBytes + journalBytes
    }

    /// Called under the engine lock before a write that can add state.
    /// Evicts if over the bound and a store stands behind the engine;
    /// returns false when the write must be refused.
    func admit(_ engine: inout FeedEngine, journalBytes: Int, canEvict: Bool, now: Int64) -> Bool {
        let limit = self.limit.load(ordering: .relaxed)
        guard limit > 0 else { return true }
        if self.used(engineBytes: engine.estimatedBytes, journalBytes: journalBytes) <= limit { return true }
        if canEvict { self.evict(&engine, journalBytes: journalBytes, limit: limit, now: now) }
        return self.used(engineBytes: engine.estimatedBytes, journalBytes: journalBytes) <= limit
    }

    /// Brings used memory down to 98% of the bound, as far as eviction can.
    func evict(_ engine: inout FeedEngine, journalBytes: Int, limit: Int, now: Int64) {
        let used = self.used(engineBytes: engine.estimatedBytes, journalBytes: journalBytes)
        let target = used - limit * 98 / 100
        guard target > 0 else { return }
        self.passes.add(1, ordering: .relaxed)
        engine.evict(bytes: target, now: now)
    }
}
