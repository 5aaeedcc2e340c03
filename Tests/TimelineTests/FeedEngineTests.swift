import Testing
@testable import Timeline

@Suite struct FeedEngineTests {
    @Test func aPostReachesFollowersAndItsAuthorOnly() {
        let feed = TestFeed()
        feed.follow("bob", "alice")
        _ = feed.feed("bob")  // bob's timeline is now resident: the post is pushed into it
        let id = feed.post("alice", "hi")
        #expect(feed.feed("bob") == [id])
        #expect(feed.feed("alice") == [id])
        #expect(feed.feed("carol") == [])
        #expect(feed.engine.counters.fanoutDeliveries == 1)
    }

    @Test func entriesCarryIdAuthorTimeAndBody() {
        let feed = TestFeed()
        let id = feed.post("alice", "{\"text\":\"hi\"}")
        let entries = feed.engine.read(user: "alice", count: 10, now: feed.now)
        #expect(entries == [FeedEntry(id: id, author: "alice", createdMilliseconds: feed.now, body: "{\"text\":\"hi\"}")])
    }

    @Test func readsReturnExactlyMinOfCountAndAvailableNewestFirst() {
        let feed = TestFeed()
        feed.follow("bob", "alice")
        feed.follow("bob", "carol")
        var ids: [UInt64] = []
        for index in 0..<30 { ids.append(feed.post(index % 2 == 0 ? "alice" : "carol", "post \(index)")) }
        #expect(feed.feed("bob", count: 10) == Array(ids.reversed().prefix(10)))
        #expect(feed.feed("bob", count: 50) == ids.reversed())
        #expect(feed.feed("bob", count: 1) == [ids.last!])
    }

    @Test func beforePagesToStrictlyOlderEntries() {
        let feed = TestFeed()
        feed.follow("bob", "alice")
        let ids = (0..<25).map { feed.post("alice", "p\($0)") }
        #expect(feed.feed("bob", count: 5, before: ids[10]) == [ids[9], ids[8], ids[7], ids[6], ids[5]])
        #expect(feed.pagedFeed("bob", pageSize: 7) == ids.reversed())
        #expect(feed.feed("bob", before: ids[0]) == [])
    }

    @Test func aFeedIsEveryLivePostByFolloweesAndSelfNewestFirst() {
        let feed = TestFeed()
        let people = ["ann", "ben", "cat", "dan", "eve"]
        feed.follow("ann", "ben")
        feed.follow("ann", "cat")
        feed.follow("ben", "ann")
        _ = feed.feed("ann")
        var byAuthor: [String: [UInt64]] = [:]
        for round in 0..<40 {
            let author = people[round % people.count]
            byAuthor[author, default: []].append(feed.post(author))
        }
        let expected = (byAuthor["ann"]! + byAuthor["ben"]! + byAuthor["cat"]!).sorted(by: >)
        #expect(feed.feed("ann") == expected)
    }

    @Test func followBackfillsAndUnfollowTakesPostsOut() {
        let feed = TestFeed { $0.backfillCount = 3 }
        let old = (0..<5).map { feed.post("alice", "old \($0)") }
        feed.follow("bob", "carol")
        _ = feed.feed("bob")  // bob's timeline is resident, so FOLLOW copies into it
        #expect(feed.follow("bob", "alice"))
        #expect(!feed.follow("bob", "alice"))
        // The resident timeline got the newest `backfillCount` posts; a read
        // goes on below it through alice's older posts: the feed does not end
        // while older posts exist.
        #expect(feed.stats("bob").timeline == 3)
        #expect(feed.feed("bob") == old.reversed())
        #expect(feed.feed("bob", count: 2, before: old[3]) == [old[2], old[1]])
        let fresh = feed.post("alice", "new")
        #expect(feed.feed("bob").first == fresh)
        #expect(feed.unfollow("bob", "alice"))
        #expect(!feed.unfollow("bob", "alice"))
        #expect(feed.feed("bob") == [])
        #expect(feed.stats("bob").timeline == 0)
    }

