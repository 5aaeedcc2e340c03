/// Why the engine refused a request. Nothing changes when one is thrown.
public enum FeedError: Error, Sendable, Equatable {
    case emptyUserID
    case userIDTooLong(limit: Int)
    case emptyBody
    case bodyTooLarge(limit: Int)
    case followSelf
    case noSuchPost
    case unknownUser(String)
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
}

/// A post as the store has it.
public struct StoredPost: Sendable, Equatable {
    public var id: UInt64
    public var author: String
    public var body: String
    public var likes: Int

    public init(id: UInt64, author: String, body: String, likes: Int) {
        self.id = id
        self.author = author
        self.body = body
        self.likes = likes
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
