import Foundation
import Testing
@testable import Timeline
import TestSupport

extension TestFeed {
    /// A ranked page: the next token and the entries with their factors.
    func ranked(_ user: String, count: Int = 50, page: String? = nil) throws(FeedError) -> (next: String, entries: [FeedEntry]) {
        let slice = try self.engine.rankedSlice(user: user, count: count, page: page, now: self.now)!
        var collector = FeedEntryCollector()
        self.engine.writeRanked(slice, into: &collector)
        return (slice.next, collector.entries.compactMap { $0 })
    }

    func rankedIDs(_ user: String, count: Int = 50) -> [UInt64] { try! self.ranked(user, count: count).entries.map(\.id) }
}

private let minute: Int64 = 60_000
private let hour: Int64 = 3_600_000

/// Small hand-built feeds, one factor at a time, with the order each must give.
@Suite struct RankingTests {
    /// bob follows alice and carol; every test starts from here.
    private func feed(_ configure: (inout FeedConfiguration) -> Void = { _ in }) -> TestFeed {
        let feed = TestFeed(configure)
        feed.follow("bob", "alice")
        feed.follow("bob", "carol")
        return feed
    }

    @Test func recencyAloneRanksNewerFirstAndHalvesPerHalfLife() {
        let feed = self.feed()
        let old = feed.post("alice", "old")
        feed.tick(6 * hour)
        let new = feed.post("carol", "new")
        #expect(feed.rankedIDs("bob") == [new, old])
        let entries = try! feed.ranked("bob").entries
        let oldFactors = entries[1].meta.rank!
        // Six hours (and a millisecond) older: half the recency (the default half-life).
        #expect(abs(oldFactors.recency / entries[0].meta.rank!.recency - 0.5) < 1e-7)
        #expect(oldFactors.affinity == 1 && oldFactors.engagement == 1 && oldFactors.diversity == 1)
    }

    @Test func likingAnAuthorRaisesTheirPostsAboveNewerOnes() {
        let feed = self.feed()
        let liked = feed.post("alice", "earlier")
        feed.tick(10 * minute)
        let alice = feed.post("alice", "alice now")
        feed.tick(minute)
        let carol = feed.post("carol", "carol later")
        feed.tick()
        // Chronological: carol, alice, the earlier one. No interactions yet:
        // carol's newer post first; alice's two below it (the second diversified).
        #expect(feed.rankedIDs("bob") == [carol, alice, liked])
        _ = try! feed.like("bob", liked)
        // bob's like: alice's affinity is 2, and the liked post's engagement √2.
        #expect(feed.rankedIDs("bob") == [liked, alice, carol])
        let factors = try! feed.ranked("bob").entries[0].meta.rank!
        #expect(abs(factors.affinity - 2) < 1e-6 && abs(factors.engagement - 2.0.squareRoot()) < 1e-12)
        #expect(abs(feed.engine.affinity(of: "bob", for: "alice", now: feed.now) - factors.affinity) < 1e-12)
        #expect(feed.engine.affinity(of: "bob", for: "carol", now: feed.now) == 1)
    }

    @Test func repliesAndRepostsWeighMoreThanLikesAndFade() {
        let feed = self.feed {
            $0.ranking.affinityHalfLifeMilliseconds = hour
        }
        let a = feed.post("alice", "a")
        let c = feed.post("carol", "c")
        feed.tick()
        _ = try! feed.engine.post(author: "bob", body: "re", replyTo: a, now: feed.now)
        _ = try! feed.like("bob", c)
        // A reply adds 2, a like 1.
        #expect(abs(feed.engine.affinity(of: "bob", for: "alice", now: feed.now) - 3) < 1e-12)
        #expect(abs(feed.engine.affinity(of: "bob", for: "carol", now: feed.now) - 2) < 1e-12)
        _ = try! feed.engine.repost(user: "bob", post: c, now: feed.now)
        #expect(abs(feed.engine.affinity(of: "bob", for: "carol", now: feed.now) - 5) < 1e-12)
        // An hour later the interactions count half; the follow base stays.
        feed.tick(hour)
        #expect(abs(feed.engine.affinity(of: "bob", for: "carol", now: feed.now) - 3) < 1e-9)
        // Own posts: no affinity with oneself.
        _ = try! feed.like("bob", try! feed.engine.post(author: "bob", body: "mine", now: feed.now))
        #expect(feed.engine.affinityCounts(of: "bob", for: "bob") == nil)
    }

