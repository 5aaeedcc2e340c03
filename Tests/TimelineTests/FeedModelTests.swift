import Testing
@testable import Timeline

/// The simplest possible definition of a feed: every live post by the user
/// and by everyone they follow, newest first, recomputed from scratch.
struct ReferenceFeeds {
    var follows: Set<[String]> = []
    var posts: [UInt64: (author: String, body: String)] = [:]
    var likes: [UInt64: Set<String>] = [:]

    func follows(_ follower: String, _ followee: String) -> Bool { self.follows.contains([follower, followee]) }

    func feed(_ user: String) -> [UInt64] {
        self.posts.filter { $0.value.author == user || self.follows(user, $0.value.author) }.keys.sorted(by: >)
    }

    func own(_ author: String) -> [UInt64] {
        self.posts.filter { $0.value.author == author }.keys.sorted(by: >)
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
                let wasCelebrity = try engine.stats(of: other).celebrity
                let changed = try engine.follow(follower: user, followee: other, now: now)
                #expect(changed == !model.follows(user, other), "step \(step)")
                model.follows.insert([user, other])
                if try !wasCelebrity && engine.stats(of: other).celebrity { crossedUp += 1 }
            case 20..<40:
                guard user != other else { continue }
                let wasCelebrity = try engine.stats(of: other).celebrity
                let changed = try engine.unfollow(follower: user, followee: other)
                #expect(changed == model.follows(user, other), "step \(step)")
                model.follows.remove([user, other])
                if try wasCelebrity && !engine.stats(of: other).celebrity { crossedDown += 1 }
            case 40..<70:
                let body = "post \(step) by \(user)"
                let id = try engine.post(author: user, body: body, now: now)
                model.posts[id] = (user, body)
            case 70..<78:
                let mine = model.posts.filter { $0.value.author == user }.keys.sorted()
                let victim = Bool.random(using: &rng) ? mine.randomElement(using: &rng) : model.posts.keys.randomElement(using: &rng)
                guard let victim else { continue }
                let deleted = try engine.delete(author: user, post: victim, now: now)
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

    /// The same rules with memory as a cache: a store behind the engine, a
    /// journal committing at random, everything evictable evicted on most
    /// steps, small caps so floors rise all the time, and restarts (with and
    /// without warming the newest posts). Reads, FEED.POSTS, FEED.GET, likes
    /// and post counts must match the reference exactly.
    @Test(arguments: 1...8)
    func randomOperationsMatchTheReferenceWithEviction(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed &* 7919)
        let feed = StoreBackedFeed {
            $0.celebrityThreshold = 5
            $0.inactiveAfterMilliseconds = 200
            $0.timelineCap = 9
            $0.recentPostsCap = 7
            $0.backfillCount = 4
            $0.postCacheBytes = 8 * (PostBodyCache.overheadPerBody + 24)
        }
        var model = ReferenceFeeds()
        let users = (0..<12).map { "user:\($0)" }
        var evictionSteps = 0
        var restarts = 0
        var crossedUp = 0
        var crossedDown = 0

        for step in 0..<2500 {
            feed.now += Int64.random(in: 0...3, using: &rng) == 0 ? 250 : Int64.random(in: 1...20, using: &rng)
            let user = users.randomElement(using: &rng)!
            let other = users.randomElement(using: &rng)!
            let context = "seed \(seed) step \(step)"
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<14:
                guard user != other else { continue }
                let wasCelebrity = try feed.faulting { (engine) throws(FeedError) in try engine.stats(of: other).celebrity }
                let changed = try feed.faulting { (engine) throws(FeedError) in
                    try engine.follow(follower: user, followee: other, now: feed.now)
                }
                #expect(changed == !model.follows(user, other), "\(context)")
                model.follows.insert([user, other])
                if try !wasCelebrity && feed.faulting({ (engine) throws(FeedError) in try engine.stats(of: other).celebrity }) {
                    crossedUp += 1
                }
            case 14..<26:
                guard user != other else { continue }
                let wasCelebrity = try feed.faulting { (engine) throws(FeedError) in try engine.stats(of: other).celebrity }
                let changed = try feed.faulting { (engine) throws(FeedError) in try engine.unfollow(follower: user, followee: other) }
                #expect(changed == model.follows(user, other), "\(context)")
                model.follows.remove([user, other])
                if try wasCelebrity && !feed.faulting({ (engine) throws(FeedError) in try engine.stats(of: other).celebrity }) {
                    crossedDown += 1
                }
            case 26..<52:
                let body = "post \(step) by \(user)"
                let id = try feed.faulting { (engine) throws(FeedError) in try engine.post(author: user, body: body, now: feed.now) }
                model.posts[id] = (user, body)
            case 52..<58:
                let mine = model.posts.filter { $0.value.author == user }.keys.sorted()
                let victim = Bool.random(using: &rng) ? mine.randomElement(using: &rng) : model.posts.keys.randomElement(using: &rng)
                guard let victim else { continue }
                let deleted = feed.delete(user, victim)
                #expect(deleted == (model.posts[victim]?.author == user), "\(context) delete")
                if deleted {
                    model.posts.removeValue(forKey: victim)
                    model.likes.removeValue(forKey: victim)
                }
            case 58..<66:
                guard let target = model.posts.keys.randomElement(using: &rng) else { continue }
                let likes = try feed.faulting { (engine) throws(FeedError) in try engine.like(user: user, post: target, now: feed.now) }
                model.likes[target, default: []].insert(user)
                #expect(likes == model.likes[target]!.count, "\(context) like")
            case 66..<70:
                guard let target = model.posts.keys.randomElement(using: &rng) else { continue }
                let likes = try feed.faulting { (engine) throws(FeedError) in try engine.unlike(user: user, post: target) }
                model.likes[target]?.remove(user)
                #expect(likes == model.likes[target]?.count ?? 0, "\(context) unlike")
            case 70..<73:
                let stats = try feed.faulting { (engine) throws(FeedError) in try engine.stats(of: user) }
                let known = feed.engine.number(of: user) != nil
                #expect(stats.posts == (known ? model.own(user).count : 0), "\(context) stats posts")
            case 73..<77:
                let expected = model.own(user)
                let count = Int.random(in: 1...12, using: &rng)
                let before: UInt64? = Bool.random(using: &rng) ? nil : expected.randomElement(using: &rng)
                let entries = feed.posts(user, count: count, before: before)
                let wanted = Array(expected.filter { before == nil || $0 < before! }.prefix(count))
                #expect(entries.map(\.id) == wanted, "\(context) posts \(user)")
            case 77..<80 where Bool.random(using: &rng):
                // Catch-up after a reconnect: what is newer than an id, oldest first.
                let expected = model.feed(user).reversed()
                let after = expected.randomElement(using: &rng) ?? 0
                let count = Int.random(in: 1...15, using: &rng)
                let entries = feed.readAfter(user, after: after, count: count)
                #expect(entries.map(\.id) == Array(expected.filter { $0 > after }.prefix(count)), "\(context) after \(after)")
                for entry in entries { #expect(entry.body == model.posts[entry.id]?.body) }
            case 77..<80:
                let asked = (0..<3).compactMap { _ in model.posts.keys.randomElement(using: &rng) } + [1, 2]
                let entries = feed.get(asked)
                #expect(entries.map { $0?.id } == asked.map { model.posts[$0] == nil ? nil : $0 }, "\(context) get")
                for entry in entries.compactMap({ $0 }) { #expect(entry.body == model.posts[entry.id]?.body) }
            default:
                let expected = model.feed(user)
                let count = Int.random(in: 1...20, using: &rng)
                let before: UInt64? = Bool.random(using: &rng) ? nil : expected.randomElement(using: &rng)
                let entries = feed.read(user, count: count, before: before)
                let wanted = Array(expected.filter { before == nil || $0 < before! }.prefix(count))
                #expect(entries.map(\.id) == wanted, "\(context) read \(user) count \(count) before \(String(describing: before))")
                for entry in entries {
                    #expect(entry.author == model.posts[entry.id]?.author && entry.body == model.posts[entry.id]?.body)
                }
            }
            feed.journalMutations()
            // The writer commits part of the journal; memory is squeezed on most steps.
            if Int.random(in: 0..<10, using: &rng) < 7 {
                feed.commit(Int.random(in: 0...feed.journal.count, using: &rng))
            }
            if Int.random(in: 0..<10, using: &rng) < 8 {
                let before = feed.engine.evictions
                feed.evictAll()
                if feed.engine.evictions != before { evictionSteps += 1 }
            }
            if Int.random(in: 0..<400, using: &rng) == 0 {
                feed.restart(warm: Bool.random(using: &rng) ? nil : Int.random(in: 1...40, using: &rng))
                restarts += 1
            }
        }
        for user in users {
            feed.now += 1
            var all: [UInt64] = []
            var before: UInt64? = nil
            while true {
                let page = feed.read(user, count: 5, before: before).map(\.id)
                all += page
                guard page.count == 5 else { break }
                before = page.last
            }
            #expect(all == model.feed(user), "final feed of \(user)")
        }
        #expect(evictionSteps > 1000, "eviction must happen on most steps (\(evictionSteps))")
        #expect(crossedUp > 0 && crossedDown > 0, "the run must cross the celebrity threshold both ways")
        #expect(feed.continuations > 100, "reads must go on in the store (\(feed.continuations))")
        #expect(feed.faults > 100, "commands must fetch from the store (\(feed.faults))")
        #expect(restarts > 0)
    }
}