    @Test func followingYourselfIsAnErrorThatChangesNothing() {
        let feed = TestFeed()
        #expect(throws: FeedError.followSelf) { try feed.engine.follow(follower: "a", followee: "a", now: feed.now) }
        #expect(throws: FeedError.followSelf) { try feed.engine.unfollow(follower: "a", followee: "a") }
        #expect(feed.engine.userCount == 0)
    }

    @Test func deleteRemovesThePostFromEveryFeedAndFromGet() {
        let feed = TestFeed()
        feed.follow("bob", "alice")
        feed.follow("carol", "alice")
        _ = feed.feed("bob")
        let keep = feed.post("alice", "keep")
        let gone = feed.post("alice", "gone")
        #expect(!feed.delete("bob", gone))  // not bob's
        #expect(feed.delete("alice", gone))
        #expect(!feed.delete("alice", gone))  // already gone
        #expect(feed.feed("bob") == [keep])
        #expect(feed.feed("carol") == [keep])  // rebuilt timeline
        #expect(feed.feed("alice") == [keep])
        #expect(feed.get([gone, keep]).map { $0?.id } == [nil, keep])
        #expect(feed.stats("alice").posts == 1)
        #expect(feed.posts("alice", count: 10).map(\.id) == [keep])
    }

    @Test func celebrityPostsArePulledNotPushed() {
        let feed = TestFeed { $0.celebrityThreshold = 3 }
        for fan in ["f1", "f2", "f3"] {
            feed.follow(fan, "star")
            _ = feed.feed(fan)
        }
        #expect(feed.stats("star").celebrity)
        let deliveriesBefore = feed.engine.counters.fanoutDeliveries
        let id = feed.post("star", "big news")
        #expect(feed.engine.counters.fanoutDeliveries == deliveriesBefore)
        #expect(feed.engine.counters.fanoutsSkippedForCelebrity == 1)
        #expect(feed.stats("f1").timeline == 0)
        // Yet every follower reads it, merged in at read time.
        for fan in ["f1", "f2", "f3"] { #expect(feed.feed(fan) == [id]) }
        #expect(feed.engine.counters.readsWithCelebrityMerge == 3)
        // And the star sees their own post.
        #expect(feed.feed("star") == [id])
    }

    @Test func crossingTheThresholdEitherWayHidesNothing() {
        let feed = TestFeed { $0.celebrityThreshold = 2 }
        feed.follow("f1", "star")
        _ = feed.feed("f1")
        let pushed = feed.post("star", "before fame")
        feed.follow("f2", "star")  // now a celebrity, nothing is re-bucketed
        let pulled = feed.post("star", "famous")
        #expect(feed.feed("f1") == [pulled, pushed])
        #expect(feed.feed("f2") == [pulled, pushed])
        #expect(feed.unfollow("f2", "star"))  // below the threshold again
        #expect(!feed.stats("star").celebrity)
        let pushedAgain = feed.post("star", "back to normal")
        // The post made while famous is still pulled, so it stays visible.
        #expect(feed.feed("f1") == [pushedAgain, pulled, pushed])
        #expect(feed.engine.summary.pulledAuthors == 1)
        // Once the unpushed post is deleted, the star is no longer pulled.
        #expect(feed.delete("star", pulled))
        #expect(feed.engine.summary.pulledAuthors == 0)
        #expect(feed.feed("f1") == [pushedAgain, pushed])
    }

    @Test func inactiveUsersGetNoFanOutAndReadTheSameFeedAfterARebuild() {
        let week: Int64 = 7 * 24 * 3600 * 1000
        let dropping = TestFeed()
        let keeping = TestFeed { $0.inactiveAfterMilliseconds = .max }
        for feed in [dropping, keeping] {
            feed.follow("bob", "alice")
            feed.follow("bob", "carol")
            _ = feed.feed("bob")
            feed.post("alice", "a1")
            feed.tick(week + 1)  // bob has not read for more than a week
            feed.post("carol", "c1")
            feed.post("alice", "a2")
        }
        #expect(dropping.stats("bob").timeline == 0)
        #expect(dropping.engine.counters.inactiveFollowersSkipped == 2)
        #expect(dropping.engine.counters.timelinesDropped == 1)
        #expect(keeping.stats("bob").timeline == 3)
        let rebuilt = dropping.engine.read(user: "bob", count: 50, now: dropping.now)
        let kept = keeping.engine.read(user: "bob", count: 50, now: keeping.now)
        #expect(rebuilt.map(\.body) == ["a2", "c1", "a1"])
        #expect(rebuilt.map(\.body) == kept.map(\.body))
        #expect(dropping.engine.counters.timelineRebuilds == 2)  // the first read, and this one
        // Having read, bob is active again and gets fan-out.
        dropping.post("alice", "a3")
        #expect(dropping.stats("bob").timeline == 4)
    }

    @Test func droppedTimelinesAreRebuiltIdentically() {
        let feed = TestFeed { $0.inactiveAfterMilliseconds = 1000 }
        feed.follow("bob", "alice")
        feed.follow("bob", "carol")
        feed.follow("dan", "alice")
        _ = feed.feed("bob")
        _ = feed.feed("dan")
        for index in 0..<20 { feed.post(index % 2 == 0 ? "alice" : "carol", "p\(index)") }
        let resident = feed.feed("bob")
        let dropped = feed.engine.dropTimeline(of: "bob")
        let droppedAgain = feed.engine.dropTimeline(of: "bob")
        #expect(dropped && !droppedAgain)
        #expect(feed.feed("bob") == resident)
        feed.tick(5000)
        _ = feed.feed("dan")  // dan reads, so only bob is inactive
        let inactiveDropped = feed.engine.dropInactiveTimelines(now: feed.now)
        #expect(inactiveDropped == 1)
        #expect(feed.stats("bob").timeline == 0 && feed.stats("dan").timeline > 0)
        #expect(feed.feed("bob") == resident)
    }

    @Test func readsGoOnBelowAFullTimeline() {
        let feed = TestFeed { $0.timelineCap = 5 }
        feed.follow("bob", "alice")
        feed.follow("bob", "carol")
        _ = feed.feed("bob")
        let ids = (0..<12).map { feed.post($0 % 2 == 0 ? "alice" : "carol", "p\($0)") }
        #expect(feed.stats("bob").timeline == 5)
        // Page by page past the cap, down to the first post.
        #expect(feed.pagedFeed("bob", pageSize: 4) == ids.reversed())
        #expect(feed.feed("bob", count: 3, before: ids[4]) == [ids[3], ids[2], ids[1]])
    }

    @Test func aShortReadSaysWhereTheStoreMustContinue() {
        let feed = TestFeed { $0.recentPostsCap = 3 }
        feed.follow("bob", "alice")
        let ids = (0..<5).map { feed.post("alice", "p\($0)") }  // alice's 2 oldest leave memory's recent list
        var collector = FeedEntryCollector()
        let continuation = feed.engine.read(user: "bob", count: 10, now: feed.now, into: &collector)
        #expect(collector.entries.compactMap { $0?.id } == [ids[4], ids[3], ids[2]])
        #expect(continuation == StoreContinuation(authors: [feed.engine.number(of: "alice")!], before: ids[2], count: 7))
        var own = FeedEntryCollector()
        let postsContinuation = feed.engine.posts(author: "alice", count: 2, into: &own)
        #expect(postsContinuation == nil)  // two asked, two there
        // A full page needs no store.
        var page = FeedEntryCollector()
        #expect(feed.engine.read(user: "bob", count: 3, now: feed.now, into: &page) == nil)
    }

    @Test func restoredStateReadsLikeTheOriginal() throws {
        let feed = StoreBackedFeed()
        for follower in ["bob", "carol"] { _ = try feed.faulting { (e) throws(FeedError) in try e.follow(follower: follower, followee: "alice", now: feed.now) } }
        var ids: [UInt64] = []
        for index in 0..<6 {
            feed.now += 1
            ids.append(try feed.faulting { (e) throws(FeedError) in try e.post(author: "alice", body: "p\(index)", now: feed.now) })
        }
        _ = try feed.faulting { (e) throws(FeedError) in try e.like(user: "bob", post: ids[1], now: feed.now) }
        _ = try feed.faulting { (e) throws(FeedError) in try e.delete(author: "alice", post: ids[2], now: feed.now) }
        let before = feed.read("bob", count: 50)
        // Start again from what the store holds: users and follows, no posts in memory.
        feed.restart(warm: nil)
        #expect(feed.engine.summary.posts == 0)
        #expect(feed.read("bob", count: 50) == before)
        #expect(feed.read("carol", count: 50).map(\.id) == before.map(\.id))
        #expect(try feed.faulting { (e) throws(FeedError) in try e.like(user: "carol", post: ids[1], now: feed.now) } == 2)
        #expect(try feed.faulting { (e) throws(FeedError) in try e.stats(of: "alice") }.posts == 5)
        // New ids continue above the restored ones; new users are new to the store.
        let next = try feed.faulting { (e) throws(FeedError) in try e.post(author: "dave", body: "hi", now: feed.now) }
        #expect(next > ids.last!)
        #expect(try feed.faulting { (e) throws(FeedError) in try e.stats(of: "dave") }.posts == 1)
        // Warmed with the newest posts, a read needs no store.
        feed.restart(warm: 10)
        var collector = FeedEntryCollector()
        #expect(feed.engine.read(user: "bob", count: 50, now: feed.now, into: &collector) == nil)
        // The same posts (the like count moved since: carol liked).
        #expect(collector.entries.compactMap { $0 }.map { [$0.id.description, $0.author, $0.body ?? "-"] } == before.map { [$0.id.description, $0.author, $0.body ?? "-"] })
    }

    @Test func replayingAFanOutChangesNothing() {
        let feed = TestFeed()
        for fan in ["f1", "f2"] {
            feed.follow(fan, "alice")
            _ = feed.feed(fan)
        }
        let id = feed.post("alice")
        let before = (feed.engine.timelines, feed.engine.counters.fanoutDeliveries)
        feed.engine.fanOut(id, author: feed.engine.number(of: "alice")!, now: feed.now)
        #expect(feed.engine.timelines == before.0)
        #expect(feed.feed("f1") == [id])
    }

    @Test func likesCountEachUserOnce() throws {
        let feed = TestFeed()
        let id = feed.post("alice")
        #expect(try feed.like("bob", id) == 1)
        #expect(try feed.like("bob", id) == 1)
        #expect(try feed.like("carol", id) == 2)
        #expect(try feed.unlike("bob", id) == 1)
        #expect(try feed.unlike("bob", id) == 1)
        #expect(try feed.unlike("nobody", id) == 1)
        let users = feed.engine.userCount
        #expect(throws: FeedError.noSuchPost) { try feed.like("dave", id + 1) }
        #expect(feed.engine.userCount == users)  // the failed LIKE created no user
    }

    @Test func statsAndFollowLists() throws {
        let feed = TestFeed()
        for fan in ["a", "b", "c", "d"] { feed.follow(fan, "star") }
        feed.follow("star", "a")
        feed.post("star")
        let stats = feed.stats("star")
        #expect(stats.followers == 4 && stats.following == 1 && stats.posts == 1 && !stats.celebrity)
        #expect(try feed.engine.followers(of: "star", count: 10) == ["a", "b", "c", "d"])
        #expect(try feed.engine.followers(of: "star", count: 2) == ["a", "b"])
        #expect(try feed.engine.followers(of: "star", count: 2, after: "b") == ["c", "d"])
        #expect(try feed.engine.following(of: "star", count: 10) == ["a"])
        #expect(try feed.engine.followers(of: "nobody", count: 10) == [])
        #expect(throws: FeedError.unknownUser("zed")) { try feed.engine.followers(of: "star", count: 1, after: "zed") }
        #expect(feed.stats("nobody") == UserStats())
    }

    @Test func badInputIsRefusedAndChangesNothing() {
        let feed = TestFeed { $0.maxBodyBytes = 10 }
        let longName = String(repeating: "u", count: 129)
        #expect(throws: FeedError.emptyUserID) { try feed.engine.post(author: "", body: "x", now: feed.now) }
        #expect(throws: FeedError.userIDTooLong(limit: 128)) { try feed.engine.post(author: longName, body: "x", now: feed.now) }
        #expect(throws: FeedError.emptyBody) { try feed.engine.post(author: "a", body: "", now: feed.now) }
        #expect(throws: FeedError.bodyTooLarge(limit: 10)) {
            try feed.engine.post(author: "a", body: String(repeating: "b", count: 11), now: feed.now)
        }
        #expect(throws: FeedError.userIDTooLong(limit: 128)) { try feed.engine.follow(follower: "a", followee: longName, now: feed.now) }
        #expect(feed.engine.summary == FeedSummary())
        #expect(try! feed.engine.post(author: String(repeating: "u", count: 128), body: "0123456789", now: feed.now) > 0)
    }

