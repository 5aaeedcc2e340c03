import Synchronization

/// Server-wide counters for INFO.
///
/// The per-request counters (commands, bytes, error replies) are kept by each
/// connection in its own `ClientRecord`, so two event loops never write the
/// same cache line; a connection adds its totals here when it closes, and
/// reading a total sums these with the live connections'.
public final class ServerStats: Sendable {
    let connectionsReceived = Atomic<Int>(0)
    let rejectedConnections = Atomic<Int>(0)
    let protocolErrors = Atomic<Int>(0)
    let outputLimitDisconnections = Atomic<Int>(0)
    /// Totals of connections that have closed.
    let closed = TrafficCounters()
    let opsPerSecond = RateSampler()

    public init() {}

    /// CONFIG RESETSTAT.
    func reset(liveClients: [ClientRecord]) {
        self.connectionsReceived.store(0, ordering: .relaxed)
        self.rejectedConnections.store(0, ordering: .relaxed)
        self.protocolErrors.store(0, ordering: .relaxed)
        self.outputLimitDisconnections.store(0, ordering: .relaxed)
        self.closed.reset()
        for client in liveClients { client.traffic.reset() }
    }

    /// Totals over closed and live connections.
    func traffic(liveClients: [ClientRecord]) -> TrafficCounters.Snapshot {
        var total = self.closed.snapshot
        for client in liveClients { total.add(client.traffic.snapshot) }
        return total
    }
}

/// Requests and bytes one connection (or all closed ones) accounted for.
final class TrafficCounters: Sendable {
    let commands = Atomic<Int>(0)
    let inputBytes = Atomic<Int>(0)
    let outputBytes = Atomic<Int>(0)
    let errorReplies = Atomic<Int>(0)

    struct Snapshot {
        var commands = 0
        var inputBytes = 0
        var outputBytes = 0
        var errorReplies = 0

        var isEmpty: Bool { self.commands == 0 && self.inputBytes == 0 && self.outputBytes == 0 && self.errorReplies == 0 }

        mutating func add(_ other: Snapshot) {
            self.commands += other.commands
            self.inputBytes += other.inputBytes
            self.outputBytes += other.outputBytes
            self.errorReplies += other.errorReplies
        }
    }

    var snapshot: Snapshot {
        Snapshot(
            commands: self.commands.load(ordering: .relaxed),
            inputBytes: self.inputBytes.load(ordering: .relaxed),
            outputBytes: self.outputBytes.load(ordering: .relaxed),
            errorReplies: self.errorReplies.load(ordering: .relaxed))
    }

    func add(_ batch: Snapshot) {
        if batch.commands > 0 { self.commands.add(batch.commands, ordering: .relaxed) }
        if batch.inputBytes > 0 { self.inputBytes.add(batch.inputBytes, ordering: .relaxed) }
        if batch.outputBytes > 0 { self.outputBytes.add(batch.outputBytes, ordering: .relaxed) }
        if batch.errorReplies > 0 { self.errorReplies.add(batch.errorReplies, ordering: .relaxed) }
    }

    func reset() {
        self.commands.store(0, ordering: .relaxed)
        self.inputBytes.store(0, ordering: .relaxed)
        self.outputBytes.store(0, ordering: .relaxed)
        self.errorReplies.store(0, ordering: .relaxed)
    }
}

/// Redis's instantaneous_ops_per_sec: the mean rate over the last 16 samples,
/// taken every 100 ms by the server.
final class RateSampler: Sendable {
    private struct State {
        var lastTimeMilliseconds: Int64 = 0
        var lastCount = 0
        var rates: [Double] = []
    }

    private let state = Mutex(State())
    private static let window = 16

    func sample(count: Int, nowMilliseconds: Int64) {
        self.state.withLock { state in
            defer {
                state.lastTimeMilliseconds = nowMilliseconds
                state.lastCount = count
            }
            let elapsed = nowMilliseconds - state.lastTimeMilliseconds
            guard state.lastTimeMilliseconds > 0, elapsed > 0 else { return }
            let rate = Double(max(0, count - state.lastCount)) * 1000 / Double(elapsed)
            state.rates.append(rate)
            if state.rates.count > Self.window { state.rates.removeFirst() }
        }
    }

    var perSecond: Int {
        self.state.withLock { state in
            state.rates.isEmpty ? 0 : Int((state.rates.reduce(0, +) / Double(state.rates.count)).rounded())
        }
    }
}
