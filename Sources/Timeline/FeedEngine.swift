import DequeModule

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
/// out to 5,000 followers, merge a read) walk contiguous memory. The numbers
/// are this process's own: the store keys users by an id it assigns
/// (docs/adr/0009-memory-is-a-cache.md).
///
/// Memory is a cache of the store (when there is one). Every post list the
/// engine keeps — a user's timeline, an author's recent posts — has a floor:
/// it holds every post it should with an id at or above its floor, and says
/// nothing below it. A read takes from memory down to the highest floor that
/// applies and asks the store for the rest (`StoreContinuation`). Eviction
/// raises floors and drops what the store can give back; it never drops what
/// the store does not have yet (a post, a like or a delete not yet durable).
///
/// Invariants:
/// - A resident timeline holds exactly the reader's feed posts at or above
///   its floor, newest first, except posts of pulled authors, which reads
///   merge in. A timeline that cannot be kept so (its owner went inactive,
///   an unfollow met posts memory no longer describes) is dropped and
///   rebuilt on the next read.
/// - A recent list holds exactly its author's live posts at or above its
///   floor, and every post in it has a record.
/// - A timeline holds a post at most once.
/// - An author is pulled while their recent list holds a post that was not
///   pushed, so a celebrity whose follower count falls below the threshold
///   stays pulled until those posts age out: no post becomes invisible, and
///   nothing is re-bucketed. An author whose unpushed posts eviction trimmed
///   stays pulled for good (their followers' timelines never had them).
public struct FeedEngine: Sendable {
    public let configuration: FeedConfiguration
    var ids: PostIDGenerator
    /// The highest post id made or loaded so far: every later post's id is above it.
    public var latestPostID: UInt64 { self.ids.latest }

    // Users, by dense number.
    var numbers: [String: UInt32] = [:]
    var names: [String] = []
    /// Where each name's UTF-8 bytes are (`AddressHint`; exact: a name
    /// never changes), so that writing an entry borrows its author's name
    /// without retaining it (names of over 15 bytes are on the heap, and a
    /// popular author's was retained by both cores at once).
    var nameBytes: [AddressHint.Bytes] = []
    var following: [FollowSet] = []
    var followers: [FollowSet] = []
    var timelines: [CappedPostList?] = []
    var recentPosts: [CappedPostList] = []
    /// When the user last read (or appeared), in milliseconds. Apart from
    /// `users` because fan-out reads it for every follower.
    var lastActive: [Int64] = []
    var users: [UserState] = []

    /// What the engine keeps per user besides the lists and the clock.
    struct UserState: Sendable {
        /// The recent list holds every live post of the user at or above this id.
        var recentFloor: UInt64 = 0
        /// The timeline holds every feed post at or above this id (pulled authors' aside).
        var timelineFloor: UInt64 = 0
        /// Posts in the user's recent list that were not pushed to followers.
        var unpushedRecent: Int32 = 0
        /// Live posts before this process started, from the store; -1 until asked.
        var postCountBase: Int32 = 0
        /// Posts created minus posts deleted by this process.
        var postCountDelta: Int32 = 0
        /// CLOCK bits for eviction: set when the timeline or the recent list is read.
        var timelineReferenced = false
        var recentReferenced = false
    }

    // Posts.
    struct PostRecord: Sendable {
        var author: UInt32
        var likes: UInt32
        /// Where the body is in `bodies`; -1 once evicted.
        var bodySlot: PostBodyCache.Slot
        /// False for a celebrity's post, which readers pull instead.
        var pushed: Bool
        /// Not in its author's recent list: loaded from the store for one
        /// command, or kept after the list let it go because it was not durable.
        var outsideRecent: Bool
        /// A reply or a repost points at `link`, by `linkAuthor`.
        var kind: PostKind = .post
        var link: UInt64 = 0
        var linkAuthor: UInt32 = 0
        /// Live replies to the post and reposts of it.
        var replies: UInt32 = 0
        var reposts: UInt32 = 0
    }

    /// Records of the posts in recent lists, and of a few others (`outsideRecent`).
    var posts = PostIndex<PostRecord>()
    /// Who liked a post, for the posts whose likers memory knows. A record
    /// with likes and no entry here has likers only the store knows.
    var likers: [UInt64: LikeState] = [:]
    struct LikeState: Sendable {
        var users: Set<UInt32>
        /// The mutation that last changed it; it may leave memory once that is durable.
        var sequence: UInt64
    }
    public internal(set) var bodies: PostBodyCache

