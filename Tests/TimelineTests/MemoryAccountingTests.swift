import Testing
@testable import Timeline
import TestSupport

/// INFO and a metrics scrape read the engine's size from running totals,
/// in O(1), instead of walking every user under the engine lock. These
/// tests hold the totals to what a walk finds.
@Suite struct MemoryAccountingTests {
    /// The totals a walk of every structure finds.
    func walked(_ engine: FeedEngine) -> MemoryUsage {
        var usage = MemoryUsage()
        usage.users = engine.names.count
        usage.nameBytes = engine.names.reduce(0) { $0 + $1.utf8.count }
        usage.records = engine.posts.count
        for timeline in engine.timelines {
            guard let timeline else { continue }
            usage.residentTimelines += 1
            usage.timelineEntries += timeline.count
        }
        usage.recentEntries = engine.recentPosts.reduce(0) { $0 + $1.count }
        usage.followGraphBytes = (engine.following + engine.followers).reduce(0) { $0 + $1.estimatedBytes }
        usage.likeSets = engine.likers.count
        usage.likers = engine.likers.values.reduce(0) { $0 + $1.users.count }
        usage.affinityEntries = engine.affinities.values.reduce(0) { $0 + $1.count }
        usage.rankedEntries = engine.rankedSnapshots.values.reduce(0) { $0 + $1.ranking.count }
        usage.notificationGroups = engine.notificationFeeds.values.reduce(0) { $0 + $1.groups.count }
        usage.notificationSources = engine.notificationFeeds.values.reduce(0) { sum, feed in
            sum + feed.groups.values.reduce(0) { $0 + $1.actors.values.reduce(0) { $0 + $1.count } }
        }
        return usage
    }

    @Test(arguments: 1...4)
    func runningTotalsMatchAWalkThroughRandomOperations(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let feed = StoreBackedFeed {
            $0.celebrityThreshold = 4
            $0.timelineCap = 10
            $0.recentPostsCap = 10
            $0.backfillCount = 5
            $0.inactiveAfterMilliseconds = 100
        }
        let users = (0..<40).map { "u\($0)" }
        var ids: [UInt64] = []
        for step in 0..<3000 {
            feed.now += Int64.random(in: 1...30, using: &rng)
            let user = users.randomElement(using: &rng)!
            let other = users.randomElement(using: &rng)!
            switch Int.random(in: 0..<10, using: &rng) {
            case 0, 1:
                if user != other { _ = try feed.faulting { (e) throws(FeedError) in try e.follow(follower: user, followee: other, now: feed.now) } }
            case 2:
                if user != other { _ = try feed.faulting { (e) throws(FeedError) in try e.unfollow(follower: user, followee: other) } }
            case 3, 4:
                ids.append(try feed.faulting { (e) throws(FeedError) in try e.post(author: user, body: "b\(step)", now: feed.now) })
            case 5:
                if let id = ids.randomElement(using: &rng) { _ = feed.delete(user, id) }
            case 6:
                if let id = ids.randomElement(using: &rng) {
                    _ = try? feed.faulting { (e) throws(FeedError) in try e.like(user: user, post: id, now: feed.now) }
                }
            case 7:
                _ = feed.read(user, count: 20)
            case 8:
                feed.commit(Int.random(in: 0...feed.journal.count, using: &rng))
            default:
                feed.engine.evict(bytes: Int.random(in: 0...4000, using: &rng), now: feed.now)
            }
            #expect(feed.engine.usage == walked(feed.engine), "step \(step)")
        }
    }

    /// A million users: the summary adds up the totals without walking them.
    @Test func aMillionUsersAreCountedWithoutAWalk() throws {
        var engine = FeedEngine()
        for index in 0..<1_000_000 {
            _ = try engine.follow(follower: "user:\(index)", followee: "star:\(index / 1000)", now: 1_795_000_000_000)
        }
        let summary = engine.summary
        #expect(summary.users == 1_001_000 && summary.follows == 1_000_000)
        #expect(engine.usage == walked(engine))
        #expect(summary.followGraphBytes == engine.usage.followGraphBytes)
    }
}
