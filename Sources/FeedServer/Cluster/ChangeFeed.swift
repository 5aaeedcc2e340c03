import Synchronization
import Timeline

/// What the journal writer adds to the change feed for one batch.
struct ChangeFeedEntry: Sendable {
    /// The advisory lock that orders positions (`pg_advisory_xact_lock`).
    static let lock: Int64 = 0x6665_6564_6368_6e67
    /// The NOTIFY channel that wakes the other nodes.
    static let channel = "feed_changes"

    let node: Int
    let at: Int64
    let mutations: [FeedMutation]
}

/// This node's side of the change feed (docs/adr/0015-cluster.md): its
/// number in the cluster, how far it has applied the other nodes' changes,
/// the doorbell their NOTIFY rings, and what it has counted.
final class ChangeFeed: Sendable {
    /// This node's number (its rows are skipped when read back); -1 until registered.
    let node = Atomic<Int>(-1)
    /// Every change up to this position is applied here (or was in the store when it loaded).
    let applied = Atomic<Int64>(0)
    /// The newest position seen in the feed, applied or not.
    let newest = Atomic<Int64>(0)
    /// Rows seen and not yet applied here.
    var behind: Int { Int(Swift.max(0, self.newest.load(ordering: .relaxed) - self.applied.load(ordering: .relaxed))) }
    let changesApplied = Atomic<Int>(0)
    let entriesRead = Atomic<Int>(0)
    let faults = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    /// Milliseconds from the newest applied entry's commit to its apply here.
    let lastLagMilliseconds = Atomic<Int>(0)

    private struct Bell {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let bell = Mutex(Bell())

    /// Wakes the applier (NOTIFY arrived, or someone waits for it to catch up).
    func ring() {
        let waiter = self.bell.withLock { bell -> CheckedContinuation<Void, Never>? in
            guard let waiter = bell.waiter else {
                bell.rung = true
                return nil
            }
            bell.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns when rung (at once if rung since the last wait), or after `limit`.
    func waitForRing(atMost limit: Duration) async {
        let timer = Task {
            guard (try? await Task.sleep(for: limit)) != nil else { return }
            self.ring()
        }
        defer { timer.cancel() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = self.bell.withLock { bell -> Bool in
                if bell.rung {
                    bell.rung = false
                    return true
                }
                bell.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Waits until every change up to `position` is applied here; false after `limit`.
    func waitUntilApplied(_ position: Int64, atMost limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        self.ring()
        while self.applied.load(ordering: .acquiring) < position {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return true
    }
}
