/// Why the engine refused a request. Nothing changes when one is thrown.
public enum FeedError: Error, Sendable, Equatable {
    case emptyUserID
    case userIDTooLong(limit: Int)
    case emptyBody
    case bodyTooLarge(limit: Int)
    case followSelf
    case noSuchPost
    case unknownUser(String)
    case muteSelf
    case blockSelf
    /// FEED.FOLLOW where the followee blocked the follower.
    case blockedByFollowee
    /// FEED.FOLLOW where the follower blocked the followee.
    case followeeBlocked
    /// FEED.READ … RANKED PAGE with a token that is not one.
    case invalidPageToken
    /// FEED.READ … RANKED PAGE with a token whose snapshot is gone (expired, replaced by a newer first page, or evicted).
    case pageTokenExpired
    /// FEED.NOTIFICATIONS … BEFORE a group the user's feed does not show.
    case noSuchNotificationGroup
    /// Not a refusal: the request needs something only the store has. The
    /// caller fetches it, installs it (`FeedEngine.install…`) and asks again.
    case notInMemory(StoreFault)

    /// The text after `ERR `.
    public var message: String {
        switch self {
        case .emptyUserID: return "user id must not be empty"
        case .userIDTooLong(let limit): return "user id is longer than \(limit) bytes"
        case .emptyBody: return "post body must not be empty"
        case .bodyTooLarge(let limit): return "post body is longer than max-body-bytes (\(limit))"
        case .followSelf: return "a user cannot follow themselves"
        case .noSuchPost: return "no such post"
        case .unknownUser(let name): return "no such user '\(name)'"
        case .muteSelf: return "a user cannot mute themselves"
        case .blockSelf: return "a user cannot block themselves"
        case .blockedByFollowee: return "cannot follow: that user has blocked you"
        case .followeeBlocked: return "cannot follow a user you have blocked (FEED.UNBLOCK first)"
        case .invalidPageToken: return "invalid page token"
        case .pageTokenExpired: return "page token expired; read the first page again"
        case .noSuchNotificationGroup: return "no such notification group"
        case .notInMemory: return "the store must be asked first"
        }
    }
}

/// What a command needs from the store before the engine can answer it.
public enum StoreFault: Sendable, Equatable, Hashable {
    /// The post's record: its author and like count (FEED.DELETE).
    case post(UInt64)
    /// The post's record and everyone who liked it (FEED.LIKE, FEED.UNLIKE).
    case likers(UInt64)
    /// How many live posts the user had in the store when this process
    /// started (FEED.STATS): `StoreBaseline` says which.
    case postCount(user: String)
    /// Whether `user` reposted `post`, and the repost's record if so (FEED.REPOST, FEED.UNREPOST).
    case repost(user: String, post: UInt64)
    /// A post a reply or repost points at, if the store still has it; memory
    /// remembers it as deleted otherwise (deleting a reply keeps the count right).
    case linked(UInt64)
    /// Every live repost of the post (FEED.DELETE takes them with it).
    case reposts(UInt64)
}

/// A post as the store has it.
public struct StoredPost: Sendable, Equatable {
    public var id: UInt64
    public var author: String
    public var body: String
    public var likes: Int
    public var replies: Int
    public var reposts: Int
    public var kind: PostKind
    /// The post replied to or reposted (0 for a plain post), and its author.
    public var link: UInt64
    public var linkAuthor: String?

    public init(
        id: UInt64, author: String, body: String, likes: Int, replies: Int = 0, reposts: Int = 0, kind: PostKind = .post,
        link: UInt64 = 0, linkAuthor: String? = nil
    ) {
        self.id = id
        self.author = author
        self.body = body
        self.likes = likes
        self.replies = replies
        self.reposts = reposts
        self.kind = kind
        self.link = link
        self.linkAuthor = linkAuthor
    }
}

/// Where this process's own history begins in the store: posts with ids up
/// to `maxPostID` and deletes stamped before `startedAt` were there when
/// it started; what came after is counted in memory.
public struct StoreBaseline: Sendable, Equatable {
    public var maxPostID: UInt64

    public init(maxPostID: UInt64) {
        self.maxPostID = maxPostID
    }
}
