import Timeline

/// A batch of journal entries turned into one transaction's worth of
/// multi-row statements, one per table and kind. Users are still the
/// engine's numbers here; the writer turns them into store ids.
///
/// Statements run grouped by kind (users, posts, follows, likes, deletes),
/// not in entry order, so the batch keeps only each follow's and each like's
/// last state: follow-then-unfollow in one batch ends unfollowed, and
/// unfollow-then-follow ends followed, as in the engine. Every statement is
/// idempotent (ON CONFLICT DO NOTHING, deletes, "deleted_at IS NULL", like
/// counts changed by the rows a statement actually inserted or deleted), so
/// replaying a batch after a failure, or after a commit whose reply was
/// lost, changes nothing.
struct MutationBatch: Equatable, Sendable {
    var newUsers: [(number: UInt32, name: String)] = []
    var postIDs: [Int64] = []
    var postAuthors: [UInt32] = []
    var postBodies: [String] = []
    var postCreatedMilliseconds: [Int64] = []
    var postKinds: [Int16] = []
    /// The post replied to or reposted; 0 for none.
    var postLinks: [Int64] = []
    /// That post's author; nil for none.
    var postLinkAuthors: [UInt32?] = []
    /// Follows whose hide-reposts setting ends the batch changed.
    var repostSettings: [(follower: UInt32, followee: UInt32, hidden: Bool)] = []
    var mutesAdded: [(user: UInt32, target: UInt32)] = []
    var mutesRemoved: [(user: UInt32, target: UInt32)] = []
    var blocksAdded: [(user: UInt32, target: UInt32)] = []
    var blocksRemoved: [(user: UInt32, target: UInt32)] = []
    var followsAdded: [(follower: UInt32, followee: UInt32)] = []
    var followsRemoved: [(follower: UInt32, followee: UInt32)] = []
    var likesAdded: [(post: Int64, user: UInt32)] = []
    var likesRemoved: [(post: Int64, user: UInt32)] = []
    var deletedPosts: [Int64] = []
    /// Readers' affinity for authors as the batch leaves it; nil: forgotten.
    var affinities: [(user: UInt32, author: UInt32, counts: AffinityCounts?)] = []
    /// Notification groups that went (their sources and read marks with
    /// them), before the batch's own changes to sources and marks, which
    /// are as the batch leaves them.
    var notificationGroupsRemoved: [(user: UInt32, group: NotificationKey)] = []
    var notificationSourcesRemoved: [NotificationRow] = []
    var notificationSourcesAdded: [NotificationRow] = []
    var notificationReads: [(user: UInt32, group: NotificationKey, order: UInt64)] = []
    var notificationsSeen: [(user: UInt32, order: UInt64)] = []

    struct NotificationRow: Equatable {
        var user: UInt32
        var group: NotificationKey
        var actor: UInt32
        var source: NotificationSource
    }

