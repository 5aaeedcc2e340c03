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
    /// One engine call under the lock; an engine refusal becomes `ERR <reason>`.
    func engine<Result: Sendable>(_ body: (inout FeedEngine) throws(FeedError) -> Result) throws(CommandError) -> Result {
        do throws(FeedError) {
            return try self.server.feed.withEngine(body)
        } catch {
            throw .feed(error)
        }
    }
}
