/// Notification feeds (docs/adr/0014-notifications.md): what others did to
/// a user — likes and reposts of their posts, replies to them, follows,
/// mentions — grouped by verb, object and day, newest-updated first.
///
/// Every action is a source with an order (time-based, node-tagged, always
/// increasing: `nextNotificationOrder`); an actor joined a group with their
/// first source still standing; a group is ordered by its newest actor's join. Seen and read are marks in the same
/// order: a group is seen when the user's last FEED.MARK SEEN came after its
/// newest actor joined, read likewise with its own FEED.MARK READ — so a
/// group that gains an actor is unseen and unread again, with no flag to
/// reset. Whole in memory, at most `notificationsCap` groups per user.
extension FeedEngine {
    // MARK: Actions

    /// `actor` did something to `user` (`object`: the post; `source`: the
    /// repost or reply, else 0). One's own actions notify nobody.
    mutating func notify(
        _ user: UInt32, _ verb: NotificationVerb, object: UInt64, by actor: UInt32, source id: UInt64, now: Int64
    ) {
        let cap = self.configuration.notificationsCap
        // Another node's action arrives with the notifications it made there.
        guard cap > 0, user != actor, !self.replaying else { return }
        let key = NotificationKey(verb: verb, object: object, at: now)
        let source = NotificationSource(id: id, at: now, order: self.nextNotificationOrder(now: now))
        // A full feed makes room first (the only case that looks at the group beforehand).
        if (self.notificationFeeds[user]?.groups.count ?? 0) >= cap, self.notificationFeeds[user]?.groups[key] == nil {
            while (self.notificationFeeds[user]?.groups.count ?? 0) >= cap, let stalest = self.stalestGroup(of: user) {
                self.removeNotificationGroup(user, stalest)
            }
        }
        self.record(.notified(user: user, group: key, actor: actor, source: source, added: true))
        if self.addSource(source, of: actor, to: key, of: user) {
            self.usage.notificationGroups += 1
            if verb == .mention { self.mentionedIn[object, default: []].append(user) }
        }
        self.noteNotificationChange(user, key, actor)
    }

    /// The order of a new source or mark: above every order made or seen.
    mutating func nextNotificationOrder(now: Int64) -> UInt64 { self.notificationOrders.next(now: now) }

    /// Takes one action back: `actor`'s source `id` in `user`'s group for
    /// `verb` and `object`, whatever day it went to. An actor with no source
    /// left leaves; a group with no actor left goes.
    mutating func unnotify(_ user: UInt32, _ verb: NotificationVerb, object: UInt64, by actor: UInt32, source id: UInt64) {
        guard !self.replaying, let key = self.notificationFeeds[user]?.groups.first(where: {
            $0.key.verb == verb && $0.key.object == object && $0.value.actors[actor]?.contains { $0.id == id } == true
        })?.key
        else { return }
        self.noteNotificationChange(user, key, actor)
        let (sourcesLeft, actorsLeft) = (
            self.notificationFeeds[user]!.groups[key]!.actors[actor]!.count - 1,
            self.notificationFeeds[user]!.groups[key]!.actors.count
        )
        if sourcesLeft == 0 && actorsLeft == 1 { return self.removeNotificationGroup(user, key) }
        let source = self.notificationFeeds[user]!.groups[key]!.remove(id, of: actor)
        self.usage.notificationSources -= 1
        self.record(.notified(user: user, group: key, actor: actor, source: source, added: false))
    }

    /// The group whose newest actor joined first.
    private func stalestGroup(of user: UInt32) -> NotificationKey? {
        self.notificationFeeds[user]?.groups.min { $0.value.newest.order < $1.value.newest.order }?.key
    }

    /// Adds a source to the user's group, making the feed and the group if
    /// need be, in one in-place access; true when the group is new.
    @discardableResult
    mutating func addSource(_ source: NotificationSource, of actor: UInt32, to key: NotificationKey, of user: UInt32) -> Bool {
        self.usage.notificationSources += 1
        return self.notificationFeeds[user, default: NotificationFeed()].add(source, of: actor, to: key)
    }