    init(_ mutations: some Sequence<FeedMutation>) {
        var follows: [Pair: Bool] = [:]
        var followOrder: [Pair] = []
        var likes: [LikeKey: Bool] = [:]
        var likeOrder: [LikeKey] = []
        var settings: [Pair: Bool] = [:]
        var settingOrder: [Pair] = []
        var mutes: [Pair: Bool] = [:]
        var muteOrder: [Pair] = []
        var blocks: [Pair: Bool] = [:]
        var blockOrder: [Pair] = []
        var affinities: [Pair: AffinityCounts?] = [:]
        var affinityOrder: [Pair] = []
        var groupsRemoved: [GroupKey: Bool] = [:]
        var groupOrder: [GroupKey] = []
        var sources: [SourceKey: (row: NotificationRow, added: Bool)] = [:]
        var sourceOrder: [SourceKey] = []
        var reads: [GroupKey: UInt64] = [:]
        var readOrder: [GroupKey] = []
        var seen: [UInt32: UInt64] = [:]
        var seenOrder: [UInt32] = []
        func last(_ pair: Pair, _ value: Bool, in states: inout [Pair: Bool], order: inout [Pair]) {
            if states.updateValue(value, forKey: pair) == nil { order.append(pair) }
        }
        for mutation in mutations {
            switch mutation {
            case .userCreated(let user, let name):
                self.newUsers.append((user, name))
            case .postCreated(let post, let author, let body, let link):
                self.postIDs.append(Int64(bitPattern: post))
                self.postAuthors.append(author)
                self.postBodies.append(body)
                self.postCreatedMilliseconds.append(PostID.createdMilliseconds(post))
                self.postKinds.append(Int16(link?.kind.rawValue ?? 0))
                self.postLinks.append(Int64(bitPattern: link?.post ?? 0))
                self.postLinkAuthors.append(link?.author)
            case .repostsHidden(let follower, let followee, let hidden):
                last(Pair(follower: follower, followee: followee), hidden, in: &settings, order: &settingOrder)
            case .muted(let user, let target), .unmuted(let user, let target):
                last(Pair(follower: user, followee: target), mutation.isMute, in: &mutes, order: &muteOrder)
            case .blocked(let user, let target), .unblocked(let user, let target):
                last(Pair(follower: user, followee: target), mutation.isBlock, in: &blocks, order: &blockOrder)
            case .affinity(let user, let author, let counts):
                if affinities.updateValue(counts, forKey: Pair(follower: user, followee: author)) == nil {
                    affinityOrder.append(Pair(follower: user, followee: author))
                }
            case .notified(let user, let group, let actor, let source, let added):
                let key = SourceKey(group: GroupKey(user: user, group: group), actor: actor, source: source.id)
                if sources.updateValue((NotificationRow(user: user, group: group, actor: actor, source: source), added), forKey: key) == nil {
                    sourceOrder.append(key)
                }
            case .notificationGroupRemoved(let user, let group):
                // What the batch did to the group before it went goes with it.
                let key = GroupKey(user: user, group: group)
                if groupsRemoved.updateValue(true, forKey: key) == nil { groupOrder.append(key) }
                sourceOrder.removeAll { $0.group == key && sources.removeValue(forKey: $0) != nil }
                if reads.removeValue(forKey: key) != nil { readOrder.removeAll { $0 == key } }
            case .notificationRead(let user, let group, let order):
                let key = GroupKey(user: user, group: group)
                if reads.updateValue(order, forKey: key) == nil { readOrder.append(key) }
            case .notificationsSeen(let user, let order):
                if seen.updateValue(order, forKey: user) == nil { seenOrder.append(user) }
            case .postDeleted(let post, _):
                self.deletedPosts.append(Int64(bitPattern: post))
            case .followed(let follower, let followee), .unfollowed(let follower, let followee):
                let pair = Pair(follower: follower, followee: followee)
                if follows.updateValue(mutation.isFollow, forKey: pair) == nil { followOrder.append(pair) }
            case .liked(let user, let post), .unliked(let user, let post):
                let key = LikeKey(post: post, user: user)
                if likes.updateValue(mutation.isLike, forKey: key) == nil { likeOrder.append(key) }
            }
        }
        for pair in followOrder {
            let row = (pair.follower, pair.followee)
            if follows[pair]! { self.followsAdded.append(row) } else { self.followsRemoved.append(row) }
        }
        for pair in settingOrder { self.repostSettings.append((pair.follower, pair.followee, settings[pair]!)) }
        for pair in muteOrder {
            if mutes[pair]! { self.mutesAdded.append((pair.follower, pair.followee)) } else { self.mutesRemoved.append((pair.follower, pair.followee)) }
        }
        for pair in blockOrder {
            if blocks[pair]! {
                self.blocksAdded.append((pair.follower, pair.followee))
            } else {
                self.blocksRemoved.append((pair.follower, pair.followee))
            }
        }
        for pair in affinityOrder { self.affinities.append((pair.follower, pair.followee, affinities[pair]!)) }
        self.notificationGroupsRemoved = groupOrder.map { ($0.user, $0.group) }
        for key in sourceOrder {
            let (row, added) = sources[key]!
            if added { self.notificationSourcesAdded.append(row) } else { self.notificationSourcesRemoved.append(row) }
        }
        self.notificationReads = readOrder.compactMap { key in reads[key].map { (key.user, key.group, $0) } }
        self.notificationsSeen = seenOrder.map { ($0, seen[$0]!) }
        for key in likeOrder {
            let row = (Int64(bitPattern: key.post), key.user)
            if likes[key]! { self.likesAdded.append(row) } else { self.likesRemoved.append(row) }
        }
    }

