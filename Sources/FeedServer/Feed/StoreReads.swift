import NIOCore
import RESP
import Synchronization
import Timeline

extension CommandCall {
    /// Writes the entries of a read from memory. When memory lacks a post it
    /// listed (its record or body was evicted) or the read goes on below
    /// what memory holds, and PostgreSQL is on, the reply is built with what
    /// the store adds instead, and sent when ready, in order; the
    /// connection's later commands wait for it. Without PostgreSQL the
    /// memory answer stands: evicted bodies are nil.
    ///
    /// `positional` (FEED.GET): every requested post keeps its place, nil
    /// when the store does not have it either. Otherwise such a post (deleted
    /// meanwhile) is left out.
    func readEntries(
        state: inout ConnectionState, positional: Bool = false,
        _ read: @escaping @Sendable (inout FeedEngine, inout RESPEntryWriter) -> StoreContinuation?
    ) {
        let start = state.reply.buffer.writerIndex
        var continuation: StoreContinuation?
        var needsStore = 0
        let server = self.server
        state.reply.writeEntries { writer in
            continuation = server.feed.withEngine { engine in
                server.relieveMemory(&engine)
                return read(&engine, &writer)
            }
            needsStore = writer.missingBodies + writer.unresolved
        }
        guard needsStore > 0 || continuation != nil, let persistence = self.server.persistence,
            let store = persistence.currentStore
        else { return }

        // Take the memory answer back and build the full one from the store.
        state.reply.buffer.moveWriterIndex(to: start)
        let feed = self.server.feed
        let version = state.reply.version
        persistence.storeReads.add(1, ordering: .relaxed)
        let promise = self.eventLoop.makePromise(of: ByteBuffer.self)
        promise.completeWithTask {
            var collecting = RESPEntryWriter(reply: ReplyWriter(buffer: ByteBuffer(), version: version))
            collecting.collected = FeedEntryCollector()
            let continuation = feed.withEngine { read(&$0, &collecting) }
            return await Self.completeFromStore(
                collecting.collected!, continuation: continuation, positional: positional, store: store, feed: feed,
                version: version)
        }
        state.deferred = .blocking(promise.futureResult)
    }

    /// The reply: memory's entries with what they lack filled in from the
    /// store, then the store's older posts merged with memory's.
    private static func completeFromStore(
        _ collected: FeedEntryCollector, continuation: StoreContinuation?, positional: Bool, store: PostgresStore,
        feed: SharedFeedEngine, version: RESPVersion
    ) async -> ByteBuffer {
        var reply = ReplyWriter(buffer: ByteBuffer(), version: version)
        do {
            var wanted = collected.unresolved.map(\.id)
            wanted += collected.entries.compactMap { $0 }.filter { $0.body == nil }.map(\.id)
            wanted += continuation?.memory.filter { $0.body == nil }.map(\.id) ?? []
            let fetched = try await store.posts(wanted)
            var older: [FeedEntry] = []
            if let continuation { older = try await store.olderPosts(continuation) }
            // Cache what came back; leave out what was deleted meanwhile.
            let (deleted, rest) = feed.withEngine { engine -> (Set<UInt64>, [FeedEntry]) in
                for post in fetched.values { engine.cacheBody(post.id, body: post.body) }
                let deleted = Set(wanted.filter { engine.isDeleted($0) })
                let rest = continuation?.merged(store: older, isDeleted: { engine.isDeleted($0) }) ?? []
                return (deleted, rest)
            }
            func filled(_ entry: FeedEntry) -> FeedEntry {
                var entry = entry
                if entry.body == nil { entry.body = fetched[entry.id]?.body }
                return entry
            }
            var entries = collected.entries.map { $0.map(filled) }
            var present = Array(repeating: true, count: entries.count)
            for (index, id) in collected.unresolved {
                if let post = fetched[id], !deleted.contains(id) {
                    entries[index] = FeedEntry(
                        id: id, author: post.author, createdMilliseconds: PostID.createdMilliseconds(id), body: post.body)
                } else if !positional {
                    present[index] = false
                }
            }
            let kept = zip(entries, present).filter(\.1).map(\.0)
            reply.arrayHeader(kept.count + rest.count)
            for entry in kept {
                if let entry { reply.entry(entry) } else { reply.nullArray() }
            }
            for entry in rest { reply.entry(filled(entry)) }
        } catch {
            reply = ReplyWriter(buffer: ByteBuffer(), version: version)
            reply.error(CommandError.storeUnavailable.message)
        }
        return reply.buffer
    }

    /// FEED.READ … AFTER: from memory when it holds every entry with its
    /// body; otherwise (the id is older than memory holds, or a body was
    /// evicted) completed from the store, oldest first, with the
    /// connection's later commands waiting for it.
    func catchUp(state: inout ConnectionState, user: String, after: UInt64, count: Int) {
        let server = self.server
        let start = state.reply.buffer.writerIndex
        var catchUp: StoreCatchUp?
        var missingBodies = 0
        state.reply.writeEntries { writer in
            catchUp = server.feed.withEngine { engine in
                server.relieveMemory(&engine)
                return engine.readAfter(user: user, after: after, count: count, now: WallClock.milliseconds(), into: &writer)
            }
            missingBodies = writer.missingBodies
        }
        guard catchUp != nil || missingBodies > 0 else { return }  // answered from memory
        state.reply.buffer.moveWriterIndex(to: start)
        guard server.persistence?.currentStore != nil else {
            // No store: memory's entries are all there are.
            let entries = catchUp?.merged(store: [], isDeleted: { _ in false }) ?? []
            state.reply.arrayHeader(entries.count)
            for entry in entries { state.reply.entry(entry) }
            return
        }
        let version = state.reply.version
        let promise = self.eventLoop.makePromise(of: ByteBuffer.self)
        promise.completeWithTask {
            var reply = ReplyWriter(buffer: ByteBuffer(), version: version)
            do {
                let entries = try await server.entries(of: user, after: after, count: count)
                reply.arrayHeader(entries.count)
                for entry in entries { reply.entry(entry) }
            } catch {
                reply = ReplyWriter(buffer: ByteBuffer(), version: version)
                reply.error(CommandError.storeUnavailable.message)
            }
            return reply.buffer
        }
        state.deferred = .blocking(promise.futureResult)
    }
}

extension ServerContext {
    /// Up to `count` entries of `user`'s feed newer than `after`, oldest
    /// first, bodies included: from memory, with the store's help when the
    /// id is older than memory holds or a body was evicted (FEED.READ AFTER,
    /// an event stream's replay).
    func entries(of user: String, after: UInt64, count: Int) async throws -> [FeedEntry] {
        let now = WallClock.milliseconds()
        let (memory, catchUp) = self.feed.withEngine { engine in
            self.relieveMemory(&engine)
            return engine.readAfter(user: user, after: after, count: count, now: now)
        }
        guard let persistence = self.persistence, let store = persistence.currentStore else {
            return catchUp?.merged(store: [], isDeleted: { _ in false }) ?? memory
        }
        var entries = memory
        if let catchUp {
            persistence.storeReads.add(1, ordering: .relaxed)
            let rows = try await store.newerPosts(catchUp)
            entries = self.feed.withEngine { engine in catchUp.merged(store: rows, isDeleted: { engine.isDeleted($0) }) }
        }
        let missing = entries.filter { $0.body == nil }.map(\.id)
        if !missing.isEmpty {
            persistence.storeReads.add(1, ordering: .relaxed)
            let bodies = try await store.posts(missing)
            for index in entries.indices where entries[index].body == nil { entries[index].body = bodies[entries[index].id]?.body }
        }
        return entries
    }
}