    /// Drops a whole group (journaled).
    mutating func removeNotificationGroup(_ user: UInt32, _ key: NotificationKey) {
        guard let group = self.notificationFeeds[user]?.groups.removeValue(forKey: key) else { return }
        self.record(.notificationGroupRemoved(user: user, group: key))
        self.forgetGroup(user, key, group)
    }

    mutating func forgetGroup(_ user: UInt32, _ key: NotificationKey, _ group: NotificationGroup) {
        self.usage.notificationGroups -= 1
        self.usage.notificationSources -= group.actors.values.reduce(0) { $0 + $1.count }
        if self.notificationFeeds[user]!.groups.isEmpty && self.notificationFeeds[user]!.seenOrder == 0 {
            self.notificationFeeds[user] = nil
        }
        if key.verb == .mention, var users = self.mentionedIn[key.object], let index = users.firstIndex(of: user) {
            users.remove(at: index)
            self.mentionedIn[key.object] = users.isEmpty ? nil : users
        }
    }

    /// A post was published: its replied-to or reposted author, and the
    /// users its body mentions, hear of it.
    mutating func notifyPublished(_ id: UInt64, author: UInt32, body: String, link: PostLink?, now: Int64) {
        guard self.configuration.notificationsCap > 0 else { return }
        if let link {
            let verb: NotificationVerb = link.kind == .repost ? .repost : .reply
            self.notify(link.author, verb, object: link.post, by: author, source: id, now: now)
        }
        guard link?.kind != .repost, body.utf8.contains(UInt8(ascii: "@")) else { return }
        for name in Mentions.names(in: body) {
            guard let user = self.numbers[name] else { continue }
            self.notify(user, .mention, object: id, by: author, source: 0, now: now)
        }
    }

    /// A post was deleted: the groups about it go (its likes, reposts and
    /// replies; the mentions it made), and what it did to others is taken back.
    mutating func notifyDeleted(_ id: UInt64, _ record: PostRecord) {
        guard !self.replaying else { return }
        let about = self.notificationFeeds[record.author]?.groups.keys.filter { $0.object == id && $0.verb != .mention } ?? []
        for key in about { self.removeNotificationGroup(record.author, key) }
        if record.kind != .post {
            let verb: NotificationVerb = record.kind == .repost ? .repost : .reply
            self.unnotify(record.linkAuthor, verb, object: record.link, by: record.author, source: id)
        }
        for user in self.mentionedIn[id] ?? [] {
            let mentions = self.notificationFeeds[user]?.groups.keys.filter { $0.verb == .mention && $0.object == id } ?? []
            for key in mentions { self.removeNotificationGroup(user, key) }
        }
    }

    mutating func noteNotificationChange(_ user: UInt32, _ key: NotificationKey, _ actor: UInt32) {
        if self.logsNotificationChanges { self.notificationChanges.append((user, key, actor)) }
    }

    // MARK: Reading

    /// Whether `actor`'s actions are hidden from `reader`: muted, blocked, or blocking them.
    func hidesActor(_ reader: UInt32, _ actor: UInt32) -> Bool {
        self.mutes[reader]?.contains(actor) == true || self.blocks[reader]?.contains(actor) == true
            || self.blockedBy[reader]?.contains(actor) == true
    }

    /// Whether any actor could be hidden from the user (they mute or block
    /// someone, or someone blocks them); if not, groups need no filtering.
    func filtersActors(for user: UInt32) -> Bool {
        self.mutes[user] != nil || self.blocks[user] != nil || self.blockedBy[user] != nil
    }

    /// The newest actor the user sees join a group: the group's own unless
    /// filtering, O(actors) then; nil when none is left to show.
    func newestShown(_ group: NotificationGroup, for user: UInt32, filtering: Bool) -> NotificationSource? {
        guard filtering else { return group.newest }
        var newest: NotificationSource? = nil
        for (actor, sources) in group.actors where !self.hidesActor(user, actor) {
            let joined = NotificationGroup.joined(sources)
            if joined.order > newest?.order ?? 0 { newest = joined }
        }
        return newest
    }

