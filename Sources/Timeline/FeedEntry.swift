/// One post as clients receive it: `[id, author, created_ms, body]`.
public struct FeedEntry: Sendable, Equatable {
    public var id: UInt64
    public var author: String
    public var createdMilliseconds: Int64
    /// Nil when the body is no longer in memory and there is no store to read
    /// it from (persistence off, cache evicted it).
    public var body: String?

    public init(id: UInt64, author: String, createdMilliseconds: Int64, body: String?) {
        self.id = id
        self.author = author
        self.createdMilliseconds = createdMilliseconds
        self.body = body
    }
}

/// FEED.STATS for one user.
public struct UserStats: Sendable, Equatable {
    public var followers = 0
    public var following = 0
    public var posts = 0
    public var timeline = 0
    public var celebrity = false

    public init() {}
}
