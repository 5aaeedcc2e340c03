import NIOCore
import RESP
import Synchronization
import Timeline

extension ServerContext {
    /// Runs `read` for `user` on the engine borrowed, alongside other
    /// reads (`SharedFeedEngine.withEngineShared`), when reads are shared
    /// (`--shared-reads`) and the engine can serve this one so (the reader's
    /// timeline is resident, celebrities are fixed, memory is under its
    /// bound). Nil otherwise: the caller reads exclusively.
    func sharedRead<Result: Sendable>(user: String, _ read: (borrowing FeedEngine, inout ReadNotes) -> Result) -> Result? {
        guard self.feed.sharesReads else { return nil }
        return self.feed.withEngineShared { engine, notes -> Result? in
            guard engine.readsBorrowed(user: user), !self.needsRelief(engine) else { return nil }
            return read(engine, &notes)
        }
    }
}

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
        state: inout ConnectionState, positional: Bool = false, withMeta: Bool = false,
        _ read: @escaping @Sendable (inout FeedEngine, inout RESPEntryWriter) -> StoreContinuation?
    ) {
        guard let store = self.fromMemory(state: &state, withMeta: withMeta, read) else { return }
        let feed = self.server.feed
        self.replyLater(state: &state) { reply in
            var collecting = RESPEntryWriter(reply: ReplyWriter(buffer: ByteBuffer(), version: reply.version))
            collecting.collected = FeedEntryCollector()
            let continuation = feed.withEngine { read(&$0, &collecting) }
            let completed = try await ServerContext.complete(
                collecting.collected!, continuation: continuation, positional: positional, store: store, feed: feed)
            reply.entries(completed.entries, withMeta: withMeta)
        }
    }

    /// Runs a read against memory into the reply. Nil when that answer
    /// stands; else the answer is taken back and the store that must
    /// complete it returned. `shared`, when given, runs instead of `read`
    /// where `ServerContext.sharedRead` can run it for its reader.
    private func fromMemory(
        state: inout ConnectionState, withMeta: Bool,
        shared: (user: String, read: (borrowing FeedEngine, inout RESPEntryWriter, inout ReadNotes) -> StoreContinuation?)? = nil,
        _ read: (inout FeedEngine, inout RESPEntryWriter) -> StoreContinuation?
    ) -> PostgresStore? {
        let start = state.reply.buffer.writerIndex
        var continuation: StoreContinuation?
        var needsStore = 0
        let server = self.server
        state.reply.writeEntries { writer in
            writer.withMeta = withMeta
            let answered = shared.flatMap { shared in
                server.sharedRead(user: shared.user) { engine, notes in shared.read(engine, &writer, &notes) }
            }
            continuation =
                answered
                ?? server.feed.withEngine { engine in
                    server.relieveMemory(&engine)
                    return read(&engine, &writer)
                }
            needsStore = writer.missingBodies + writer.unresolved
        }
        guard needsStore > 0 || continuation != nil, let persistence = server.persistence,
            let store = persistence.currentStore
        else { return nil }
        state.reply.buffer.moveWriterIndex(to: start)
        persistence.storeReads.add(1, ordering: .relaxed)
        return store
    }

    /// FEED.READ: from memory when it holds the page; else completed from
    /// the store (`ServerContext.feedPage`), with the connection's later
    /// commands waiting for it.
    func readFeed(state: inout ConnectionState, user: String, count: Int, before: UInt64?, withMeta: Bool) {
        let now = WallClock.milliseconds()
        guard
            self.fromMemory(
                state: &state, withMeta: withMeta,
                shared: (user, { engine, writer, notes in
                    engine.read(user: user, count: count, before: before, now: now, into: &writer, notes: &notes)
                }),
                { engine, writer in
                let timer = CelebrityCostTimer(engine, counting: \.celebrityListsMerged)
                let continuation = engine.read(user: user, count: count, before: before, now: now, into: &writer)
                if let timer {
                    engine.noteReadCost(nanos: timer.nanoseconds, pulledLists: engine.counters.celebrityListsMerged - timer.counted)
                }
                return continuation
            }) != nil
        else { return }
        let server = self.server
        self.replyLater(state: &state) { reply in
            reply.entries(try await server.feedPage(user: user, count: count, before: before), withMeta: withMeta)
        }
    }

    /// FEED.READ … AFTER: from memory when it holds every entry with its
    /// body; otherwise completed from the store, oldest first, with the
    /// connection's later commands waiting for it.
    func catchUp(state: inout ConnectionState, user: String, after: UInt64, count: Int, withMeta: Bool) {
        let server = self.server
        let memory = server.feed.withEngine { engine in
            server.relieveMemory(&engine)
            return engine.readAfter(user: user, after: after, count: count, now: WallClock.milliseconds())
        }
        if let memory { return state.reply.entries(memory, withMeta: withMeta) }
        self.replyLater(state: &state) { reply in
            reply.entries(try await server.walkDown(user: user, after: after, count: count), withMeta: withMeta)
        }
    }

    /// Sends the reply `write` makes once the store has answered, in order
    /// (the connection's later commands wait for it); a store error as
    /// Redis's TRYAGAIN.
    func replyLater(state: inout ConnectionState, _ write: @escaping @Sendable (inout ReplyWriter) async throws -> Void) {
        let version = state.reply.version
        let promise = self.eventLoop.makePromise(of: ByteBuffer.self)
        promise.completeWithTask {
            var reply = ReplyWriter(buffer: ByteBuffer(), version: version)
            do {
                try await write(&reply)
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
    /// A read's entries completed from the store: memory's with what they
    /// lack filled in, then the store's older posts merged with memory's.
    /// `storeExhausted`: the store had no more rows than it gave.
    static func complete(
        _ collected: FeedEntryCollector, continuation: StoreContinuation?, positional: Bool, store: PostgresStore,
        feed: SharedFeedEngine
    ) async throws -> (entries: [FeedEntry?], storeExhausted: Bool) {
        var wanted = collected.unresolved.map(\.id)
        // A repost shows its original: the original's row fills it in.
        wanted += collected.entries.compactMap { $0 }.filter { $0.body == nil }.map { $0.meta.shown($0.id) }
        wanted += continuation?.memory.filter { $0.body == nil }.map { $0.meta.shown($0.id) } ?? []
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
            guard entry.body == nil, let post = fetched[entry.meta.shown(entry.id)] else { return entry }
            return entry.completed(with: post.entry)
        }
        var entries = collected.entries.map { $0.map(filled) }
        var present = Array(repeating: true, count: entries.count)
        for (index, id) in collected.unresolved {
            if let post = fetched[id], !deleted.contains(id) {
                entries[index] = post.entry
            } else if !positional {
                present[index] = false
            }
        }
        let kept = zip(entries, present).filter(\.1).map(\.0)
        let exhausted = continuation.map { older.count < $0.storeLimit && rest.count < $0.count } ?? true
        let all = kept + rest.map { Optional(filled($0)) }
        return (feed.withEngine { engine in all.map { $0.map(engine.withMemoryCounts) } }, exhausted)
    }

    /// One page of `user`'s feed, newest first, below `before`, completed
    /// from the store: the reader's candidates (memory's and the store's),
    /// then their filters and collapsed reposts. When collapsing needs more
    /// candidates than a round gave, the next round asks for twice as many.
    func feedPage(user: String, count: Int, before: UInt64?) async throws -> [FeedEntry] {
        let now = WallClock.milliseconds()
        var raw = count + self.configuration.feed.repostFalloff + 8
        while true {
            var collector = FeedEntryCollector()
            let wanted = raw
            let continuation = self.feed.withEngine { engine in
                self.relieveMemory(&engine)
                return engine.read(user: user, count: count, before: before, now: now, into: &collector, raw: wanted)
            }
            var entries = collector.entries.compactMap { $0 }
            var complete = continuation == nil && collector.entries.count < raw
            if let store = self.persistence?.currentStore, continuation != nil || !collector.unresolved.isEmpty
                || entries.contains(where: { $0.body == nil })
            {
                self.persistence?.storeReads.add(1, ordering: .relaxed)
                let completed = try await Self.complete(
                    collector, continuation: continuation, positional: false, store: store, feed: self.feed)
                entries = completed.entries.compactMap { $0 }
                complete = complete || (continuation != nil && completed.storeExhausted)
            } else if continuation != nil {
                complete = true  // no store: memory's is all there is
            }
            let final = complete || raw >= 1 << 16
            let candidates = entries
            if let page = self.feed.withEngine({ $0.finishRead(user: user, entries: candidates, count: count, complete: final) }) {
                return page
            }
            raw *= 2
        }
    }

    /// Up to `count` entries of `user`'s feed newer than `after`, oldest
    /// first, bodies included: from memory, with the store's help when the
    /// id is older than memory holds or a body was evicted (FEED.READ AFTER,
    /// an event stream's replay).
    func entries(of user: String, after: UInt64, count: Int) async throws -> [FeedEntry] {
        let now = WallClock.milliseconds()
        if let memory = self.feed.withEngine({ engine in
            self.relieveMemory(&engine)
            return engine.readAfter(user: user, after: after, count: count, now: now)
        }) {
            return memory
        }
        return try await self.walkDown(user: user, after: after, count: count)
    }

    /// FEED.READ … AFTER with the store: the feed's pages, newest first,
    /// down to `after` (`FeedPaging`).
    func walkDown(user: String, after: UInt64, count: Int) async throws -> [FeedEntry] {
        var walk = FeedPaging.Walk(after: after, count: count)
        while let before = walk.next { walk.add(try await self.feedPage(user: user, count: FeedPaging.pageSize, before: before)) }
        return walk.result
    }
}