    /// The group as `user` sees it; nil when no actor is left to show. One
    /// pass over the actors, keeping the newest few.
    func view(of group: NotificationGroup, _ key: NotificationKey, for user: UInt32, feed: NotificationFeed)
        -> NotificationGroupView?
    {
        let filtering = self.filtersActors(for: user)
        var newest: [(actor: UInt32, joined: NotificationSource)] = []  // newest first, at most shownActors
        var shown = 0
        for (actor, sources) in group.actors where !filtering || !self.hidesActor(user, actor) {
            shown += 1
            let joined = NotificationGroup.joined(sources)
            guard newest.count < NotificationFeed.shownActors || joined.order > newest.last!.joined.order else { continue }
            let index = newest.firstIndex { $0.joined.order < joined.order } ?? newest.count
            newest.insert((actor, joined), at: index)
            if newest.count > NotificationFeed.shownActors { newest.removeLast() }
        }
        guard let top = newest.first?.joined else { return nil }
        return NotificationGroupView(
            key: key, actors: newest.map { self.names[Int($0.actor)] }, actorCount: shown, updatedMilliseconds: top.at,
            seen: feed.seenOrder > top.order, read: group.readOrder > top.order)
    }

    /// The groups the user sees, newest-updated first, with their newest
    /// shown actor's order: O(G log G), plus every actor when filtering.
    func orderedGroups(of user: UInt32) -> [(key: NotificationKey, order: UInt64)] {
        guard let feed = self.notificationFeeds[user] else { return [] }
        let filtering = self.filtersActors(for: user)
        var ordered: [(key: NotificationKey, order: UInt64)] = []
        ordered.reserveCapacity(feed.groups.count)
        for (key, group) in feed.groups {
            if let newest = self.newestShown(group, for: user, filtering: filtering) { ordered.append((key, newest.order)) }
        }
        ordered.sort { $0.order > $1.order }
        return ordered
    }

    /// FEED.NOTIFICATIONS: up to `count` groups, newest-updated first, after
    /// `before` when given (an id no longer in the feed is an error).
    public func notifications(of name: String, count: Int, before: NotificationKey? = nil) throws(FeedError)
        -> [NotificationGroupView]
    {
        guard let user = self.numbers[name] else {
            if before != nil { throw .noSuchNotificationGroup }
            return []
        }
        let ordered = self.orderedGroups(of: user)
        var start = 0
        if let before {
            guard let index = ordered.firstIndex(where: { $0.key == before }) else { throw .noSuchNotificationGroup }
            start = index + 1
        }
        guard let feed = self.notificationFeeds[user] else { return [] }
        return ordered[start...].prefix(count).compactMap { self.view(of: feed.groups[$0.key]!, $0.key, for: user, feed: feed) }
    }

    /// Groups the user sees that are unseen, and unread.
    public func notificationCounts(of name: String) -> (unseen: Int, unread: Int) {
        guard let user = self.numbers[name], let feed = self.notificationFeeds[user] else { return (0, 0) }
        let ordered = self.orderedGroups(of: user)
        return (
            ordered.count { feed.seenOrder <= $0.order }, ordered.count { feed.groups[$0.key]!.readOrder <= $0.order }
        )
    }

    /// FEED.MARK SEEN: every group is seen; returns how many shown groups were not.
    public mutating func markNotificationsSeen(user name: String, now: Int64) -> Int {
        guard let user = self.numbers[name], self.notificationFeeds[user]?.groups.isEmpty == false else { return 0 }
        let unseen = self.notificationCounts(of: name).unseen
        let order = self.nextNotificationOrder(now: now)
        self.notificationFeeds[user]!.seenOrder = order
        self.record(.notificationsSeen(user: user, order: order))
        return unseen
    }

