@testable import Timeline
import Testing

/// `--celebrity-threshold auto` (FeedEngine+Celebrities.swift): an author is
/// pulled when pushing costs more than 1.25× what pulling would, pushed again
/// below 0.8×, with push = posting rate × followers × push cost and pull =
/// the followers' read rate × pull cost. With both costs 1 and a one-hour
/// half-life (so a test's milliseconds barely decay anything), the rule
/// reads as counts: posts × followers against reads.
@Suite struct CelebrityAutoTests {
    func feed(recheck: Int64 = 0) -> TestFeed {
        let feed = TestFeed {
            $0.celebrityAuto = true
            $0.celebrityRateHalfLifeMilliseconds = 3_600_000
            $0.celebrityRecheckMilliseconds = recheck
        }
        feed.engine.celebrityCosts = FeedEngine.CelebrityCosts(pushNanosPerFollower: 1, pullNanosPerRead: 1)
        for follower in ["f0", "f1", "f2", "f3"] { feed.follow(follower, "star") }
        return feed
    }

    func read(_ feed: TestFeed, times: Int) {
        for index in 0..<times { _ = feed.feed("f\(index % 4)") }
    }

    @Test func anAuthorChangesSidesWithHysteresisAndEveryPostStaysInEveryFeed() {
        let feed = self.feed()
        self.read(feed, times: 4)
        // 1 post × 4 followers against 4 reads: even, stays pushed.
        let first = feed.post("star")
        #expect(!feed.stats("star").celebrity && feed.engine.counters.fanoutDeliveries == 4)
        // 2 × 4 = 8 against 4: over 1.25×, pulled.
        let second = feed.post("star")
        #expect(feed.stats("star").celebrity && feed.engine.counters.celebritiesPulledByCost == 1)
        #expect(feed.engine.counters.fanoutsSkippedForCelebrity == 1 && feed.engine.counters.fanoutDeliveries == 4)
        self.read(feed, times: 10)  // 14 reads
        // 3 × 4 = 12 against 14: 0.86×, still pulled (it takes under 0.8× to go back).
        let third = feed.post("star")
        #expect(feed.stats("star").celebrity && feed.engine.counters.fanoutsSkippedForCelebrity == 2)
        self.read(feed, times: 4)  // 18 reads
        // 4 × 4 = 16 against 18: 0.89×, still pulled.
        let fourth = feed.post("star")
        #expect(feed.stats("star").celebrity)
        self.read(feed, times: 8)  // 26 reads: 5 × 4 = 20 against 26 is 0.77×, pushed again
        let fifth = feed.post("star")
        #expect(!feed.stats("star").celebrity && feed.engine.counters.celebritiesPushedByCost == 1)
        #expect(feed.engine.counters.fanoutDeliveries == 8)
        // Pushed or pulled, every post is in every follower's feed once, newest first.
        for follower in ["f0", "f1", "f2", "f3"] {
            #expect(feed.feed(follower) == [fifth, fourth, third, second, first])
        }
        #expect(feed.engine.summary.celebrities == 0)
    }

    @Test func anAuthorIsJudgedAtMostOncePerRecheckInterval() {
        let feed = self.feed(recheck: 1_000)
        self.read(feed, times: 4)
        feed.post("star")  // judged: 4 against 4, pushed
        feed.post("star")  // 8 against 4, but judged 1 ms ago: still pushed
        #expect(!feed.stats("star").celebrity)
        feed.tick(1_000)
        feed.post("star")  // judged again: 12 against 4
        #expect(feed.stats("star").celebrity && feed.engine.summary.celebrities == 1)
    }

    @Test func anAuthorNobodyFollowsIsNeverPulled() {
        let feed = self.feed()
        for _ in 0..<20 { feed.post("loner") }
        #expect(!feed.stats("loner").celebrity && feed.engine.counters.celebritiesPulledByCost == 0)
    }

    @Test func costsFollowWhatTheServerMeasures() {
        let feed = self.feed()
        let start = feed.engine.celebrityCosts.pushNanosPerFollower
        feed.engine.noteFanOutCost(nanos: 10_000, deliveries: 4)  // too few pushes to say: ignored
        #expect(feed.engine.celebrityCosts.pushNanosPerFollower == start)
        feed.engine.noteFanOutCost(nanos: 2_100, deliveries: 10)  // 210 ns each
        #expect(abs(feed.engine.celebrityCosts.pushNanosPerFollower - (start * 0.95 + 210 * 0.05)) < 1e-9)
        // A read with pulled authors pays their part above a plain read's.
        for _ in 0..<200 { feed.engine.noteReadCost(nanos: 1_000, pulledLists: 0) }
        let pull = feed.engine.celebrityCosts.pullNanosPerRead
        feed.engine.noteReadCost(nanos: 1_000 + 2 * 5_000, pulledLists: 2)
        let base = feed.engine.celebrityCosts.readBaseNanos
        #expect(abs(feed.engine.celebrityCosts.pullNanosPerRead - (pull * 0.95 + (11_000 - base) / 2 * 0.05)) < 1e-6)
    }
}
