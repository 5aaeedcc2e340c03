import Testing
@testable import Timeline
import TestSupport

/// Notification feeds recomputed from scratch (docs/adr/0014): every live
/// action on a user — likes of their live posts, reposts of and replies to
/// them, follows, mentions in live posts — grouped by verb, object and day;
/// an actor joined with their first action still standing, a group is as
/// new as its newest actor, seen and read compare with the marks. Actors
/// the reader mutes or blocks (or who block the reader) are left out.
struct ReferenceNotifications {
    struct Time {
        var at: Int64
        var order: UInt64
    }

    /// One order for every action and mark, in the order they happen.
    var clock: UInt64 = 0
    var likeTimes: [[String]: Time] = [:]
    var followTimes: [[String]: Time] = [:]
    /// Replies and reposts (the action), and the mentions a post made (one order later).
    var postTimes: [UInt64: Time] = [:]
    /// Users a post mentioned who existed when it was posted.
    var mentioned: [UInt64: [String]] = [:]
    var seenMarks: [String: UInt64] = [:]
    var readMarks: [String: [NotificationKey: UInt64]] = [:]
    /// What the checks saw, so a run can show it tested something.
    var seen = (groups: 0, grouped: 0, hidden: 0, marked: 0, splitByDay: 0)

    mutating func tick(_ at: Int64) -> Time {
        self.clock += 1
        return Time(at: at, order: self.clock)
    }

