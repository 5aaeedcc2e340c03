/// What the engine has done since start-up, for INFO and metrics.
public struct FeedCounters: Sendable, Equatable {
    public var posts = 0
    public var reads = 0
    /// Timeline writes made by fan-out on write.
    public var fanoutDeliveries = 0
    /// Posts by celebrities, which were not pushed to followers.
    public var fanoutsSkippedForCelebrity = 0
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

    public init() {}
}

/// The engine's size, for INFO's feed section and memory metrics.
public struct FeedSummary: Sendable, Equatable {
    public var users = 0
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
    public var timelineEntries = 0

    public init() {}
}
