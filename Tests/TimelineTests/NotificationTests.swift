import Testing
@testable import Timeline

extension TestFeed {
    /// Every group the user sees, newest-updated first.
    func notifications(_ user: String) -> [NotificationGroupView] { try! self.engine.notifications(of: user, count: 500) }

    /// The groups as "id actors…" lines, easy to state exactly.
    func groups(_ user: String) -> [String] {
        self.notifications(user).map { ([$0.key.verb.name] + $0.actors + ["(\($0.actorCount))"]).joined(separator: " ") }
    }
}

private let day: Int64 = 86_400_000

/// One rule at a time (docs/adr/0014-notifications.md).
@Suite struct NotificationTests {
    @Test func mentionsAreNamesAfterAnAt() {
        #expect(Mentions.names(in: "hi @bob and @carol.") == ["bob", "carol"])
        #expect(Mentions.names(in: "@user:42: look, @bob-, @bob again") == ["user:42", "bob"])
        #expect(Mentions.names(in: "mail a@b.com, @@x, @ alone, (@dave)") == ["x", "dave"])
        #expect(Mentions.names(in: "no mentions here") == [])
    }

    @Test func groupIDsRoundTripAndRefuseWhatIsNotOne() {
        let key = NotificationKey(verb: .like, object: 12345, day: 20790)
        #expect(key.description == "like:12345:20790")
        #expect(NotificationKey(id: "like:12345:20790") == key)
        #expect(NotificationKey(id: "follow:0:20790") == NotificationKey(verb: .follow, object: 0, day: 20790))
        for bad in ["", "like", "like:1", "like:x:1", "poke:1:1", "follow:5:1", "like:0:1", "like:1:1:1", "like:-1:2"] {
            #expect(NotificationKey(id: bad) == nil, "\(bad)")
        }
        #expect(NotificationKey.day(of: 0) == 0 && NotificationKey.day(of: day - 1) == 0 && NotificationKey.day(of: day) == 1)
        #expect(NotificationKey.day(of: -1) == -1)
    }

    @Test func likesOfAPostAggregateNewestActorFirstEachActorOnce() throws {
        let feed = TestFeed()
        let post = feed.post("alice")
        for liker in ["bob", "carol", "dave", "erin", "frank", "grace"] {
            feed.tick()
            _ = try feed.like(liker, post)
        }
        _ = try feed.unlike("bob", post)
        feed.tick()
        _ = try feed.like("bob", post)  // bob comes back: newest again
        _ = try feed.like("bob", post)  // again: nothing new
        let groups = feed.notifications("alice")
        #expect(groups.count == 1)
        #expect(groups[0].id == "like:\(post):\(NotificationKey.day(of: feed.now))")
        #expect(groups[0].actors == ["bob", "grace", "frank", "erin", "dave"] && groups[0].actorCount == 6)
        #expect(groups[0].updatedMilliseconds == feed.now && !groups[0].seen && !groups[0].read)
    }

    @Test func everyVerbNotifiesTheOneItWasDoneTo() throws {
        let feed = TestFeed()
        let post = feed.post("alice")
        feed.follow("bob", "alice")
        _ = try feed.like("carol", post)
        feed.tick()
        _ = try feed.engine.repost(user: "dave", post: post, now: feed.now)
        feed.tick()
        _ = try feed.engine.post(author: "erin", body: "replying", replyTo: post, now: feed.now)
        feed.post("frank", "hey @alice and @nobody")
        #expect(feed.groups("alice") == ["mention frank (1)", "reply erin (1)", "repost dave (1)", "like carol (1)", "follow bob (1)"])
        // The follow group has no object.
        #expect(feed.notifications("alice").last!.key.object == 0)
    }

    @Test func ownActionsNotifyNobody() throws {
        let feed = TestFeed()
        let post = feed.post("alice", "note to @alice")
        _ = try feed.like("alice", post)
        _ = try feed.engine.repost(user: "alice", post: post, now: feed.now)
        _ = try feed.engine.post(author: "alice", body: "more", replyTo: post, now: feed.now)
        #expect(feed.notifications("alice").isEmpty)
    }

    @Test func takingAnActionBackTakesTheActorOutAndAnEmptyGroupGoes() throws {
        let feed = TestFeed()
        let post = feed.post("alice")
        _ = try feed.like("bob", post)
        _ = try feed.like("carol", post)
        _ = try feed.unlike("carol", post)
        #expect(feed.groups("alice") == ["like bob (1)"])
        _ = try feed.unlike("bob", post)
        feed.follow("bob", "alice")
        feed.unfollow("bob", "alice")
        feed.tick()
        let repost = try feed.engine.repost(user: "dave", post: post, now: feed.now)
        #expect(feed.groups("alice") == ["repost dave (1)"])
        #expect(try feed.engine.unrepost(user: "dave", post: repost, now: feed.now))
        #expect(feed.notifications("alice").isEmpty)
        #expect(feed.engine.summary.notificationGroups == 0 && feed.engine.summary.notificationSources == 0)
    }

