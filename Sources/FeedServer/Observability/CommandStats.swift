import Metrics
import Synchronization

/// What the server counts of one command or subcommand: Redis's
/// commandstats (calls, time, rejected and failed calls) and, for
/// Prometheus, a latency histogram.
///
/// Calls and time are added by each connection in batches (see
/// `CommandTally`), so two event loops running the same command do not fight
/// over one cache line per request.
final class CommandStats: Sendable {
    /// Redis's name: `feed.read`, `config|get`.
    let name: String
    let calls = Atomic<Int>(0)
    let nanoseconds = Atomic<Int>(0)
    /// Refused before running: wrong number of arguments, not authenticated.
    let rejectedCalls = Atomic<Int>(0)
    /// Ran and replied with an error.
    let failedCalls = Atomic<Int>(0)
    /// Time from the request being framed to its reply being written.
    let latency: Metrics.Timer

    init(name: String, metrics: FeedMetrics) {
        self.name = name
        self.latency = metrics.commandTimer(name)
    }

    func reset() {
        self.calls.store(0, ordering: .relaxed)
        self.nanoseconds.store(0, ordering: .relaxed)
        self.rejectedCalls.store(0, ordering: .relaxed)
        self.failedCalls.store(0, ordering: .relaxed)
    }
}

/// A connection's running count for the command it is running over and over
/// (a pipeline of the same command, the common case), added to the shared
/// `CommandStats` when the command changes or the read batch ends.
struct CommandTally {
    private var stats: CommandStats?
    private var calls = 0
    private var nanoseconds = 0

    mutating func add(_ stats: CommandStats, nanoseconds: Int) {
        if self.stats !== stats {
            self.publish()
            self.stats = stats
        }
        self.calls += 1
        self.nanoseconds += nanoseconds
    }

    mutating func publish() {
        guard let stats = self.stats, self.calls > 0 else { return }
        stats.calls.add(self.calls, ordering: .relaxed)
        stats.nanoseconds.add(self.nanoseconds, ordering: .relaxed)
        self.calls = 0
        self.nanoseconds = 0
    }
}