    @Test func engagementCountsRepostsThenRepliesThenLikes() {
        let feed = self.feed()
        let liked = feed.post("alice", "two likes")
        let reposted = feed.post("carol", "one repost")
        let plain = feed.post("alice", "plain")
        feed.tick()
        // Strangers engage (bob follows neither dave nor erin).
        _ = try! feed.like("dave", liked)
        _ = try! feed.like("erin", liked)
        _ = try! feed.engine.repost(user: "dave", post: reposted, now: feed.now)
        // (1 + 3)^0.5 = 2 beats (1 + 2)^0.5 ≈ 1.73 beats 1 (its own diversity aside).
        let entries = try! feed.ranked("bob").entries
        #expect(entries.map(\.id) == [reposted, liked, plain])
        #expect(entries.map { $0.meta.rank!.engagement } == [2, 3.0.squareRoot(), 1])
        feed.engine.rankWeights.engagementExponent = 1
        #expect(try! feed.ranked("bob").entries.map { $0.meta.rank!.engagement } == [4, 3, 1])
    }

    @Test func anAuthorsLaterEntriesGiveWayToOthers() {
        let feed = self.feed()
        let carol = feed.post("carol", "c")
        feed.tick(minute)
        let alice = (0..<3).map { feed.post("alice", "a\($0)") }
        // By time alone: alice ×3 then carol. Alice's second is multiplied by
        // 0.75·0.5 + 0.25 = 0.625 and her third by 0.4375: carol comes second.
        let entries = try! feed.ranked("bob").entries
        #expect(entries.map(\.id) == [alice[2], carol, alice[1], alice[0]])
        #expect(entries.map { $0.meta.rank!.diversity } == [1, 1, 0.625, 0.4375])
        // Scores never rise down the page.
        #expect(zip(entries, entries.dropFirst()).allSatisfy { $0.meta.rank!.score >= $1.meta.rank!.score })
        // No diversity pass at decay 1: time order again.
        feed.engine.rankWeights.diversityDecay = 1
        #expect(feed.rankedIDs("bob") == [alice[2], alice[1], alice[0], carol])
    }

    @Test func onlyTheNewestCandidatesAreRanked() {
        let feed = self.feed { $0.ranking.candidates = 3 }
        let popular = feed.post("alice", "popular")
        for liker in 0..<50 { _ = try! feed.like("fan\(liker)", popular) }
        let newer = (0..<3).map { feed.post("carol", "c\($0)") }
        #expect(Set(feed.rankedIDs("bob")) == Set(newer))
    }

    @Test func pagesWalkOneSnapshotWhileThingsHappen() throws {
        let feed = self.feed()
        var all: [UInt64] = []
        for index in 0..<20 {
            all.append(feed.post(index % 3 == 0 ? "carol" : "alice", "p\(index)"))
            feed.tick(minute)
        }
        let first = try feed.ranked("bob", count: 4)
        var seen = first.entries.map(\.id)
        var token = first.next
        for _ in 0..<4 {
            // New posts and likes between pages change nothing in the walk.
            feed.post("carol", "late")
            _ = try feed.like("zed", all.randomElement()!)
            let page = try feed.ranked("bob", count: 4, page: token)
            seen += page.entries.map(\.id)
            token = page.next
        }
        #expect(token == "0")
        #expect(seen.count == 20 && Set(seen) == Set(all))
        // A new first page sees the new posts; the old token is gone.
        #expect(try feed.ranked("bob", count: 30).entries.filter { $0.body == "late" }.count == 4)
        #expect(throws: FeedError.pageTokenExpired) { try feed.ranked("bob", count: 4, page: first.next) }
    }

    @Test func aPostDeletedBetweenPagesIsLeftOut() throws {
        let feed = self.feed()
        let ids = (0..<4).map { feed.post("alice", "p\($0)") }
        let first = try feed.ranked("bob", count: 2)
        let rest = ids.filter { !first.entries.map(\.id).contains($0) }
        #expect(feed.delete("alice", rest[0]))
        #expect(try feed.ranked("bob", count: 2, page: first.next).entries.map(\.id) == [rest[1]])
    }

    @Test func tokensAreCheckedAndExpire() throws {
        let feed = self.feed {
            $0.ranking.pageTTLMilliseconds = minute
            $0.ranking.maxSnapshots = 2
        }
        for index in 0..<6 { feed.post("alice", "p\(index)") }
        feed.follow("dave", "alice")
        feed.follow("erin", "alice")
        #expect(throws: FeedError.invalidPageToken) { try feed.ranked("bob", page: "nope") }
        #expect(throws: FeedError.invalidPageToken) { try feed.ranked("bob", page: "1-x") }
        #expect(throws: FeedError.pageTokenExpired) { try feed.ranked("bob", page: "123-2") }
        let bob = try feed.ranked("bob", count: 2).next
        feed.tick(minute)
        #expect(throws: FeedError.pageTokenExpired) { try feed.ranked("bob", count: 2, page: bob) }
        // At most two snapshots: the oldest goes.
        let dave = try feed.ranked("dave", count: 2).next
        let erin = try feed.ranked("erin", count: 2).next
        let bobAgain = try feed.ranked("bob", count: 2).next
        #expect(throws: FeedError.pageTokenExpired) { try feed.ranked("dave", count: 2, page: dave) }
        #expect(try feed.ranked("erin", count: 2, page: erin).entries.count == 2)
        #expect(try feed.ranked("bob", count: 2, page: bobAgain).entries.count == 2)
        #expect(feed.engine.summary.rankedSnapshots == 2)
    }

