import TestSupport
import Testing

@testable import Timeline

/// Reads on a borrowed engine (`read(…notes:)`, `rankInput(…notes:)`,
/// `keepRanking(…notes:)`), their notes applied later as the server does
/// (before the next change), leave the engine as reads that changed it as
/// they ran: same entries, same counters, same last-active times and
/// eviction bits, same snapshots.
@Suite struct ReadNotesTests {
    /// Two engines given the same random posts, follows, likes and reads;
    /// one reads in place, the other borrowed, applying its notes only
    /// when something else is about to change it.
    @Test(arguments: 1...4)
    func borrowedReadsWithNotesAppliedLaterLeaveTheSameEngine(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var configuration = FeedConfiguration()
        configuration.celebrityThreshold = 4
        configuration.inactiveAfterMilliseconds = 300
        configuration.postCacheBytes = 40 * (30 + PostBodyCache.overheadPerBody)  // bodies get evicted
        var direct = FeedEngine(configuration: configuration)
        var borrowed = FeedEngine(configuration: configuration)
        var notes = ReadNotes(lane: 1, lanes: 4)
        var now: Int64 = 1_795_000_000_000
        let users = (0..<10).map { "user:\($0)" }
        var borrowedReads = 0
        var ids: [UInt64] = []
        for step in 0..<1200 {
            now += Int64.random(in: 0...3, using: &rng) == 0 ? 200 : Int64.random(in: 1...10, using: &rng)
            let user = users.randomElement(using: &rng)!
            let other = users.randomElement(using: &rng)!
            let kind = Int.random(in: 0..<10, using: &rng)
            if kind >= 5 {
                if kind == 5 {
                    // An eviction sweep's second chances: every list's bit cleared (an exclusive turn).
                    borrowed.apply(&notes)
                    for index in direct.users.indices {
                        direct.users[index].recentReferenced = false
                        borrowed.users[index].recentReferenced = false
                    }
                }
                let count = Int.random(in: 1...30, using: &rng)
                let (reads, bodyReads) = (direct.counters.reads, direct.bodies.hits + direct.bodies.misses)
                let expected = direct.read(user: user, count: count, now: now)
                // What a read changes, stated apart from the notes that carry it.
                if let reader = direct.numbers[user] {
                    #expect(direct.counters.reads == reads + 1)
                    #expect(direct.lastActive[Int(reader)] == now && direct.users[Int(reader)].timelineReferenced)
                    #expect(direct.bodies.hits + direct.bodies.misses == bodyReads + expected.count)
                    for author in direct.following[Int(reader)].sorted where direct.pulledAuthors.contains(author) {
                        #expect(direct.users[Int(author)].recentReferenced, "a pulled author's list was read")
                    }
                }
                var collector = FeedEntryCollector()
                if borrowed.readsBorrowed(user: user) {
                    borrowed.read(user: user, count: count, now: now, into: &collector, notes: &notes)
                    borrowedReads += 1
                } else {
                    // What the server does: apply, then read exclusively.
                    borrowed.apply(&notes)
                    borrowed.read(user: user, count: count, now: now, into: &collector)
                }
                #expect(collector.entries.compactMap { $0 } == expected, "step \(step)")
                continue
            }
            borrowed.apply(&notes)
            switch kind {
            case 0, 1:
                let body = String(repeating: "b", count: Int.random(in: 5...40, using: &rng))
                let id = try! direct.post(author: user, body: body, now: now)
                #expect(try! borrowed.post(author: user, body: body, now: now) == id)
                ids.append(id)
            case 2:
                guard user != other else { continue }
                _ = try? direct.follow(follower: user, followee: other, now: now)
                _ = try? borrowed.follow(follower: user, followee: other, now: now)
            case 3:
                _ = try? direct.unfollow(follower: user, followee: other)
                _ = try? borrowed.unfollow(follower: user, followee: other)
            default:
                guard let id = ids.randomElement(using: &rng) else { continue }
                #expect((try? direct.like(user: user, post: id, now: now)) == (try? borrowed.like(user: user, post: id, now: now)))
            }
            #expect(borrowed.counters == direct.counters, "step \(step)")
            #expect(borrowed.lastActive == direct.lastActive, "step \(step)")
            #expect(borrowed.users.map(\.timelineReferenced) == direct.users.map(\.timelineReferenced), "step \(step)")
            #expect(borrowed.users.map(\.recentReferenced) == direct.users.map(\.recentReferenced), "step \(step)")
            #expect(borrowed.bodies.hits == direct.bodies.hits && borrowed.bodies.misses == direct.bodies.misses, "step \(step)")
            #expect(borrowed.bodies.evictions == direct.bodies.evictions, "step \(step)")
        }
        borrowed.apply(&notes)
        #expect(borrowed.counters == direct.counters)
        #expect(borrowedReads > 200, "most reads were borrowed: \(borrowedReads)")
        // The run saw what the notes carry: celebrity merges, evicted bodies, timelines dropped and rebuilt.
        #expect(direct.counters.readsWithCelebrityMerge > 0 && direct.bodies.misses > 0 && direct.counters.timelineRebuilds > 0)
    }

