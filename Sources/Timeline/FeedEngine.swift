/// The feed engine: users, the follow graph, posts, timelines, and the
/// hybrid fan-out between them.
///
/// It is a value with no locks, no I/O and no clock: the time comes in with
/// each call, so it is deterministic and testable step by step. Whoever owns
/// it decides how it is shared (the server keeps it behind one mutex; see
/// docs/adr/0003-engine-ownership.md).
///
/// Users are interned to dense 32-bit numbers on first sight and their state
/// is kept in parallel arrays indexed by that number, so the hot loops (fan
/// out to 5,000 followers, merge a read) walk contiguous memory.
///
/// Invariants:
/// - A resident timeline is complete: it holds, newest first, every live post
///   it should under the caps, except posts of pulled authors, which reads
///   merge in. A timeline that cannot be kept complete (its owner went
///   inactive) is dropped and rebuilt on the next read.
/// - A timeline holds a post at most once.
/// - An author is pulled exactly while their recent list holds a post that
///   was not pushed, so a celebrity whose follower count falls below the
///   threshold stays pulled until those posts age out: no post becomes
///   invisible, and nothing is re-bucketed.
public struct FeedEngine: Sendable {
    public let configuration: FeedConfiguration
    var ids: PostIDGenerator

    // Users, by dense number.
    var numbers: [String: UInt32] = [:]
    var names: [String] = []
    var following: [FollowSet] = []
    var followers: [FollowSet] = []
    var timelines: [CappedPostList?] = []
    var recentPosts: [CappedPostList] = []
    /// Posts in the user's recent list that were not pushed to followers.
    var unpushedRecent: [Int32] = []
    /// When the user last read (or appeared), in milliseconds.
    var lastActive: [Int64] = []
    /// Live posts the user has written.
    var postCounts: [Int32] = []

    // Posts.
    struct PostRecord: Sendable {
        var author: UInt32
        var likes: UInt32
        /// Where the body is in `bodies`; -1 once evicted.
        var bodySlot: PostBodyCache.Slot
        /// False for a celebrity's post, which readers pull instead.
        var pushed: Bool
    }

    var posts = PostIndex<PostRecord>()
    var likers: [UInt64: Set<UInt32>] = [:]
    public internal(set) var bodies: PostBodyCache

    /// Users with a non-zero `unpushedRecent`.
    var pulledAuthors: Set<UInt32> = []
    var celebrityCount = 0
    var followCount = 0

    public internal(set) var counters = FeedCounters()
    var mutations: [FeedMutation] = []

    public init(configuration: FeedConfiguration = FeedConfiguration()) {
        self.configuration = configuration
        self.ids = PostIDGenerator(node: configuration.node)
        self.bodies = PostBodyCache(budgetBytes: configuration.postCacheBytes)
    }

    // MARK: Users

    /// Checks a user id: not empty, not over the byte limit.
    public func validate(user name: String) throws(FeedError) {
        let length = name.utf8.count
        if length == 0 { throw .emptyUserID }
        if length > self.configuration.maxUserIDBytes { throw .userIDTooLong(limit: self.configuration.maxUserIDBytes) }
    }

    /// Checks a post body: not empty, not over `maxBodyBytes`.
    public func validate(body: String) throws(FeedError) {
        let length = body.utf8.count
        if length == 0 { throw .emptyBody }
        if length > self.configuration.maxBodyBytes { throw .bodyTooLarge(limit: self.configuration.maxBodyBytes) }
    }

    /// The user's number, creating the user if new.
    mutating func intern(_ name: String, now: Int64) -> UInt32 {
        if let number = self.numbers[name] { return number }
        let number = UInt32(self.names.count)
        self.numbers[name] = number
        self.names.append(name)
        self.following.append(FollowSet())
        self.followers.append(FollowSet())
        self.timelines.append(nil)
        self.recentPosts.append(CappedPostList())
        self.unpushedRecent.append(0)
        self.lastActive.append(now)
        self.postCounts.append(0)
        self.record(.userCreated(user: number, name: name))
        return number
    }

    /// The user's number, if the user exists.
    public func number(of name: String) -> UInt32? { self.numbers[name] }

    public var userCount: Int { self.names.count }

    func isActive(_ user: UInt32, now: Int64) -> Bool {
        now - self.lastActive[Int(user)] <= self.configuration.inactiveAfterMilliseconds
    }

    func isCelebrity(_ user: UInt32) -> Bool {
        self.followers[Int(user)].count >= self.configuration.celebrityThreshold
    }

    // MARK: Mutations

    mutating func record(_ mutation: FeedMutation) {
        if self.configuration.recordsMutations { self.mutations.append(mutation) }
    }

    /// Hands over the mutations recorded since the last call, in order.
    public mutating func drainMutations() -> [FeedMutation] {
        defer { self.mutations.removeAll(keepingCapacity: true) }
        return self.mutations
    }

    // MARK: Size

    public var summary: FeedSummary {
        var summary = FeedSummary()
        summary.users = self.names.count
        summary.posts = self.posts.count
        summary.follows = self.followCount
        summary.celebrities = self.celebrityCount
        summary.pulledAuthors = self.pulledAuthors.count
        summary.cachedBodies = self.bodies.count
        summary.cacheHits = self.bodies.hits
        summary.cacheMisses = self.bodies.misses
        summary.cacheEvictions = self.bodies.evictions
        for timeline in self.timelines {
            guard let timeline else { continue }
            summary.residentTimelines += 1
            summary.timelineEntries += timeline.count
            summary.timelineBytes += timeline.estimatedBytes
        }
        summary.timelineBytes += self.timelines.count * MemoryLayout<CappedPostList?>.stride
        for list in self.recentPosts { summary.recentPostBytes += list.estimatedBytes }
        for set in self.following { summary.followGraphBytes += set.estimatedBytes }
        for set in self.followers { summary.followGraphBytes += set.estimatedBytes }
        // A dictionary entry is its key and value at about 1.33x for load factor.
        summary.postMetadataBytes = self.posts.capacity * (MemoryLayout<UInt64>.size + MemoryLayout<PostRecord>.stride) * 4 / 3
        summary.postBodyBytes = self.bodies.usedBytes
        return summary
    }
}
