import NIOCore
import RESP
import Synchronization
import Timeline

extension CommandCall {
    /// FEED.READ … RANKED: `[next-token, entries]`. From memory when it
    /// holds the candidates and the page's bodies; otherwise completed from
    /// the store, with the connection's later commands waiting for it.
    func readRanked(state: inout ConnectionState, user: String, count: Int, page: String?, withMeta: Bool) {
        let server = self.server
        let now = WallClock.milliseconds()
        let start = state.reply.buffer.writerIndex
        var slice: RankedSlice?
        var failure: FeedError?
        var needsStore = 0
        // A first page is ranked between two turns of the lock: scoring and
        // ordering 500 candidates need only what the first turn copied out.
        var ranked: (input: RankInput, ranking: Ranking)?
        if page == nil {
            // Alongside other reads when the engine can serve it borrowed.
            let input =
                server.sharedRead(user: user) { engine, notes in engine.rankInput(user: user, now: now, notes: &notes) }
                ?? server.feed.withEngine { engine in
                    server.relieveMemory(&engine)
                    return engine.rankInput(user: user, now: now)
                }
            ranked = input.map { ($0, $0.rank(count: count)) }
        }
        state.reply.writeEntries { writer in
            writer.withMeta = withMeta
            if server.feed.sharesReads, let first = ranked.take() {
                // Kept and written alongside other reads: the snapshot is
                // kept at the next exclusive turn, before any page after it.
                server.feed.withEngineShared { engine, notes in
                    let found = engine.keepRanking(first.input, first.ranking, count: count, notes: &notes)
                    writer.reply.arrayHeader(2)
                    writer.reply.bulk(found.next)
                    engine.writeRanked(found, into: &writer, notes: &notes)
                    slice = found
                }
                needsStore = writer.missingBodies + writer.unresolved
                return
            }
            server.feed.withEngine { engine in
                if let first = ranked.take() {
                    slice = engine.keepRanking(first.input, first.ranking, count: count)
                } else if page != nil {
                    server.relieveMemory(&engine)
                    switch Result(catching: { () throws(FeedError) in try engine.rankedSlice(user: user, count: count, page: page, now: now) }) {
                    case .success(let found): slice = found
                    case .failure(let error):
                        failure = error
                        return
                    }
                }
                guard let slice else { return }
                writer.reply.arrayHeader(2)
                writer.reply.bulk(slice.next)
                engine.writeRanked(slice, into: &writer)
            }
            needsStore = writer.missingBodies + writer.unresolved
        }
        if let failure { return state.reply.error(CommandError.feed(failure).message) }
        if slice != nil && needsStore == 0 { return }
        guard let persistence = server.persistence, let store = persistence.currentStore else {
            // Without PostgreSQL memory's answer stands (evicted bodies are nil).
            if slice != nil { return }
            return state.reply.error(CommandError.storeUnavailable.message)
        }
        state.reply.buffer.moveWriterIndex(to: start)
        persistence.storeReads.add(1, ordering: .relaxed)
        let feed = server.feed
        let found = slice
        self.replyLater(state: &state) { reply in
            let (next, entries) = try await server.rankedPage(found, user: user, count: count, store: store, feed: feed)
            reply.arrayHeader(2)
            reply.bulk(next)
            reply.entries(entries, withMeta: withMeta)
        }
    }
}

extension ServerContext {
    /// A ranked page the store helps with: `slice`'s entries filled in
    /// from it, or, with no slice, a first page ranked from candidates read
    /// with the store (the chronological feed's newest).
    func rankedPage(
        _ slice: RankedSlice?, user: String, count: Int, store: PostgresStore, feed: SharedFeedEngine
    ) async throws -> (next: String, entries: [FeedEntry]) {
        guard let slice else {
            let candidates = feed.withEngine { $0.rankWeights.candidates }
            let entries = try await self.feedPage(user: user, count: candidates, before: nil)
            let now = WallClock.milliseconds()
            let (ranked, page) = feed.withEngine { $0.rank(user: user, entries: entries, count: count, now: now) }
            return (ranked.next, page)
        }
        var collector = FeedEntryCollector()
        feed.withEngine { $0.writeRanked(slice, into: &collector) }
        let completed = try await Self.complete(collector, continuation: nil, positional: false, store: store, feed: feed)
        let factors = Dictionary(slice.entries.map { ($0.id, $0.factors) }, uniquingKeysWith: { a, _ in a })
        let entries = completed.entries.compactMap { $0 }.map { entry in
            var entry = entry
            entry.meta.rank = factors[entry.id]
            return entry
        }
        return (slice.next, entries)
    }
}