    /// `@name` mentions, written independently of `Mentions`: split the
    /// body at characters that cannot be in a name, keep words that started
    /// with `@` right after such a character, trim trailing `.`, `-`, `:`.
    static func mentions(in body: String) -> [String] {
        let nameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:")
        var names: [String] = []
        var previous: Character? = nil
        var index = body.startIndex
        while index < body.endIndex {
            let character = body[index]
            defer {
                previous = body[index]
                index = body.index(after: index)
            }
            guard character == "@", previous.map({ !nameCharacters.contains($0) }) ?? true else { continue }
            var name = String(body[body.index(after: index)...].prefix { nameCharacters.contains($0) })
            while let last = name.last, ".-:".contains(last) { name.removeLast() }
            if !name.isEmpty && !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// Every action on `user`: (group, actor, when).
    func actions(on user: String, _ model: ReferenceFeeds) -> [(key: NotificationKey, actor: String, time: Time)] {
        var actions: [(key: NotificationKey, actor: String, time: Time)] = []
        func add(_ verb: NotificationVerb, _ object: UInt64, _ actor: String, _ time: Time) {
            guard actor != user else { return }
            actions.append((NotificationKey(verb: verb, object: object, at: time.at), actor, time))
        }
        for (id, post) in model.posts {
            if post.author == user && post.kind != .repost {
                for liker in model.likes[id] ?? [] { add(.like, id, liker, self.likeTimes[[liker, String(id)]]!) }
            }
            if post.kind != .post, post.linkAuthor == user, model.posts[post.link] != nil {
                add(post.kind == .repost ? .repost : .reply, post.link, post.author, self.postTimes[id]!)
            }
            if (self.mentioned[id] ?? []).contains(user) {
                var time = self.postTimes[id]!
                time.order += 1
                add(.mention, id, post.author, time)
            }
        }
        for pair in model.follows where pair[1] == user { add(.follow, 0, pair[0], self.followTimes[pair]!) }
        return actions
    }

    /// The user's groups (shown ones, newest first), and every group's key including hidden ones.
    func groups(of user: String, _ model: ReferenceFeeds) -> (shown: [NotificationGroupView], all: Set<NotificationKey>) {
        var joined: [NotificationKey: [String: Time]] = [:]
        for action in self.actions(on: user, model) {
            if let earlier = joined[action.key]?[action.actor], earlier.order < action.time.order { continue }
            joined[action.key, default: [:]][action.actor] = action.time
        }
        var shown: [(order: UInt64, view: NotificationGroupView)] = []
        for (key, actors) in joined {
            let visible = actors.filter { !model.hidden(user, $0.key) }.sorted { $0.value.order > $1.value.order }
            guard let newest = visible.first?.value else { continue }
            shown.append(
                (
                    newest.order,
                    NotificationGroupView(
                        key: key, actors: visible.prefix(5).map(\.key), actorCount: visible.count,
                        updatedMilliseconds: newest.at, seen: (self.seenMarks[user] ?? 0) > newest.order,
                        read: (self.readMarks[user]?[key] ?? 0) > newest.order)
                ))
        }
        return (shown.sorted { $0.order > $1.order }.map(\.view), Set(joined.keys))
    }
}

/// The notification half of a random step: likes and unlikes, reading the
/// notification feed in pages, FEED.STATS's counts, marking seen and read.
enum NotificationStep {
    static func run(
        _ feed: some FeedDriver, model: inout ReferenceFeeds, user: String, other: String,
        rng: inout SplitMix64, context: String
    ) throws {
        let now = feed.now
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<30:
            guard let given = model.posts.keys.randomElement(using: &rng) else { return }
            let likes = try feed.faulting { (engine) throws(FeedError) in try engine.like(user: user, post: given, now: now) }
            model.like(user, given, at: now)
            let target = model.posts[given]!.kind == .repost ? model.posts[given]!.link : given
            #expect(likes == model.likes[target]!.count, "\(context) like")
        case 30..<42:
            guard let given = model.posts.keys.randomElement(using: &rng) else { return }
            let likes = try feed.faulting { (engine) throws(FeedError) in try engine.unlike(user: user, post: given) }
            let target = model.posts[given]!.kind == .repost ? model.posts[given]!.link : given
            model.likes[target]?.remove(user)
            #expect(likes == model.likes[target]?.count ?? 0, "\(context) unlike")
        case 42..<75:
            // The whole feed in pages of random sizes, each after the last group's id.
            let expected = model.notifications.groups(of: user, model).shown
            var got: [NotificationGroupView] = []
            var before: NotificationKey? = nil
            while true {
                let count = Int.random(in: 1...6, using: &rng)
                let after = before
                let page = try feed.faulting { (engine) throws(FeedError) in try engine.notifications(of: user, count: count, before: after) }
                got += page
                guard page.count == count, let last = page.last else { break }
                before = last.key
            }
            #expect(got == expected, "\(context) notifications of \(user):\n\(got)\nreference:\n\(expected)")
            model.notifications.seen.groups += expected.count
            model.notifications.seen.grouped += expected.count { $0.actorCount > 1 }
            // The same verb and object on two days: two groups.
            let objects: Set<[UInt64]> = Set(expected.map { group in [UInt64(group.key.verb.rawValue), group.key.object] })
            if objects.count < expected.count {
                model.notifications.seen.splitByDay += 1
            }
            let counts = try feed.faulting { (engine) throws(FeedError) in engine.notificationCounts(of: user) }
            #expect(counts.unseen == expected.count { !$0.seen } && counts.unread == expected.count { !$0.read }, "\(context) counts")
        case 75..<85:
            let (shown, all) = model.notifications.groups(of: user, model)
            let marked = try feed.faulting { (engine) throws(FeedError) in engine.markNotificationsSeen(user: user, now: now) }
            #expect(marked == shown.count { !$0.seen }, "\(context) mark seen")
            if !all.isEmpty { model.notifications.seenMarks[user] = model.notifications.tick(now).order }
            model.notifications.seen.marked += marked
        default:
            let (shown, all) = model.notifications.groups(of: user, model)
            guard !all.isEmpty else { return }
            // Some groups of the user's (shown, hidden or gone), one perhaps twice.
            var keys = (0..<Int.random(in: 1...3, using: &rng)).map { _ in all.randomElement(using: &rng)! }
            keys.append(NotificationKey(verb: .follow, object: 0, day: 1))
            if Bool.random(using: &rng) { keys.append(keys[0]) }
            let asked = keys
            let marked = try feed.faulting { (engine) throws(FeedError) in engine.markNotificationsRead(user: user, groups: asked, now: now) }
            var done: Set<NotificationKey> = []
            var unread = 0
            for key in keys where all.contains(key) && done.insert(key).inserted {
                if shown.contains(where: { $0.key == key && !$0.read }) { unread += 1 }
                model.notifications.readMarks[user, default: [:]][key] = model.notifications.tick(now).order
            }
            #expect(marked == unread, "\(context) mark read")
            model.notifications.seen.hidden += all.count - shown.count
        }
    }
}

extension ReferenceFeeds {
    /// A like (of a repost: of its original), timed when new.
    mutating func like(_ user: String, _ given: UInt64, at now: Int64) {
        let target = self.posts[given]!.kind == .repost ? self.posts[given]!.link : given
        if self.likes[target]?.contains(user) != true {
            self.interact(.like, reader: user, author: self.posts[target]!.author, at: now)
            self.notifications.likeTimes[[user, String(target)]] = self.notifications.tick(now)
        }
        self.likes[target, default: []].insert(user)
    }

    /// A new follow, timed.
    mutating func followed(_ follower: String, _ followee: String, at now: Int64) {
        self.notifications.followTimes[[follower, followee]] = self.notifications.tick(now)
    }

    /// A post, reply or repost, timed; `existing`: whether a user exists (for its mentions).
    mutating func posted(_ id: UInt64, at now: Int64, existing: (String) -> Bool) {
        let time = self.notifications.tick(now)
        self.notifications.clock += 1  // its mentions come one order later
        self.notifications.postTimes[id] = time
        guard let post = self.posts[id], post.kind != .repost else { return }
        self.notifications.mentioned[id] = ReferenceNotifications.mentions(in: post.body).filter(existing)
    }
}
