import Synchronization
import Timeline

/// The one feed engine of the process and the lock that owns it. Every
/// FEED command takes the lock for the engine call only, then writes its
/// reply after releasing it. docs/adr/0003-engine-ownership.md has the
/// measurements behind choosing one mutex over an owner thread or shards.
final class SharedFeedEngine: Sendable {
    private let engine: Mutex<FeedEngine>

    init(configuration: FeedConfiguration) {
        self.engine = Mutex(FeedEngine(configuration: configuration))
    }

    /// Runs `body` with the engine, exclusively.
    func withEngine<Result: Sendable, Failure: Error>(
        _ body: (inout FeedEngine) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try self.engine.withLock { (engine: inout FeedEngine) throws(Failure) -> Result in try body(&engine) }
    }
}

extension CommandCall {
    /// A write: one engine call under the lock, its mutations journaled in
    /// engine order. Refused with TRYAGAIN, before the engine is touched,
    /// when the journal has no room for `bytes` more. With sync durability the
    /// reply then waits until the write has committed.
    func write<Result: Sendable>(
        bytes: Int, state: inout ConnectionState, _ body: (inout FeedEngine) throws(FeedError) -> Result
    ) throws(CommandError) -> Result {
        guard let persistence = self.server.persistence else { return try self.engine(body) }
        let journal = persistence.journal
        let outcome = self.server.feed.withEngine { engine -> WriteOutcome<Result> in
            guard journal.hasRoom(for: bytes) else { return .refused }
            do throws(FeedError) {
                let result = try body(&engine)
                return .done(result, lsn: journal.append(engine.drainMutations()))
            } catch {
                return .failed(error)
            }
        }
        switch outcome {
        case .done(let result, let lsn):
            if persistence.isSync { state.deferred = .untilCommitted(lsn) }
            return result
        case .refused:
            persistence.refusedForFullBacklog(logger: self.server.logger)
            throw CommandError("TRYAGAIN persistence backlog full")
        case .failed(let error):
            throw .feed(error)
        }
    }

    /// One engine call under the lock; an engine refusal becomes `ERR <reason>`.
    func engine<Result: Sendable>(_ body: (inout FeedEngine) throws(FeedError) -> Result) throws(CommandError) -> Result {
        do throws(FeedError) {
            return try self.server.feed.withEngine(body)
        } catch {
            throw .feed(error)
        }
    }
}

/// What a journaled write came to.
enum WriteOutcome<Result: Sendable>: Sendable {
    case done(Result, lsn: UInt64)
    case refused
    case failed(FeedError)
}