    @Test func aFullAffinityTableForgetsItsWeakestAuthor() {
        let feed = TestFeed {
            $0.ranking.affinityAuthors = 2
            $0.recordsMutations = true
        }
        let a = feed.post("alice", "a")
        let c = feed.post("carol", "c")
        let d = feed.post("dave", "d")
        _ = try! feed.like("bob", a)
        feed.tick()
        _ = try! feed.engine.post(author: "bob", body: "re", replyTo: c, now: feed.now)
        _ = feed.engine.drainMutations()
        feed.tick()
        _ = try! feed.like("bob", d)
        // alice (one like) weighed least: forgotten, and the store told so.
        #expect(feed.engine.affinityCounts(of: "bob", for: "alice") == nil)
        #expect(feed.engine.affinityCounts(of: "bob", for: "carol")?.replies == 1)
        #expect(feed.engine.affinityCounts(of: "bob", for: "dave")?.likes == 1)
        let aliceNumber = feed.engine.number(of: "alice")!
        let mutations = feed.engine.drainMutations()
        #expect(mutations.contains(.affinity(user: feed.engine.number(of: "bob")!, author: aliceNumber, counts: nil)))
        #expect(feed.engine.summary.affinityEntries == 2)
    }

    @Test func rankerIsAPermutationWithNonIncreasingScores() {
        var rng = SplitMix64(seed: 42)
        let weights = RankWeights()
        for _ in 0..<200 {
            let count = Int.random(in: 0...60, using: &rng)
            let candidates = (0..<count).map { index in
                RankCandidate(
                    id: UInt64(1000 - index), author: UInt32.random(in: 0..<5, using: &rng),
                    createdMilliseconds: Int64.random(in: 0...(48 * hour), using: &rng), affinity: Double.random(in: 0...5, using: &rng),
                    likes: Int.random(in: 0...20, using: &rng), replies: Int.random(in: 0...5, using: &rng),
                    reposts: Int.random(in: 0...5, using: &rng))
            }
            let ranked = Ranker.rank(candidates, authors: 5, weights: weights, now: 48 * hour)
            #expect(ranked.map(\.index).sorted() == Array(0..<count))
            #expect(zip(ranked, ranked.dropFirst()).allSatisfy { $0.factors.score >= $1.factors.score })
            for entry in ranked {
                let f = entry.factors
                #expect(abs(f.score - f.recency * f.affinity * f.engagement * f.diversity) <= 1e-12 * Swift.max(1, f.score))
            }
        }
    }

    /// A ranking ordered page by page (selecting each page's best from the
    /// rest) reads the same as one ordered all at once.
    @Test func rankingOrderedPageByPageMatchesTheWholeOrder() {
        var rng = SplitMix64(seed: 11)
        let weights = RankWeights()
        for _ in 0..<100 {
            let count = Int.random(in: 0...600, using: &rng)
            let candidates = (0..<count).map { index in
                RankCandidate(
                    id: UInt64(10_000 - index), author: UInt32.random(in: 0..<40, using: &rng),
                    createdMilliseconds: Int64.random(in: 0...(12 * hour), using: &rng) / hour * hour,
                    affinity: Double(Int.random(in: 1...3, using: &rng)), likes: Int.random(in: 0...3, using: &rng), replies: 0, reposts: 0)
            }
            let whole = Ranker.rank(candidates, authors: 40, weights: weights, now: 12 * hour)
            var ranking = Ranker.ranking(candidates, authors: 40, weights: weights, now: 12 * hour)
            var walked: [(index: Int, factors: RankFactors)] = []
            while walked.count < count {
                let page = Int.random(in: 1...60, using: &rng)
                ranking.order(through: walked.count + page)
                #expect(ranking.ordered >= Swift.min(walked.count + page, count))
                for position in walked.count..<Swift.min(walked.count + page, count) {
                    let entry = ranking.entry(at: position)
                    walked.append((entry.index, entry.factors))
                }
            }
            #expect(walked.map(\.index) == whole.map(\.index))
            #expect(walked.map(\.factors) == whole.map(\.factors))
        }
    }

