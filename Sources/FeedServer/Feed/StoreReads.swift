import NIOCore
import RESP
import Synchronization
import Timeline

extension CommandCall {
    /// Writes the entries of a read from memory. When memory lacks a body (an
    /// evicted one) or older posts than it holds are wanted, and PostgreSQL is
    /// on, the reply is built with what the store adds instead, and sent when
    /// ready, in order. Without PostgreSQL the memory answer stands: evicted
    /// bodies are nil.
    func readEntries(
        state: inout ConnectionState,
        _ read: (inout FeedEngine, inout RESPEntryWriter) -> StoreContinuation?
    ) {
        let start = state.reply.buffer.writerIndex
        var continuation: StoreContinuation?
        var missingBodies = 0
        state.reply.writeEntries { writer in
            continuation = self.server.feed.withEngine { read(&$0, &writer) }
            missingBodies = writer.missingBodies
        }
        guard missingBodies > 0 || continuation != nil, let persistence = self.server.persistence,
            let store = persistence.currentStore
        else { return }

        // Take the memory answer back and build the full one from the store.
        state.reply.buffer.moveWriterIndex(to: start)
        var collecting = RESPEntryWriter(reply: ReplyWriter(buffer: ByteBuffer(), version: state.reply.version))
        collecting.collected = FeedEntryCollector()
        continuation = self.server.feed.withEngine { read(&$0, &collecting) }
        let entries = collecting.collected!.entries
        let version = state.reply.version
        let feed = self.server.feed
        let pendingContinuation = continuation
        persistence.storeReads.add(1, ordering: .relaxed)
        let promise = self.eventLoop.makePromise(of: ByteBuffer.self)
        promise.completeWithTask {
            try await Self.completeFromStore(
                entries: entries, continuation: pendingContinuation, store: store, feed: feed, version: version)
        }
        state.deferred = .future(promise.futureResult)
    }

    /// The reply: memory's entries with their missing bodies filled in, then
    /// the store's older posts.
    private static func completeFromStore(
        entries: [FeedEntry?], continuation: StoreContinuation?, store: PostgresStore, feed: SharedFeedEngine,
        version: RESPVersion
    ) async throws -> ByteBuffer {
        var reply = ReplyWriter(buffer: ByteBuffer(), version: version)
        do {
            let missing = entries.compactMap { $0 }.filter { $0.body == nil }.map(\.id)
            let bodies = try await store.bodies(of: missing)
            var older: [(id: UInt64, author: UInt32, body: String)] = []
            if let continuation { older = try await store.olderPosts(continuation) }
            // Cache what came back, drop store posts deleted here meanwhile, name the authors.
            let (names, live) = feed.withEngine { engine -> ([UInt32: String], [Bool]) in
                for (id, body) in bodies { engine.cacheBody(id, body: body) }
                return (engine.names(of: older.map(\.author)), older.map { engine.isLive($0.id) })
            }
            let olderEntries = zip(older, live).filter(\.1).map { post, _ in
                FeedEntry(
                    id: post.id, author: names[post.author] ?? "", createdMilliseconds: PostID.createdMilliseconds(post.id),
                    body: post.body)
            }
            reply.arrayHeader(entries.count + olderEntries.count)
            for entry in entries {
                guard var entry else {
                    reply.nullArray()
                    continue
                }
                if entry.body == nil { entry.body = bodies[entry.id] }
                reply.entry(entry)
            }
            for entry in olderEntries { reply.entry(entry) }
        } catch {
            reply = ReplyWriter(buffer: ByteBuffer(), version: version)
            reply.error("TRYAGAIN PostgreSQL unavailable: cannot read posts that are not in memory")
        }
        return reply.buffer
    }
}

