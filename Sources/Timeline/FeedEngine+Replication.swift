/// Several nodes (docs/adr/0015-cluster.md): every node applies the other
/// nodes' actions, read back from the store's change feed, to its own
/// engine, so its users' feeds are what one node would give them.
///
/// Another node's action is applied through the same code as a command
/// (fan-out to this node's followers, counts, filters), with `replaying`
/// set: the store has it already, so nothing it changes is journaled
/// again — except the users it names, which this node's own later writes
/// need store ids for. Notifications are the acting node's: it makes them
/// as one node would (it holds every user's notifications), journals them
/// with the action, and the others apply what it made (`replayNotified`…)
/// rather than making their own. Their orders are time-based and tagged
/// with the node, so the orders of several nodes compare as the actions
/// happened.
extension FeedMutation {
    /// Whether a replayed action's mutation is journaled all the same.
    var isMadeByReplay: Bool {
        if case .userCreated = self { return true }
        return false
    }
}

extension FeedEngine {
    /// Another node's post, reply or repost, with the id that node gave it:
    /// delivered as a post made here would be (recent list, this node's
    /// followers' timelines, notifications of this node's users). False
    /// when memory has it already or deleted it.
    public mutating func replayPost(
        id: UInt64, author name: String, body: String, kind: PostKind, link: UInt64, linkAuthor: String?, now: Int64
    ) -> Bool {
        guard self.posts[id] == nil, !self.deleted.contains(id) else { return false }
        let author = self.intern(name, now: now)
        var postLink: PostLink? = nil
        if kind != .post, let linkAuthor {
            postLink = PostLink(kind: kind, post: link, author: self.intern(linkAuthor, now: now))
        }
        // This node's later posts stay above it.
        self.ids.advance(past: id)
        _ = self.publish(author: author, body: body, link: postLink, now: now, given: id)
        return true
    }

    /// A follow made on another node: the edge, the followee's counts,
    /// a resident timeline's backfill, the followee's notification. Unlike
    /// FEED.FOLLOW it leaves the follow's repost setting alone (that
    /// travels as its own change). False when the edge was there.
    public mutating func replayFollow(follower followerName: String, followee followeeName: String, now: Int64) -> Bool {
        guard followerName != followeeName else { return false }
        let follower = self.intern(followerName, now: now)
        let followee = self.intern(followeeName, now: now)
        guard self.addFollow(follower: follower, followee: followee) else { return false }
        if self.timelines[Int(follower)] != nil { self.backfill(follower, from: followee) }
        self.notify(followee, .follow, object: 0, by: follower, source: 0, now: now)
        return true
    }

    /// Another node set whether a follow hides the followee's reposts.
    public mutating func replayRepostsHidden(follower: String, followee: String, hidden: Bool, now: Int64) {
        let follower = self.intern(follower, now: now)
        let followee = self.intern(followee, now: now)
        guard self.following[Int(follower)].contains(followee) else { return }
        self.setRepostsHidden(follower: follower, followee: followee, hidden: hidden)
    }

    /// A notification source another node added or took back.
    public mutating func replayNotified(
        user userName: String, group key: NotificationKey, actor actorName: String, source: NotificationSource, added: Bool,
        now: Int64
    ) {
        let user = self.intern(userName, now: now)
        let actor = self.intern(actorName, now: now)
        self.notificationOrders.advance(past: source.order)
        let sources = self.notificationFeeds[user]?.groups[key]?.actors[actor]
        let present = sources?.contains { $0.id == source.id } == true
        if added {
            guard !present else { return }
            self.restoreNotification(user: user, group: key, actor: actor, source: source)
        } else {
            guard present else { return }
            if sources!.count == 1 && self.notificationFeeds[user]!.groups[key]!.actors.count == 1 {
                self.removeNotificationGroup(user, key)
            } else {
                _ = self.notificationFeeds[user]!.groups[key]!.remove(source.id, of: actor)
                self.usage.notificationSources -= 1
            }
        }
        self.noteNotificationChange(user, key, actor)
    }

    /// A notification group another node dropped.
    public mutating func replayNotificationGroupRemoved(user userName: String, group key: NotificationKey) {
        guard let user = self.numbers[userName], let group = self.notificationFeeds[user]?.groups[key] else { return }
        let actor = group.actors.keys.first ?? user
        self.removeNotificationGroup(user, key)
        self.noteNotificationChange(user, key, actor)
    }

    /// A mark another node made (a user's seen mark; with `group`, a read mark).
    public mutating func replayNotificationMark(user userName: String, group key: NotificationKey?, order: UInt64) {
        self.notificationOrders.advance(past: order)
        guard let user = self.numbers[userName] else { return }
        if let key {
            self.restoreNotificationRead(user: user, group: key, order: order)
        } else {
            self.restoreNotificationsSeen(user: user, order: order)
        }
    }

    /// A post another node made is in the store: memory may let it go once
    /// this node's own posts before it are durable too.
    mutating func storeHasRemote(_ id: UInt64) {
        self.remoteDurablePostID = Swift.max(self.remoteDurablePostID, id)
        if self.pendingPosts.isEmpty { self.durablePostID = Swift.max(self.durablePostID, id) }
    }
}
