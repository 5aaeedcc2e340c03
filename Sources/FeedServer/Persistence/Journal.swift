import DequeModule
import NIOCore
import Synchronization
import Timeline

/// The mutations acknowledged to clients and not yet committed to
/// PostgreSQL, in engine order, each with a log sequence number (LSN).
///
/// Commands append while holding the engine's lock, so journal order is
/// engine order. The writer reads batches from the front and, once a batch
/// has committed, drops it and wakes everyone waiting for those LSNs (sync
/// durability, FEED.SYNC). The journal is bounded in entries and bytes: when
/// full, writes are refused before they touch the engine.
final class Journal: Sendable {
    struct Entry: Sendable {
        let lsn: UInt64
        let mutation: FeedMutation
        let bytes: Int
    }

    /// Bytes an entry is accounted at: its body, if any, plus a fixed part.
    static func size(of mutation: FeedMutation) -> Int {
        switch mutation {
        case .postCreated(_, _, let body, _): return body.utf8.count + 64
        case .userCreated(_, let name): return name.utf8.count + 48
        default: return 48
        }
    }

    private struct Waiter {
        let lsn: UInt64
        let promise: EventLoopPromise<Void>
    }

    private struct State {
        var entries = Deque<Entry>()
        var bytes = 0
        var lastLSN: UInt64 = 0
        var committedLSN: UInt64 = 0
        var waiters: [Waiter] = []
        var writerWake: CheckedContinuation<Void, Never>?
        /// A wake that came while the writer was not waiting: its next wait returns at once.
        var wakePending = false
        var oldestPendingSince: ContinuousClock.Instant?
    }

    let maxEntries: Int
    let maxBytes: Int
    private let state = Mutex(State())
    /// The highest LSN known committed, readable without the lock.
    let committed = Atomic<UInt64>(0)

    init(maxEntries: Int, maxBytes: Int) {
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
    }

    /// Whether `bytes` more fit. Checked under the engine's lock before a
    /// write, so nothing can be appended between the check and the append.
    func hasRoom(for bytes: Int) -> Bool {
        self.state.withLock { $0.entries.count < self.maxEntries && $0.bytes + bytes <= self.maxBytes }
    }

    /// Appends in order; returns the LSN of the last one (the current last LSN
    /// when `mutations` is empty).
    @discardableResult
    func append(_ mutations: [FeedMutation]) -> UInt64 {
        let (lsn, wake) = self.state.withLock { state -> (UInt64, CheckedContinuation<Void, Never>?) in
            guard !mutations.isEmpty else { return (state.lastLSN, nil) }
            if state.entries.isEmpty { state.oldestPendingSince = .now }
            for mutation in mutations {
                state.lastLSN += 1
                let entry = Entry(lsn: state.lastLSN, mutation: mutation, bytes: Self.size(of: mutation))
                state.entries.append(entry)
                state.bytes += entry.bytes
            }
            let wake = state.writerWake
            state.writerWake = nil
            return (state.lastLSN, wake)
        }
        wake?.resume()
        return lsn
    }

    /// The LSN of the last appended entry.
    var lastLSN: UInt64 { self.state.withLock { $0.lastLSN } }

    /// Pending entries and bytes, for INFO.
    var backlog: (entries: Int, bytes: Int) { self.state.withLock { ($0.entries.count, $0.bytes) } }

    /// What the writer needs to decide whether to flush now.
    struct Pending {
        var count: Int
        var oldestAge: Duration
        var waiters: Int
    }

    var pending: Pending {
        self.state.withLock { state in
            Pending(
                count: state.entries.count,
                oldestAge: state.oldestPendingSince.map { .now - $0 } ?? .zero,
                waiters: state.waiters.count)
        }
    }

    /// Up to `limit` entries from the front, left in place until committed.
    func batch(limit: Int) -> [Entry] {
        self.state.withLock { Array($0.entries.prefix(limit)) }
    }

    /// Drops everything up to `lsn` and wakes its waiters.
    func commit(through lsn: UInt64) {
        let ready = self.state.withLock { state -> [EventLoopPromise<Void>] in
            while let first = state.entries.first, first.lsn <= lsn {
                state.bytes -= first.bytes
                state.entries.removeFirst()
            }
            state.oldestPendingSince = state.entries.isEmpty ? nil : .now
            state.committedLSN = max(state.committedLSN, lsn)
            var ready: [EventLoopPromise<Void>] = []
            state.waiters.removeAll { waiter in
                guard waiter.lsn <= state.committedLSN else { return false }
                ready.append(waiter.promise)
                return true
            }
            return ready
        }
        self.committed.store(max(self.committed.load(ordering: .relaxed), lsn), ordering: .releasing)
        for promise in ready { promise.succeed() }
    }

    /// A future that succeeds, on `loop`, once `lsn` has committed.
    func whenCommitted(_ lsn: UInt64, on loop: any EventLoop) -> EventLoopFuture<Void> {
        let promise = loop.makePromise(of: Void.self)
        let (done, wake) = self.state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            if lsn <= state.committedLSN { return (true, nil) }
            state.waiters.append(Waiter(lsn: lsn, promise: promise))
            // Someone is waiting: the writer should flush without delay.
            let wake = state.writerWake
            state.writerWake = nil
            return (false, wake)
        }
        wake?.resume()
        if done { promise.succeed() }
        return promise.futureResult
    }

    /// Suspends the writer until something is appended or waited for, or
    /// `wakeWriter` is called (before or during the wait).
    func waitForWork() async {
        await withCheckedContinuation { continuation in
            let resumeNow = self.state.withLock { state -> Bool in
                if !state.entries.isEmpty || !state.waiters.isEmpty || state.wakePending {
                    state.wakePending = false
                    return true
                }
                state.writerWake = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Wakes the writer (at shutdown), even if it is just about to wait.
    func wakeWriter() {
        let wake = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.writerWake = nil }
            if state.writerWake == nil { state.wakePending = true }
            return state.writerWake
        }
        wake?.resume()
    }
}
