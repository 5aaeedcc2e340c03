/// What the engine has done since start-up, for INFO and metrics.
public struct FeedCounters: Sendable, Equatable {
    public var posts = 0
    public var reads = 0
    /// Timeline writes made by fan-out on write.
    public var fanoutDeliveries = 0
    /// Posts by celebrities, which were not pushed to followers.
    public var fanoutsSkippedForCelebrity = 0
    /// `--celebrity-threshold auto`: authors moved to pulling, and back to pushing.
    public var celebritiesPulledByCost = 0
    public var celebritiesPushedByCost = 0
    /// Followers skipped by fan-out because they are inactive.
    public var inactiveFollowersSkipped = 0
    /// Timelines dropped because their owner became inactive.
    public var timelinesDropped = 0
    /// Reads that merged recent posts of at least one pulled (celebrity) author.
    public var readsWithCelebrityMerge = 0
    /// Pulled authors' post lists merged into reads, in all.
    public var celebrityListsMerged = 0
    /// Timelines rebuilt from the authors' lists on a read.
    public var timelineRebuilds = 0
    /// Reads (and FEED.POSTS) that had to continue in the store.
    public var storeContinuations = 0
    /// Commands that had to fetch a post, its likers or a count from the store first.
    public var storeFaults = 0
    public var reposts = 0
    public var replies = 0
    /// Entries reads left out: filtered (mutes, blocks, hidden reposts,
    /// replies to strangers) and reposts shown already.
    public var entriesFiltered = 0
    public var repostsCollapsed = 0
    /// Ranked first pages (each takes a snapshot) and the pages read after them.
    public var rankedReads = 0
    public var rankedPages = 0

    public init() {}
}

/// What eviction has let go since start-up (INFO's `evicted_*`).
public struct EvictionCounters: Sendable, Equatable {
    /// Post records (and their likers) dropped from memory.
    public var posts = 0
    /// Timelines dropped to make room.
    public var timelines = 0
    /// Like sets dropped from memory (counts stay with the post).
    public var likeSets = 0
    /// Bodies dropped to make room (besides the body cache's own budget).
    public var bodies = 0
    /// Calls that found nothing more to evict.
    public var exhausted = 0

    public init() {}
}

/// Running totals of what the engine holds, kept as it changes so that
/// INFO and a metrics scrape read them in O(1) under the engine lock.
struct MemoryUsage: Sendable, Equatable {
    var users = 0
    var records = 0
    var nameBytes = 0
    var residentTimelines = 0
    var timelineEntries = 0
    var recentEntries = 0
    var followGraphBytes = 0
    var likeSets = 0
    var likers = 0
    /// Reply and repost ids indexed by the post they point at.
    var linkEntries = 0
    /// Members of mute, block and hidden-repost sets (each block counts twice: both ways).
    var filterEntries = 0
    var mutes = 0
    var blocks = 0
    var hiddenRepostFollows = 0
    /// Authors in readers' affinity tables, and ids in ranked snapshots.
    var affinityEntries = 0
    var rankedEntries = 0
    /// Notification groups, and the sources (actions) in them.
    var notificationGroups = 0
    var notificationSources = 0
}

/// Estimated bytes per item, for the running totals and for eviction's
/// reckoning of what it freed. Measured against the allocator with
/// bench/memory-bound (docs/adr/0009-memory-is-a-cache.md).
enum MemoryCost {
    /// A post id in a ring buffer, with a quarter spare on average.
    static let listEntry = 10
    /// A ring buffer's allocation header.
    static let list = 48
    /// A post record in its dictionary, at the dictionaries' load factor.
    static let record = 56
    /// A like set's dictionary entry and set header.
    static let likeSet = 96
    /// A user in a like set.
    static let liker = 8
    /// A user's arrays, dictionary entry and string header, besides the
    /// name (176 since the name's bytes are also kept as an address and a
    /// count, 16 bytes, for reads that borrow it in place).
    static let user = 176
    /// A reply or repost id in its post's index array, with the array's share of a dictionary entry.
    static let linkEntry = 24
    /// A user in a mute, block or hidden-repost set, with the set's share of a dictionary entry.
    static let filterEntry = 16
    /// An author's affinity counts in a reader's table (four 8-byte fields,
    /// the key, the dictionary's load factor).
    static let affinityEntry = 64
    /// A ranked snapshot's entry: its key (score, id, position) and four
    /// factors (`Ranking`).
    static let rankedEntry = MemoryLayout<Ranker.RankKey>.stride + 4 * MemoryLayout<Double>.stride
    /// A notification group: its dictionary entry in the feed, its actor
    /// dictionary's header.
    static let notificationGroup = 120
    /// An action in a group: its 24-byte source, its actor's dictionary
    /// entry and array header, at the load factor.
    static let notificationSource = 72
}

/// The engine's size, for INFO's feed section and memory metrics.
public struct FeedSummary: Sendable, Equatable {
    public var users = 0
    /// Post records in memory.
    public var posts = 0
    public var follows = 0
    public var residentTimelines = 0
    public var celebrities = 0
    /// Authors whose recent posts readers pull (celebrities, and former ones
    /// whose unpushed posts are still recent).
    public var pulledAuthors = 0
    public var cachedBodies = 0
    public var cacheHits = 0
    public var cacheMisses = 0
    public var cacheEvictions = 0
    /// Estimated bytes by structure.
    public var timelineBytes = 0
    public var recentPostBytes = 0
    public var followGraphBytes = 0
    public var postMetadataBytes = 0
    public var postBodyBytes = 0
    public var likeBytes = 0
    public var userBytes = 0
    public var timelineEntries = 0
    public var recentEntries = 0
    /// Likes sets in memory.
    public var likeSets = 0
    /// Posts deleted lately and remembered so the store cannot bring them back.
    public var rememberedDeletes = 0
    public var mutes = 0
    public var blocks = 0
    /// Follows that hide the followee's reposts (NOREPOSTS).
    public var hiddenRepostFollows = 0
    /// Reply/repost indexes and mute/block sets.
    public var socialBytes = 0
    /// Authors in readers' affinity tables; ranked snapshots kept for paging.
    public var affinityEntries = 0
    public var rankedSnapshots = 0
    /// Affinity tables and ranked snapshots.
    public var rankingBytes = 0
    /// Notification groups and the actions in them; notification feeds and their bytes.
    public var notificationGroups = 0
    public var notificationSources = 0
    public var notificationBytes = 0

    public init() {}

    /// Everything above, in bytes.
    public var totalBytes: Int {
        self.timelineBytes + self.recentPostBytes + self.followGraphBytes + self.postMetadataBytes + self.postBodyBytes
            + self.likeBytes + self.userBytes + self.socialBytes + self.rankingBytes
            + self.notificationBytes
    }
}