    /// Every user the batch names.
    var users: Set<UInt32> {
        var users = Set(self.postAuthors)
        for row in self.followsAdded + self.followsRemoved {
            users.insert(row.follower)
            users.insert(row.followee)
        }
        for row in self.likesAdded + self.likesRemoved { users.insert(row.user) }
        for author in self.postLinkAuthors { if let author { users.insert(author) } }
        for row in self.repostSettings {
            users.insert(row.follower)
            users.insert(row.followee)
        }
        for row in self.mutesAdded + self.mutesRemoved + self.blocksAdded + self.blocksRemoved {
            users.insert(row.user)
            users.insert(row.target)
        }
        for row in self.affinities {
            users.insert(row.user)
            users.insert(row.author)
        }
        for user in self.newUsers { users.insert(user.number) }
        for row in self.notificationSourcesAdded + self.notificationSourcesRemoved {
            users.insert(row.user)
            users.insert(row.actor)
        }
        for row in self.notificationGroupsRemoved { users.insert(row.user) }
        for row in self.notificationReads { users.insert(row.user) }
        for row in self.notificationsSeen { users.insert(row.user) }
        return users
    }

    /// The newest post the batch creates, if any.
    var newestPost: UInt64? { self.postIDs.max().map { UInt64(bitPattern: $0) } }

    private struct Pair: Hashable {
        let follower: UInt32
        let followee: UInt32
    }

    private struct GroupKey: Hashable {
        let user: UInt32
        let group: NotificationKey
    }

    private struct SourceKey: Hashable {
        let group: GroupKey
        let actor: UInt32
        let source: UInt64
    }

    private struct LikeKey: Hashable {
        let post: UInt64
        let user: UInt32
    }

    static func == (lhs: MutationBatch, rhs: MutationBatch) -> Bool {
        lhs.newUsers.map(\.number) == rhs.newUsers.map(\.number) && lhs.newUsers.map(\.name) == rhs.newUsers.map(\.name)
            && lhs.postIDs == rhs.postIDs && lhs.postAuthors == rhs.postAuthors && lhs.postBodies == rhs.postBodies
            && lhs.followsAdded.map { [$0.follower, $0.followee] } == rhs.followsAdded.map { [$0.follower, $0.followee] }
            && lhs.followsRemoved.map { [$0.follower, $0.followee] } == rhs.followsRemoved.map { [$0.follower, $0.followee] }
            && lhs.likesAdded.map { [$0.post, Int64($0.user)] } == rhs.likesAdded.map { [$0.post, Int64($0.user)] }
            && lhs.likesRemoved.map { [$0.post, Int64($0.user)] } == rhs.likesRemoved.map { [$0.post, Int64($0.user)] }
            && lhs.deletedPosts == rhs.deletedPosts && lhs.postKinds == rhs.postKinds && lhs.postLinks == rhs.postLinks
            && lhs.postLinkAuthors == rhs.postLinkAuthors
            && lhs.affinities.map { "\($0.user) \($0.author) \(String(describing: $0.counts))" }
                == rhs.affinities.map { "\($0.user) \($0.author) \(String(describing: $0.counts))" }
            && lhs.repostSettings.map { [$0.follower, $0.followee, $0.hidden ? 1 : 0] }
                == rhs.repostSettings.map { [$0.follower, $0.followee, $0.hidden ? 1 : 0] }
            && [lhs.mutesAdded, lhs.mutesRemoved, lhs.blocksAdded, lhs.blocksRemoved].map { $0.map { [$0.user, $0.target] } }
                == [rhs.mutesAdded, rhs.mutesRemoved, rhs.blocksAdded, rhs.blocksRemoved].map { $0.map { [$0.user, $0.target] } }
            && lhs.notificationSourcesAdded == rhs.notificationSourcesAdded
            && lhs.notificationSourcesRemoved == rhs.notificationSourcesRemoved
            && lhs.notificationGroupsRemoved.map { "\($0.user) \($0.group)" } == rhs.notificationGroupsRemoved.map { "\($0.user) \($0.group)" }
            && lhs.notificationReads.map { "\($0.user) \($0.group) \($0.order)" } == rhs.notificationReads.map { "\($0.user) \($0.group) \($0.order)" }
            && lhs.notificationsSeen.map { [UInt64($0.user), $0.order] } == rhs.notificationsSeen.map { [UInt64($0.user), $0.order] }
    }
}

extension FeedMutation {
    fileprivate var isFollow: Bool {
        if case .followed = self { return true }
        return false
    }

    fileprivate var isLike: Bool {
        if case .liked = self { return true }
        return false
    }

    fileprivate var isMute: Bool {
        if case .muted = self { return true }
        return false
    }

    fileprivate var isBlock: Bool {
        if case .blocked = self { return true }
        return false
    }
}
