import Logging
import Synchronization

/// What the rest of the server sees of persistence: the journal, the
/// durability mode, the store for reads, health, and counters for INFO.
final class Persistence: Sendable {
    let settings: PostgresSettings
    let journal: Journal
    /// The store's ids of users, by the engine's numbers.
    let keys = UserKeys()
    /// Set once PostgreSQL is loaded and the store can be queried.
    let store = Mutex<PostgresStore?>(nil)
    let ready = ReadyEvent()

    // Health and counters.
    let isDown = Atomic<Bool>(false)
    let isBacklogFull = Atomic<Bool>(false)
    let batchesWritten = Atomic<Int>(0)
    let entriesWritten = Atomic<Int>(0)
    let lastBatchEntries = Atomic<Int>(0)
    let lastBatchMicroseconds = Atomic<Int>(0)
    let writeErrors = Atomic<Int>(0)
    let tryAgainReplies = Atomic<Int>(0)
    let storeReads = Atomic<Int>(0)
    let loadMilliseconds = Atomic<Int>(0)

    init(settings: PostgresSettings) {
        self.settings = settings
        self.journal = Journal(maxEntries: settings.maxBacklogEntries, maxBytes: settings.maxBacklogBytes)
    }

    var isSync: Bool { self.settings.durability == .sync }

    var currentStore: PostgresStore? { self.store.withLock { $0 } }

    /// A write was refused: log the transition to "full" once.
    func refusedForFullBacklog(logger: Logger) {
        self.tryAgainReplies.add(1, ordering: .relaxed)
        if !self.isBacklogFull.exchange(true, ordering: .relaxed) {
            let backlog = self.journal.backlog
            logger.warning(
                "Persistence backlog full: refusing writes with TRYAGAIN until PostgreSQL catches up",
                metadata: ["entries": "\(backlog.entries)", "bytes": "\(backlog.bytes)"])
        }
    }
}

/// A one-shot event the listener waits on before it opens: persistence
/// loaded (or failed to).
final class ReadyEvent: Sendable {
    private let state = Mutex<(result: Result<Void, any Error>?, waiters: [CheckedContinuation<Void, any Error>])>((nil, []))

    func succeed() { self.complete(.success(())) }
    func fail(_ error: any Error) { self.complete(.failure(error)) }

    private func complete(_ result: Result<Void, any Error>) {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            guard state.result == nil else { return [] }
            state.result = result
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }

    func wait() async throws {
        try await withCheckedThrowingContinuation { continuation in
            let result = self.state.withLock { state -> Result<Void, any Error>? in
                if state.result == nil { state.waiters.append(continuation) }
                return state.result
            }
            if let result { continuation.resume(with: result) }
        }
    }
}
