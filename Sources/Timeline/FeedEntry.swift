/// One post as clients receive it: `[id, author, created_ms, body]`.
public struct FeedEntry: Sendable, Equatable {
    public var id: UInt64
    public var author: String
    public var createdMilliseconds: Int64
    /// Nil when the body is no longer in memory and there is no store to read
    /// it from (persistence off, cache evicted it).
    public var body: String?
    /// Replies, reposts and counts (WITHMETA, and the read filters).
    public var meta: EntryMeta

    public init(id: UInt64, author: String, createdMilliseconds: Int64, body: String?, meta: EntryMeta = EntryMeta()) {
        self.id = id
        self.author = author
        self.createdMilliseconds = createdMilliseconds
        self.body = body
        self.meta = meta
    }

    /// Memory's entry completed with what the store has of the post it
    /// shows (`shown`: the store's row for the entry's own id, whose
    /// body and counts are a repost's original's): the body, and a
    /// repost's counts when memory lost its original. Memory's counts
    /// otherwise stay (the store may not have its latest likes yet).
    public func completed(with shown: FeedEntry) -> FeedEntry {
        var entry = self
        if self.body == nil { entry.body = shown.body }
        if self.meta.originalUnknown {
            entry.meta.likes = shown.meta.likes
            entry.meta.replies = shown.meta.replies
            entry.meta.reposts = shown.meta.reposts
        }
        return entry
    }
}

/// What an entry is besides its four fields. For a repost, `author` of the
/// entry is the reposter and the counts are the original post's.
public struct EntryMeta: Sendable, Equatable {
    public var kind: PostKind
    /// The post replied to or reposted; 0 for a plain post.
    public var link: UInt64
    /// That post's author.
    public var linkAuthor: String?
    public var likes: Int
    public var replies: Int
    public var reposts: Int
    /// In a ranked read: the entry's score and its factors.
    public var rank: RankFactors? = nil

    public init(
        kind: PostKind = .post, link: UInt64 = 0, linkAuthor: String? = nil, likes: Int = 0, replies: Int = 0, reposts: Int = 0
    ) {
        self.kind = kind
        self.link = link
        self.linkAuthor = linkAuthor
        self.likes = likes
        self.replies = replies
        self.reposts = reposts
    }

    /// Whether memory lost the post a repost shows: its body and counts are the store's to give.
    public var originalUnknown: Bool { self.kind == .repost && self.likes < 0 }

    /// The post whose content the entry shows: the original of a repost, else the entry's own.
    public func shown(_ id: UInt64) -> UInt64 { self.kind == .repost ? self.link : id }
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
