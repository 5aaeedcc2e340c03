import Testing
@testable import Timeline

/// The simplest possible definition of a feed: every live post by the user
/// and by everyone they follow, newest first, recomputed from scratch.
struct ReferenceFeeds {
    var follows: Set<[String]> = []
    var posts: [UInt64: (author: String, body: String)] = [:]

    func follows(_ follower: String, _ followee: String) -> Bool { self.follows.contains([follower, followee]) }

    func feed(_ user: String) -> [UInt64] {
        self.posts.filter { $0.value.author == user || self.follows(user, $0.value.author) }.keys.sorted(by: >)
    }
}

/// Thousands of random operations against the engine and the reference, with
/// a celebrity threshold of 5 among 12 users so authors cross it both ways,
/// and users going inactive (timelines dropped and rebuilt). Every read must
/// match.
@Suite struct FeedModelTests {
    @Test(arguments: 1...8)
    func randomOperationsMatchTheReference(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        var configuration = FeedConfiguration()
        configuration.celebrityThreshold = 5
        configuration.inactiveAfterMilliseconds = 200
        var engine = FeedEngine(configuration: configuration)
        var model = ReferenceFeeds()
        let users = (0..<12).map { "user:\($0)" }
        var now: Int64 = 1_795_000_000_000
        var crossedUp = 0
        var crossedDown = 0

        for step in 0..<1500 {
            // Mostly small steps, sometimes long enough for readers to go inactive.
            now += Int64.random(in: 0...3, using: &rng) == 0 ? 250 : Int64.random(in: 1...20, using: &rng)
            let user = users.randomElement(using: &rng)!
            let other = users.randomElement(using: &rng)!
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<20:
                guard user != other else { continue }
                let wasCelebrity = engine.stats(of: other).celebrity
                let changed = try engine.follow(follower: user, followee: other, now: now)
                #expect(changed == !model.follows(user, other), "step \(step)")
                model.follows.insert([user, other])
                if !wasCelebrity && engine.stats(of: other).celebrity { crossedUp += 1 }
            case 20..<40:
                guard user != other else { continue }
                let wasCelebrity = engine.stats(of: other).celebrity
                let changed = try engine.unfollow(follower: user, followee: other)
                #expect(changed == model.follows(user, other), "step \(step)")
                model.follows.remove([user, other])
                if wasCelebrity && !engine.stats(of: other).celebrity { crossedDown += 1 }
            case 40..<70:
                let body = "post \(step) by \(user)"
                let id = try engine.post(author: user, body: body, now: now)
                model.posts[id] = (user, body)
            case 70..<78:
                let mine = model.posts.filter { $0.value.author == user }.keys.sorted()
                let victim = Bool.random(using: &rng) ? mine.randomElement(using: &rng) : model.posts.keys.randomElement(using: &rng)
                guard let victim else { continue }
                let deleted = engine.delete(author: user, post: victim)
                #expect(deleted == (model.posts[victim]?.author == user), "step \(step)")
                if deleted { model.posts.removeValue(forKey: victim) }
            default:
                let expected = model.feed(user)
                let count = Int.random(in: 1...60, using: &rng)
                let before: UInt64? = Bool.random(using: &rng) ? nil : expected.randomElement(using: &rng)
                let entries = engine.read(user: user, count: count, before: before, now: now)
                let wanted = Array(expected.filter { before == nil || $0 < before! }.prefix(count))
                #expect(entries.map(\.id) == wanted, "step \(step) read \(user) count \(count) before \(String(describing: before))")
                for entry in entries {
                    #expect(entry.author == model.posts[entry.id]?.author)
                    #expect(entry.body == model.posts[entry.id]?.body)
                }
            }
        }
        // At the end every user's whole feed matches, read in pages.
        for user in users {
            now += 1
            var all: [UInt64] = []
            var before: UInt64? = nil
            while true {
                let page = engine.read(user: user, count: 7, before: before, now: now).map(\.id)
                all += page
                guard page.count == 7 else { break }
                before = page.last
            }
            #expect(all == model.feed(user), "final feed of \(user)")
        }
        #expect(crossedUp > 0 && crossedDown > 0, "the run must cross the celebrity threshold both ways")
        // Every path was taken: push, pull, dropped and rebuilt timelines.
        #expect(engine.counters.fanoutDeliveries > 0 && engine.counters.fanoutsSkippedForCelebrity > 0)
        #expect(engine.counters.readsWithCelebrityMerge > 0)
        #expect(engine.counters.timelinesDropped > 0 && engine.counters.timelineRebuilds > 12)
    }
}
