/// A change to the feed state, in the order the engine applied it. The
/// persistence layer drains these and writes them to PostgreSQL; each is
/// idempotent to apply, so replaying a batch after a failure is harmless.
public enum FeedMutation: Sendable, Equatable {
    /// A user id seen for the first time, with its dense number.
    case userCreated(user: UInt32, name: String)
    case postCreated(post: UInt64, author: UInt32, body: String)
    case postDeleted(post: UInt64, author: UInt32)
    case followed(follower: UInt32, followee: UInt32)
    case unfollowed(follower: UInt32, followee: UInt32)
    case liked(user: UInt32, post: UInt64)
    case unliked(user: UInt32, post: UInt64)
}
