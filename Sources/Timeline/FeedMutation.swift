/// A change to the feed state, in the order the engine applied it. The
/// persistence layer drains these and writes them to PostgreSQL; each is
/// idempotent to apply, so replaying a batch after a failure is harmless.
public enum FeedMutation: Sendable, Equatable {
    /// A user id seen for the first time, with its dense number.
    case userCreated(user: UInt32, name: String)
    /// A post, reply or repost (`link` says which, and of what).
    case postCreated(post: UInt64, author: UInt32, body: String, link: PostLink? = nil)
    case postDeleted(post: UInt64, author: UInt32)
    case followed(follower: UInt32, followee: UInt32)
    case unfollowed(follower: UInt32, followee: UInt32)
    case liked(user: UInt32, post: UInt64)
    case unliked(user: UInt32, post: UInt64)
    /// A follow now hides (or shows again) the followee's reposts.
    case repostsHidden(follower: UInt32, followee: UInt32, hidden: Bool)
    case muted(user: UInt32, target: UInt32)
    case unmuted(user: UInt32, target: UInt32)
    case blocked(user: UInt32, target: UInt32)
    case unblocked(user: UInt32, target: UInt32)
    /// A reader's interest in an author, as it now stands; nil: forgotten
    /// (the reader's affinity table was full and this was the weakest).
    case affinity(user: UInt32, author: UInt32, counts: AffinityCounts?)
    /// An action put an actor in (or took them out of) a notification group of `user`'s.
    case notified(user: UInt32, group: NotificationKey, actor: UInt32, source: NotificationSource, added: Bool)
    /// A notification group went: its last actor left, its post was
    /// deleted, or the feed was full and it was the stalest.
    case notificationGroupRemoved(user: UInt32, group: NotificationKey)
    /// FEED.MARK SEEN: groups whose newest actor came before `order` are seen.
    case notificationsSeen(user: UInt32, order: UInt64)
    /// FEED.MARK READ: the group is read as of `order`.
    case notificationRead(user: UInt32, group: NotificationKey, order: UInt64)
}

/// What a post points at: the post it replies to, or the post it reposts,
/// with that post's author (kept so filters need no second lookup).
public struct PostLink: Sendable, Equatable, Hashable {
    public var kind: PostKind
    public var post: UInt64
    public var author: UInt32

    public init(kind: PostKind, post: UInt64, author: UInt32) {
        self.kind = kind
        self.post = post
        self.author = author
    }
}

public enum PostKind: UInt8, Sendable, Equatable, Hashable {
    case post = 0
    case reply = 1
    case repost = 2
}
