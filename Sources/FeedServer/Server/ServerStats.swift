import Synchronization

/// Server-wide counters for INFO. Connections add to them once per read batch,
/// not once per command, so the shared cache lines are touched rarely.
public final class ServerStats: Sendable {
    let connectionsReceived = Atomic<Int>(0)
    let rejectedConnections = Atomic<Int>(0)
    let commandsProcessed = Atomic<Int>(0)
    let netInputBytes = Atomic<Int>(0)
    let netOutputBytes = Atomic<Int>(0)
    let errorReplies = Atomic<Int>(0)
    let protocolErrors = Atomic<Int>(0)
    let outputLimitDisconnections = Atomic<Int>(0)
    let opsPerSecond = RateSampler()

    public init() {}

    /// What one connection did during one read batch.
    struct Batch {
        var commands = 0
        var inputBytes = 0
        var outputBytes = 0
        var errorReplies = 0

        var isEmpty: Bool { self.commands == 0 && self.inputBytes == 0 && self.outputBytes == 0 }
    }

    func record(_ batch: Batch) {
        if batch.commands > 0 { self.commandsProcessed.add(batch.commands, ordering: .relaxed) }
        if batch.inputBytes > 0 { self.netInputBytes.add(batch.inputBytes, ordering: .relaxed) }
        if batch.outputBytes > 0 { self.netOutputBytes.add(batch.outputBytes, ordering: .relaxed) }
        if batch.errorReplies > 0 { self.errorReplies.add(batch.errorReplies, ordering: .relaxed) }
    }

    /// CONFIG RESETSTAT.
    func reset() {
        self.connectionsReceived.store(0, ordering: .relaxed)
        self.rejectedConnections.store(0, ordering: .relaxed)
        self.commandsProcessed.store(0, ordering: .relaxed)
        self.netInputBytes.store(0, ordering: .relaxed)
        self.netOutputBytes.store(0, ordering: .relaxed)
        self.errorReplies.store(0, ordering: .relaxed)
        self.protocolErrors.store(0, ordering: .relaxed)
        self.outputLimitDisconnections.store(0, ordering: .relaxed)
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