    @Test func anActorWithTwoRepliesStaysUntilBothAreGone() throws {
        let feed = TestFeed()
        let post = feed.post("alice")
        let first = try feed.engine.post(author: "bob", body: "one", replyTo: post, now: feed.now)
        feed.tick()
        _ = try feed.engine.post(author: "carol", body: "mine", replyTo: post, now: feed.now)
        feed.tick()
        let second = try feed.engine.post(author: "bob", body: "two", replyTo: post, now: feed.now)
        // bob joined first: carol is the newest actor.
        #expect(feed.groups("alice") == ["reply carol bob (2)"])
        #expect(feed.delete("bob", first))
        // bob's standing reply is now his second, after carol's.
        #expect(feed.groups("alice") == ["reply bob carol (2)"])
        #expect(feed.delete("bob", second))
        #expect(feed.groups("alice") == ["reply carol (1)"])
    }

    @Test func aNewActorMovesTheGroupToTheTopAndMakesItUnseenAndUnread() throws {
        let feed = TestFeed()
        let first = feed.post("alice")
        let second = feed.post("alice")
        _ = try feed.like("bob", first)
        feed.tick()
        _ = try feed.like("bob", second)
        #expect(feed.notifications("alice").map(\.key.object) == [second, first])
        #expect(feed.engine.markNotificationsSeen(user: "alice", now: feed.now) == 2)
        #expect(feed.engine.markNotificationsSeen(user: "alice", now: feed.now) == 0)
        let firstGroup = feed.notifications("alice")[1].key
        #expect(feed.engine.markNotificationsRead(user: "alice", groups: [firstGroup, firstGroup], now: feed.now) == 1)
        #expect(feed.engine.notificationCounts(of: "alice") == (0, 1))
        feed.tick()
        _ = try feed.like("carol", first)
        let groups = feed.notifications("alice")
        #expect(groups.map(\.key.object) == [first, second])
        #expect(!groups[0].seen && !groups[0].read && groups[1].seen && !groups[1].read)
        #expect(feed.engine.notificationCounts(of: "alice") == (1, 2))
        // The same actor again changes nothing.
        _ = try feed.like("carol", first)
        #expect(feed.engine.markNotificationsRead(user: "alice", groups: [groups[0].key], now: feed.now) == 1)
        #expect(feed.notifications("alice")[0].read)
    }

    @Test func groupsSplitByDay() throws {
        let feed = TestFeed()
        feed.now = 20_000 * day + day - 5
        let post = feed.post("alice")
        _ = try feed.like("bob", post)
        feed.tick(10)
        _ = try feed.like("carol", post)
        #expect(feed.notifications("alice").map(\.id) == ["like:\(post):20001", "like:\(post):20000"])
    }

    @Test func mutedAndBlockedActorsAreLeftOutWhileTheFilterLasts() throws {
        let feed = TestFeed()
        let post = feed.post("alice")
        _ = try feed.like("bob", post)
        _ = try feed.like("carol", post)
        feed.follow("carol", "alice")
        #expect(try feed.engine.mute(user: "alice", target: "bob", now: feed.now))
        #expect(feed.groups("alice") == ["follow carol (1)", "like carol (1)"])
        // carol blocks alice: her actions go from alice's view (and her follow for good).
        #expect(try feed.engine.block(user: "carol", target: "alice", now: feed.now))
        #expect(feed.notifications("alice").isEmpty && feed.engine.notificationCounts(of: "alice") == (0, 0))
        #expect(try feed.engine.unmute(user: "alice", target: "bob"))
        #expect(try feed.engine.unblock(user: "carol", target: "alice"))
        #expect(feed.groups("alice") == ["like carol bob (2)"])
    }

    @Test func deletingAPostTakesItsGroupsAndItsMentions() throws {
        let feed = TestFeed()
        feed.follow("carol", "bob")  // carol exists, to be mentioned
        let post = feed.post("alice")
        _ = try feed.like("bob", post)
        let reply = try feed.engine.post(author: "bob", body: "hi @alice and @carol", replyTo: post, now: feed.now)
        #expect(feed.groups("alice").sorted() == ["like bob (1)", "mention bob (1)", "reply bob (1)"])
        #expect(feed.groups("carol") == ["mention bob (1)"])
        #expect(feed.delete("bob", reply))
        #expect(feed.groups("alice") == ["like bob (1)"] && feed.notifications("carol").isEmpty)
        #expect(feed.delete("alice", post))
        #expect(feed.notifications("alice").isEmpty)
        #expect(feed.engine.summary.notificationGroups == 1)  // carol's follow of bob, for bob
    }