    /// The diversity rule as written: order by score before diversity
    /// (ties: the higher id first); an author's n-th entry in that order
    /// gets `diversity(n)`. Scores tie often here (few times, few affinities).
    @Test func rankerGivesEachAuthorsNthEntryTheNthMultiplier() {
        var rng = SplitMix64(seed: 7)
        let weights = RankWeights()
        for _ in 0..<200 {
            let count = Int.random(in: 0...80, using: &rng)
            let authors = Int.random(in: 1...8, using: &rng)
            let candidates = (0..<count).map { index in
                RankCandidate(
                    id: UInt64(5000 - 7 * index), author: UInt32.random(in: 0..<UInt32(authors), using: &rng),
                    createdMilliseconds: Int64.random(in: 0...3, using: &rng) * hour, affinity: Double(Int.random(in: 1...2, using: &rng)),
                    likes: Int.random(in: 0...1, using: &rng), replies: 0, reposts: 0)
            }
            let ranked = Ranker.rank(candidates, authors: authors, weights: weights, now: 4 * hour)
            let base = ranked.map { ($0.index, $0.factors.recency * $0.factors.affinity * $0.factors.engagement) }
            let before = base.sorted { a, b in
                a.1 != b.1 ? a.1 > b.1 : candidates[a.0].id > candidates[b.0].id
            }
            var seen = [Int](repeating: 0, count: authors)
            var expected: [Int: Double] = [:]
            for (index, _) in before {
                let author = Int(candidates[index].author)
                expected[index] = seen[author] == 0 ? 1 : weights.diversity(seen[author])
                seen[author] += 1
            }
            #expect(ranked.allSatisfy { $0.factors.diversity == expected[$0.index] }, "\(ranked.map { ($0.index, candidates[$0.index].author, $0.factors.diversity, expected[$0.index]!, $0.factors.score) })")
            #expect(zip(ranked, ranked.dropFirst()).allSatisfy { a, b in
                a.factors.score != b.factors.score ? a.factors.score > b.factors.score : candidates[a.index].id > candidates[b.index].id
            })
        }
    }
}

/// Random feeds through the engine: a ranked read is a permutation of the
/// chronological candidates, its scores never rise, and its pages, read
/// while posts, likes and follows go on, neither repeat nor skip.
@Suite struct RankedFeedPropertyTests {
    @Test(arguments: 1...6)
    func rankedPagesArePermutationsOfTheCandidates(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed &* 104_729)
        let feed = TestFeed {
            $0.celebrityThreshold = 4
            $0.repostFalloff = 3
            $0.ranking.candidates = [7, 40, 500][Int(seed % 3)]
            $0.ranking.halfLifeMilliseconds = 20 * minute
        }
        let users = (0..<10).map { "u\($0)" }
        var posts: [UInt64] = []
        var checked = 0
        for step in 0..<1200 {
            feed.tick(Int64.random(in: 1...(5 * minute), using: &rng))
            let user = users.randomElement(using: &rng)!
            let other = users.randomElement(using: &rng)!
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<15 where user != other: _ = try? feed.engine.follow(follower: user, followee: other, now: feed.now)
            case 15..<45: posts.append(feed.post(user, "p\(step)"))
            case 45..<65:
                if let target = posts.randomElement(using: &rng) { _ = try? feed.engine.like(user: user, post: target, now: feed.now) }
            case 65..<75:
                if let target = posts.randomElement(using: &rng),
                    let id = try? feed.engine.repost(user: user, post: target, now: feed.now)
                {
                    posts.append(id)
                }
            case 75..<80:
                if let target = posts.randomElement(using: &rng),
                    let id = try? feed.engine.post(author: user, body: "re", replyTo: target, now: feed.now)
                {
                    posts.append(id)
                }
            default:
                let candidates = feed.engine.read(user: user, count: feed.engine.rankWeights.candidates, now: feed.now).map(\.id)
                let size = Int.random(in: 1...8, using: &rng)
                var page = try feed.ranked(user, count: size)
                var entries = page.entries
                while page.next != "0" {
                    // Life goes on between pages.
                    posts.append(feed.post(users.randomElement(using: &rng)!, "between"))
                    if let target = posts.randomElement(using: &rng) { _ = try? feed.engine.like(user: other, post: target, now: feed.now) }
                    page = try feed.ranked(user, count: size, page: page.next)
                    entries += page.entries
                }
                #expect(entries.map(\.id).sorted() == candidates.sorted(), "step \(step): a permutation of the candidates")
                let scores = entries.map { $0.meta.rank!.score }
                #expect(zip(scores, scores.dropFirst()).allSatisfy { $0 >= $1 }, "step \(step): scores never rise")
                checked += entries.count
            }
        }
        #expect(checked > 500)
    }
}