    // Replies, reposts and filters (docs/adr/0012-reposts-replies-filters.md).
    /// The reposts of a post among the records memory holds, by original.
    var repostsOf: [UInt64: [UInt64]] = [:]
    /// The replies to a post among the records memory holds.
    var repliesTo: [UInt64: [UInt64]] = [:]
    /// Posts whose like, reply or repost count changed lately, with the
    /// latest such mutation: their records stay until the store has it, and
    /// their counts a while after (`deleteMemoryMilliseconds`, in
    /// `leftCounts` once the record goes), so that a store read that began
    /// before it committed cannot bring an old count back.
    var countChanges: [UInt64: UInt64] = [:]
    var leftCounts: [UInt64: (likes: UInt32, replies: UInt32, reposts: UInt32)] = [:]
    /// The changes in order; `durableAt` is when the store was first seen to have one.
    var countChangeQueue = Deque<(sequence: UInt64, id: UInt64, durableAt: Int64?)>()
    /// Per user: whom they mute, whom they block, who blocks them, and the
    /// followees whose reposts they hide. Only users with any are present.
    var mutes: [UInt32: FollowSet] = [:]
    var blocks: [UInt32: FollowSet] = [:]
    var blockedBy: [UInt32: FollowSet] = [:]
    var hiddenReposts: [UInt32: FollowSet] = [:]
    /// A fault the store has just answered with nothing left to install
    /// (the user has no such repost) or with all there is (every repost of
    /// a post): good for the retry of the command that asked, in the same
    /// engine call, and cleared by it.
    var answered: StoreFault? = nil

    // The ranked feed (docs/adr/0013-ranked-feed.md).
    /// The weights ranked reads use now (CONFIG SET changes them).
    public var rankWeights: RankWeights
    /// Per reader: their interest in each author they liked, replied to or
    /// reposted lately, at most `rankWeights.affinityAuthors` authors.
    var affinities: [UInt32: [UInt32: AffinityCounts]] = [:]
    /// Per reader: the ranking their last first page took, which PAGE
    /// tokens walk; and the order they were taken in, for expiry.
    var rankedSnapshots: [UInt32: RankedSnapshot] = [:]
    var rankedSnapshotOrder = Deque<(user: UInt32, generation: UInt64)>()
    var rankGeneration: UInt64 = 0

    // Notifications (docs/adr/0014-notifications.md).
    /// Per user with any: their notification groups.
    var notificationFeeds: [UInt32: NotificationFeed] = [:]
    /// Per post that mentions someone: the users with a mention group for it.
    var mentionedIn: [UInt64: [UInt32]] = [:]
    /// Orders of notification sources and marks: time-based, and tagged with
    /// the node that made them, as post ids are, so that the orders several
    /// nodes give one user's notifications compare as the actions happened.
    var notificationOrders = PostIDGenerator(node: 0)
    /// Set by the server to be told which groups changed (`drainNotificationChanges`).
    public var logsNotificationChanges = false
    var notificationChanges: [(user: UInt32, group: NotificationKey, actor: UInt32)] = []

    /// Users with a non-zero `unpushedRecent`.
    var pulledAuthors: Set<UInt32> = []
    var celebrityCount = 0
    /// `--celebrity-threshold auto`: per user, their rates and side; and what pushes and pulls cost.
    var celebrityRates: [CelebrityRates] = []
    public var celebrityCosts = CelebrityCosts()
    var followCount = 0

    public internal(set) var counters = FeedCounters()
    /// Room for the notes of reads on this engine (`takeReadNotes`), kept
    /// so that a read allocates none.
    var readNotes = ReadNotes()
    public internal(set) var evictions = EvictionCounters()
    var usage = MemoryUsage()
    var mutations: [FeedMutation] = []

    // Durability: what the store already has.
    /// Mutations recorded so far; the journal numbers them the same way.
    public internal(set) var sequence: UInt64 = 0
    /// Every mutation up to this one is in the store.
    public internal(set) var durableSequence: UInt64 = 0
    /// Every post with an id up to this one is in the store.
    public internal(set) var durablePostID: UInt64 = 0
    /// Posts created and not yet durable, in order: (sequence, id).
    var pendingPosts = Deque<(sequence: UInt64, id: UInt64)>()
    /// Posts deleted lately. The store may still return them (the delete is
    /// not durable yet, or a read of the store began before it was), so every
    /// store answer is filtered through this set.
    var deleted: Set<UInt64> = []
    var deletedQueue = Deque<(id: UInt64, sequence: UInt64, at: Int64)>()
    /// Records outside recent lists, oldest first, for eviction.
    var outsideRecent = Deque<UInt64>()
    /// Eviction's CLOCK hands over users.
    var timelineHand = 0
    var recentHand = 0

    /// Restored users' posts before this id are in the store only.
    var restoredBelow: UInt64 = 0

    // Several nodes (docs/adr/0015-cluster.md, FeedEngine+Replication.swift).
    /// True while applying another node's action: its mutations are not journaled again.
    public var replaying = false
    /// The highest id of another node's post applied here: in the store
    /// already, so durable once this node's own pending posts are.
    var remoteDurablePostID: UInt64 = 0

    public init(configuration: FeedConfiguration = FeedConfiguration()) {
        self.configuration = configuration
        self.ids = PostIDGenerator(node: configuration.node)
        self.notificationOrders = PostIDGenerator(node: configuration.node)
        self.bodies = PostBodyCache(budgetBytes: configuration.postCacheBytes)
        self.rankWeights = configuration.ranking
    }