    @Test func aFullFeedDropsItsStalestGroupAndCapZeroTurnsThemOff() throws {
        let feed = TestFeed { $0.notificationsCap = 3 }
        let posts = (0..<4).map { _ in feed.post("alice") }
        for post in posts {
            feed.tick()
            _ = try feed.like("bob", post)
        }
        #expect(feed.notifications("alice").map(\.key.object) == posts.reversed().prefix(3).map { $0 })
        feed.tick()
        _ = try feed.like("carol", posts[1])  // refreshed: now the newest
        feed.tick()
        _ = try feed.like("carol", posts[0])  // a new group: posts[2]'s is the stalest
        #expect(feed.notifications("alice").map(\.key.object) == [posts[0], posts[1], posts[3]])
        #expect(feed.engine.summary.notificationGroups == 3)

        let off = TestFeed { $0.notificationsCap = 0 }
        let post = off.post("alice")
        _ = try off.like("bob", post)
        off.follow("bob", "alice")
        #expect(off.notifications("alice").isEmpty && off.engine.summary.notificationGroups == 0)
    }

    @Test func beforePagesAfterAGroupAndAnUnknownGroupIsAnError() throws {
        let feed = TestFeed()
        let posts = (0..<5).map { _ in feed.post("alice") }
        for post in posts {
            feed.tick()
            _ = try feed.like("bob", post)
        }
        let all = feed.notifications("alice").map(\.key)
        let page = try feed.engine.notifications(of: "alice", count: 2, before: all[1])
        #expect(page.map(\.key) == Array(all[2..<4]))
        #expect(throws: FeedError.noSuchNotificationGroup) {
            try feed.engine.notifications(of: "alice", count: 2, before: NotificationKey(verb: .follow, object: 0, day: 1))
        }
        #expect(try feed.engine.notifications(of: "nobody", count: 2).isEmpty)
    }

    @Test func changesAreReportedOnceAndNotForHiddenActors() throws {
        let feed = TestFeed()
        feed.engine.logsNotificationChanges = true
        let post = feed.post("alice")
        _ = try feed.like("bob", post)
        _ = try feed.like("carol", post)
        var changes = feed.engine.drainNotificationChanges()
        #expect(changes.count == 1 && changes[0].user == "alice" && changes[0].view?.actors == ["carol", "bob"])
        #expect(feed.engine.drainNotificationChanges().isEmpty)
        _ = try feed.engine.mute(user: "alice", target: "dave", now: feed.now)
        _ = try feed.like("dave", post)
        #expect(feed.engine.drainNotificationChanges().isEmpty)
        _ = try feed.unlike("bob", post)
        _ = try feed.unlike("carol", post)
        _ = try feed.unlike("dave", post)
        changes = feed.engine.drainNotificationChanges()
        // The group is reported once, as it ended: gone.
        #expect(changes.count == 1 && changes[0].id == "like:\(post):\(NotificationKey.day(of: feed.now))" && changes[0].view == nil)
    }

    @Test func everyChangeIsJournaled() throws {
        let feed = TestFeed { $0.recordsMutations = true }
        let post = feed.post("alice")
        _ = feed.engine.drainMutations()
        _ = try feed.like("bob", post)
        let mutations = feed.engine.drainMutations()
        let key = NotificationKey(verb: .like, object: post, at: feed.now)
        let bob = feed.engine.number(of: "bob")!, alice = feed.engine.number(of: "alice")!
        guard case .notified(alice, key, bob, let source, true) = mutations.last else {
            Issue.record("no notified mutation: \(mutations)")
            return
        }
        #expect(source.at == feed.now && source.id == 0)
        _ = try feed.unlike("bob", post)
        #expect(feed.engine.drainMutations().last == .notificationGroupRemoved(user: alice, group: key))
        _ = try feed.like("bob", post)
        _ = feed.engine.markNotificationsSeen(user: "alice", now: feed.now)
        _ = feed.engine.markNotificationsRead(user: "alice", groups: [key], now: feed.now)
        let marks = feed.engine.drainMutations().suffix(2)
        guard case .notificationsSeen(alice, let seen) = marks.first, case .notificationRead(alice, key, let read) = marks.last else {
            Issue.record("no marks: \(marks)")
            return
        }
        #expect(read > seen)
    }
}