    /// A first ranked page taken borrowed is the reader's snapshot once its
    /// notes are applied: its token walks on, and two lanes never give the
    /// same generation.
    @Test func aBorrowedFirstRankedPageIsKeptWhenItsNotesAreApplied() throws {
        let feed = TestFeed { $0.celebrityThreshold = 1_000 }
        feed.follow("reader", "a")
        feed.follow("reader", "b")
        for index in 0..<30 { feed.post(index % 2 == 0 ? "a" : "b", "post \(index)") }
        _ = feed.feed("reader")  // a resident timeline
        feed.tick()
        var lanes = [ReadNotes(lane: 0, lanes: 2), ReadNotes(lane: 1, lanes: 2)]
        var tokens: [String] = []
        var firstPages: [[UInt64]] = []
        for lane in 0..<2 {
            let input = try #require(feed.engine.rankInput(user: "reader", now: feed.now, notes: &lanes[lane]))
            let slice = feed.engine.keepRanking(input, input.rank(count: 10), count: 10, notes: &lanes[lane])
            tokens.append(slice.next)
            firstPages.append(slice.entries.map(\.id))
        }
        #expect(firstPages[0] == firstPages[1])
        let generations = tokens.map { $0.split(separator: "-")[0] }
        #expect(generations[0] != generations[1])
        // Not kept before the notes are applied.
        #expect(throws: FeedError.pageTokenExpired) { try feed.engine.rankedSlice(user: "reader", count: 10, page: tokens[1], now: feed.now) }
        feed.engine.apply(&lanes[0])
        feed.engine.apply(&lanes[1])
        #expect(feed.engine.counters.rankedReads == 2)
        // The newer of the two is the reader's snapshot; its pages walk on from the first.
        let newer = generations[0] > generations[1] ? 0 : 1
        let second = try #require(try feed.engine.rankedSlice(user: "reader", count: 10, page: tokens[newer], now: feed.now))
        #expect(second.entries.count == 10 && Set(second.entries.map(\.id)).isDisjoint(with: firstPages[newer]))
        #expect(throws: FeedError.pageTokenExpired) {
            try feed.engine.rankedSlice(user: "reader", count: 10, page: tokens[1 - newer], now: feed.now)
        }
    }

    /// A body read on a borrowed cache is marked recently used only when
    /// its notes are applied, and then survives the sweep as one read in place.
    @Test func aBodyReadBorrowedIsRecentlyUsedOnceNoted() {
        let body = String(repeating: "b", count: 100)
        let cost = 100 + PostBodyCache.overheadPerBody
        var cache = PostBodyCache(budgetBytes: cost * 3)
        let one = cache.insert(1, body: body).slot
        _ = cache.insert(2, body: body)
        _ = cache.insert(3, body: body)
        var notes = ReadNotes()
        guard case .inPlace(let bytes) = cache.bytes(at: one, notes: &notes) else {
            Issue.record("a 100-byte body is read in place")
            return
        }
        #expect(String(decoding: bytes, as: UTF8.self) == body)
        cache.markReferenced(notes.bodiesReferenced, hits: notes.counters.bodyHits, misses: notes.counters.bodyMisses)
        #expect(cache.hits == 1)
        let four = cache.insert(4, body: body)
        #expect(four.evicted.map(\.id) == [2])  // 1 was read: 2 goes first
        var small = ReadNotes()
        let tiny = cache.insert(5, body: "tiny").slot
        guard case .small(let string) = cache.bytes(at: tiny, notes: &small) else {
            Issue.record("a 4-byte body is its string")
            return
        }
        #expect(string == "tiny")
    }
}