    /// Whether a store stands behind memory: only then can anything it holds
    /// be evicted and fetched again.
    var hasStore: Bool { self.configuration.recordsMutations }

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
        let number = self.appendUser(name: name, now: now, state: UserState())
        self.record(.userCreated(user: number, name: name))
        return number
    }

    /// Adds a user's arrays; returns the new number.
    mutating func appendUser(name: String, now: Int64, state: UserState) -> UInt32 {
        let number = UInt32(self.names.count)
        self.numbers[name] = number
        self.names.append(name)
        self.nameBytes.append(AddressHint.Bytes(of: name))
        self.following.append(FollowSet())
        self.followers.append(FollowSet())
        self.timelines.append(nil)
        self.recentPosts.append(CappedPostList())
        self.lastActive.append(now)
        self.users.append(state)
        if self.configuration.celebrityAuto { self.celebrityRates.append(CelebrityRates()) }
        self.usage.users += 1
        self.usage.nameBytes += name.utf8.count
        return number
    }

    /// The user's number, if the user exists.
    public func number(of name: String) -> UInt32? { self.numbers[name] }

    /// The user's name by number.
    public func name(of number: UInt32) -> String { self.names[Int(number)] }

    public var userCount: Int { self.names.count }

    /// Makes later post ids carry `node` (a cluster gives each node its
    /// number at start-up), still above every id made or loaded so far.
    public mutating func useNode(_ node: Int) {
        let latest = self.ids.latest
        self.ids = PostIDGenerator(node: node)
        self.ids.advance(past: latest)
        let latestOrder = self.notificationOrders.latest
        self.notificationOrders = PostIDGenerator(node: node)
        self.notificationOrders.advance(past: latestOrder)
    }

    /// How many users' ids pass `test` (CLUSTER COUNTKEYSINSLOT): a walk of every user.
    public func countUsers(where test: (String) -> Bool) -> Int { self.names.count(where: test) }

    func isActive(_ user: UInt32, now: Int64) -> Bool {
        now - self.lastActive[Int(user)] <= self.configuration.inactiveAfterMilliseconds
    }

    // MARK: Floors

    /// The recent list holds every live post of `author` at or above this id.
    /// A full list says nothing below its oldest post.
    func recentFloor(_ author: UInt32) -> UInt64 {
        let list = self.recentPosts[Int(author)]
        let floor = self.users[Int(author)].recentFloor
        guard list.count >= self.configuration.recentPostsCap, let oldest = list.oldest else { return floor }
        return Swift.max(floor, oldest)
    }

    /// The timeline holds every feed post of `user` at or above this id. A
    /// full timeline says nothing below its oldest post.
    func timelineFloor(_ user: UInt32) -> UInt64 {
        let floor = self.users[Int(user)].timelineFloor
        guard let timeline = self.timelines[Int(user)], timeline.count >= self.configuration.timelineCap,
            let oldest = timeline.oldest
        else { return floor }
        return Swift.max(floor, oldest)
    }

    // MARK: Mutations

    mutating func record(_ mutation: FeedMutation) {
        guard self.configuration.recordsMutations else { return }
        // Another node's action is in the store already, with everything it
        // made there: only the users it names are journaled here.
        if self.replaying && !mutation.isMadeByReplay { return }
        self.sequence += 1
        self.mutations.append(mutation)
    }

    /// Hands over the mutations recorded since the last call, in order. The
    /// first has sequence number `sequence - count + 1`.
    public mutating func drainMutations() -> [FeedMutation] {
        defer { self.mutations.removeAll(keepingCapacity: true) }
        return self.mutations
    }

    /// The store has committed every mutation up to `sequence`: what they
    /// made may now leave memory.
    public mutating func markDurable(through sequence: UInt64, now: Int64) {
        guard sequence > self.durableSequence else {
            self.forgetDurableCountChanges(now: now)
            return self.forgetDeletes(now: now)
        }
        self.durableSequence = Swift.min(sequence, self.sequence)
        while let first = self.pendingPosts.first, first.sequence <= self.durableSequence {
            self.durablePostID = Swift.max(self.durablePostID, first.id)
            self.pendingPosts.removeFirst()
        }
        if self.pendingPosts.isEmpty { self.durablePostID = Swift.max(self.durablePostID, self.remoteDurablePostID) }
        self.forgetDeletes(now: now)
        self.forgetDurableCountChanges(now: now)
        self.evictOutsideRecent()
    }

    /// How long a durable delete is still remembered, so that a store read
    /// that began before it committed cannot bring the post back.
    static let deleteMemoryMilliseconds: Int64 = 60_000

    mutating func forgetDeletes(now: Int64) {
        while let first = self.deletedQueue.first, first.sequence <= self.durableSequence,
            now - first.at >= Self.deleteMemoryMilliseconds
        {
            self.deleted.remove(first.id)
            self.deletedQueue.removeFirst()
        }
    }

    /// Whether the store has the post (so memory may let it go).
    func isDurable(post id: UInt64) -> Bool { id <= self.durablePostID }

    /// Whether the post was deleted lately (its delete may not be in the store yet).
    public func isDeleted(_ id: UInt64) -> Bool { self.deleted.contains(id) }
}