    @Test func mutationsAreRecordedInEngineOrder() throws {
        let feed = TestFeed { $0.recordsMutations = true }
        feed.follow("bob", "alice")
        let followedAt = feed.now
        let id = feed.post("alice", "x")
        _ = try feed.like("bob", id)
        let likedAt = feed.now
        _ = feed.delete("alice", id)
        feed.unfollow("bob", "alice")
        let follow = NotificationKey(verb: .follow, object: 0, at: followedAt)
        let like = NotificationKey(verb: .like, object: id, at: likedAt)
        // Notification orders are time-based, as post ids are (so several nodes' compare).
        var orders = PostIDGenerator(node: 0)
        let (followOrder, likeOrder) = (orders.next(now: followedAt), orders.next(now: likedAt))
        #expect(
            feed.engine.drainMutations() == [
                .userCreated(user: 0, name: "bob"), .userCreated(user: 1, name: "alice"),
                .followed(follower: 0, followee: 1),
                .notified(user: 1, group: follow, actor: 0, source: NotificationSource(id: 0, at: followedAt, order: followOrder), added: true),
                .postCreated(post: id, author: 1, body: "x"),
                .liked(user: 0, post: id), .affinity(user: 0, author: 1, counts: AffinityCounts(likes: 1, at: likedAt)),
                .notified(user: 1, group: like, actor: 0, source: NotificationSource(id: 0, at: likedAt, order: likeOrder), added: true),
                .postDeleted(post: id, author: 1), .notificationGroupRemoved(user: 1, group: like),
                .unfollowed(follower: 0, followee: 1), .notificationGroupRemoved(user: 1, group: follow),
            ])
        #expect(feed.engine.drainMutations() == [])
    }

    @Test func anEvictedBodyReadsAsNilWithoutAStore() {
        let feed = TestFeed { $0.postCacheBytes = 3 * (10 + PostBodyCache.overheadPerBody) }
        let ids = (0..<5).map { feed.post("alice", "body-\($0)____") }
        let entries = feed.engine.read(user: "alice", count: 10, now: feed.now)
        #expect(entries.map(\.id) == ids.reversed())
        #expect(entries.prefix(3).allSatisfy { $0.body != nil })
        #expect(entries.suffix(2).allSatisfy { $0.body == nil })
        #expect(feed.engine.summary.cacheEvictions == 2)
    }
}
