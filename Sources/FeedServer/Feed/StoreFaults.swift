import NIOCore
import RESP
import Synchronization
import Timeline

/// One try at a command against the engine.
enum Attempt<Result: Sendable>: Sendable {
    case done(Result, lsn: UInt64?)
    case error(String)
    /// The engine needs this from the store first.
    case fault(StoreFault)

    init(_ outcome: WriteOutcome<Result>, server: ServerContext) {
        switch outcome {
        case .done(let result, let lsn): self = .done(result, lsn: lsn)
        case .refused:
            server.persistence?.refusedForFullBacklog(logger: server.logger)
            self = .error(CommandError.backlogFull.message)
        case .outOfMemory:
            server.memory.refusals.add(1, ordering: .relaxed)
            self = .error(CommandError.outOfMemory.message)
        case .failed(.notInMemory(let fault)): self = .fault(fault)
        case .failed(let error): self = .error(CommandError.feed(error).message)
        }
    }

    /// A journaled write (`ServerContext.journaledWrite`), after installing
    /// what the store answered; `body` gets the engine and the time.
    static func writing(
        _ server: ServerContext, installing answer: FaultAnswers?, bytes: Int, grows: Bool,
        _ body: (inout FeedEngine, Int64) throws(FeedError) -> Result
    ) -> Attempt {
        let now = WallClock.milliseconds()
        return Attempt(
            server.journaledWrite(bytes: bytes, grows: grows) { (engine) throws(FeedError) in
                answer?.install(into: &engine, now: now)
                return try body(&engine, now)
            }, server: server)
    }

    /// A read-only engine call, after installing what the store answered.
    static func reading(
        _ server: ServerContext, installing answer: FaultAnswers?, _ body: (inout FeedEngine) throws(FeedError) -> Result
    ) -> Attempt {
        do throws(FeedError) {
            let now = WallClock.milliseconds()
            return .done(
                try server.feed.withEngine { (engine) throws(FeedError) in
                    server.relieveMemory(&engine)
                    answer?.install(into: &engine, now: now)
                    return try body(&engine)
                }, lsn: nil)
        } catch .notInMemory(let fault) {
            return .fault(fault)
        } catch {
            return .error(CommandError.feed(error).message)
        }
    }
}

extension CommandCall {
    /// Runs a command that may need the store first: a post memory let go
    /// (FEED.DELETE, FEED.LIKE), its likers, a post count (FEED.STATS). The
    /// first try runs at once; when the engine asks for something, it is
    /// fetched from PostgreSQL, installed in the engine, and the command
    /// runs again — with the connection's later commands waiting behind it,
    /// so a client's commands still take effect in the order it sent them.
    /// `absent` writes the reply when the store has no such post.
    func faulting<Result: Sendable>(
        state: inout ConnectionState,
        attempt: @escaping @Sendable (FaultAnswers?) -> Attempt<Result>,
        absent: @escaping @Sendable (inout ReplyWriter) -> Void,
        reply: @escaping @Sendable (Result, inout ReplyWriter) -> Void
    ) {
        let fault: StoreFault
        switch attempt(nil) {
        case .done(let result, let lsn):
            reply(result, &state.reply)
            if let lsn, self.server.persistence?.isSync == true { state.deferred = .untilCommitted(lsn) }
            return
        case .error(let message):
            return state.reply.error(message)
        case .fault(let first):
            fault = first
        }
        guard let persistence = self.server.persistence, let store = persistence.currentStore else {
            return state.reply.error(CommandError.storeUnavailable.message)
        }
        let loop = self.eventLoop
        let version = state.reply.version
        let promise = loop.makePromise(of: ByteBuffer.self)
        persistence.storeReads.add(1, ordering: .relaxed)
        promise.completeWithTask {
            var writer = ReplyWriter(buffer: ByteBuffer(), version: version)
            var next = fault
            var answers = FaultAnswers()
            do {
                for _ in 0..<4 {
                    guard let answer = try await store.answer(next) else {
                        absent(&writer)
                        return writer.buffer
                    }
                    // Every answer so far is installed in the same engine
                    // call as the retry, so eviction cannot take one in
                    // between (a repost of a repost may need three).
                    answers.all.append(answer)
                    switch attempt(answers) {
                    case .done(let result, let lsn):
                        reply(result, &writer)
                        if let lsn, persistence.isSync { try await persistence.journal.whenCommitted(lsn, on: loop).get() }
                        return writer.buffer
                    case .error(let message):
                        writer.error(message)
                        return writer.buffer
                    case .fault(let again):
                        next = again
                    }
                }
                writer.error("TRYAGAIN memory could not keep what PostgreSQL returned; try again")
            } catch {
                writer = ReplyWriter(buffer: ByteBuffer(), version: version)
                writer.error(CommandError.storeUnavailable.message)
            }
            return writer.buffer
        }
        state.deferred = .blocking(promise.futureResult)
    }
}