    /// FEED.MARK READ: the groups are read; ids no longer in the feed are
    /// passed over. Returns how many shown groups were unread.
    public mutating func markNotificationsRead(user name: String, groups keys: [NotificationKey], now: Int64) -> Int {
        guard let user = self.numbers[name], self.notificationFeeds[user] != nil else { return 0 }
        let filtering = self.filtersActors(for: user)
        var marked = 0
        var done: Set<NotificationKey> = []
        for key in keys where self.notificationFeeds[user]!.groups[key] != nil && done.insert(key).inserted {
            let group = self.notificationFeeds[user]!.groups[key]!
            if let newest = self.newestShown(group, for: user, filtering: filtering), group.readOrder <= newest.order { marked += 1 }
            let order = self.nextNotificationOrder(now: now)
            self.notificationFeeds[user]!.groups[key]!.readOrder = order
            self.record(.notificationRead(user: user, group: key, order: order))
        }
        return marked
    }

    /// The groups changed since the last call for users `listening` says
    /// may hear of it, as those users now see them (nil: gone, or nothing
    /// left to show), once each; changes made by an actor the user does not
    /// see are left out. For the server's `notifications:<user>` channels.
    public mutating func drainNotificationChanges(listening: (String) -> Bool = { _ in true })
        -> [(user: String, id: String, view: NotificationGroupView?)]
    {
        guard !self.notificationChanges.isEmpty else { return [] }
        defer { self.notificationChanges.removeAll(keepingCapacity: true) }
        var done: Set<NotificationChangeKey> = []
        var changes: [(user: String, id: String, view: NotificationGroupView?)] = []
        for change in self.notificationChanges where !self.hidesActor(change.user, change.actor) {
            guard done.insert(NotificationChangeKey(user: change.user, group: change.group)).inserted else { continue }
            let name = self.names[Int(change.user)]
            guard listening(name) else { continue }
            let feed = self.notificationFeeds[change.user]
            let view = feed.flatMap { feed in feed.groups[change.group].flatMap { self.view(of: $0, change.group, for: change.user, feed: feed) } }
            changes.append((name, change.group.description, view))
        }
        return changes
    }

    /// Forgets the changes logged (nobody listens).
    public mutating func discardNotificationChanges() {
        if !self.notificationChanges.isEmpty { self.notificationChanges.removeAll(keepingCapacity: true) }
    }

    private struct NotificationChangeKey: Hashable {
        var user: UInt32
        var group: NotificationKey
    }

    // MARK: Restoring

    /// A source from the store, at start-up (not journaled).
    public mutating func restoreNotification(user: UInt32, group key: NotificationKey, actor: UInt32, source: NotificationSource) {
        let sources = self.notificationFeeds[user]?.groups[key]?.actors[actor]
        if sources?.contains(where: { $0.id == source.id }) == true { return }
        let existed = sources != nil
        if self.addSource(source, of: actor, to: key, of: user) {
            self.usage.notificationGroups += 1
            if key.verb == .mention { self.mentionedIn[key.object, default: []].append(user) }
        }
        // Sources come in any order: one earlier than an actor's others moves when they joined.
        if existed && NotificationGroup.joined(self.notificationFeeds[user]!.groups[key]!.actors[actor]!).order == source.order {
            self.notificationFeeds[user]!.groups[key]!.refreshNewest()
        }
        self.notificationOrders.advance(past: source.order)
    }

    /// A group's read mark from the store (after its sources).
    public mutating func restoreNotificationRead(user: UInt32, group key: NotificationKey, order: UInt64) {
        self.notificationOrders.advance(past: order)
        guard self.notificationFeeds[user]?.groups[key] != nil else { return }
        self.notificationFeeds[user]!.groups[key]!.readOrder = order
    }

    /// A user's seen mark from the store.
    public mutating func restoreNotificationsSeen(user: UInt32, order: UInt64) {
        self.notificationOrders.advance(past: order)
        guard self.notificationFeeds[user] != nil else { return }
        self.notificationFeeds[user]!.seenOrder = order
    }
}
