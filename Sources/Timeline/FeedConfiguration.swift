/// The engine's settings. Every field has the default the product promises.
public struct FeedConfiguration: Sendable {
    /// Most post ids a user's timeline keeps (`--timeline-cap`); Twitter and
    /// Mastodon keep about 800.
    public var timelineCap = 800
    /// Most post ids kept per author for celebrity merges, backfill and rebuilds.
    public var recentPostsCap = 800
    /// Authors with at least this many followers are celebrities: their posts
    /// are pulled at read time instead of pushed (`--celebrity-threshold`).
    public var celebrityThreshold = 5000
    /// `--celebrity-threshold auto`: an author is pulled when pushing costs
    /// more than pulling (FeedEngine+Celebrities.swift), not by a count.
    public var celebrityAuto = false
    /// Auto: posting and reading rates halve over this long (`--celebrity-rate-half-life`).
    public var celebrityRateHalfLifeMilliseconds: Int64 = 10 * 60 * 1000
    /// Auto: an author's side is judged again at most this often (`--celebrity-recheck`).
    public var celebrityRecheckMilliseconds: Int64 = 10 * 1000
    /// How many of a followee's recent posts FOLLOW copies into the timeline.
    public var backfillCount = 200
    /// A user who has not read for this long gets no fan-out, and their
    /// timeline is dropped until their next read (`--inactive-after`).
    public var inactiveAfterMilliseconds: Int64 = 7 * 24 * 3600 * 1000
    /// Budget for post bodies in memory (`--post-cache-mb`).
    public var postCacheBytes = 256 * 1024 * 1024
    /// Longest body accepted (`--max-body-bytes`).
    public var maxBodyBytes = 64 * 1024
    /// Longest user id accepted, in bytes.
    public var maxUserIDBytes = 128
    /// COUNT when a read does not say, and the most it may ask for.
    public var defaultReadCount = 50
    public var maxReadCount = 500
    /// A repost is not shown when the post (or another repost of it) is
    /// among the next this-many entries below it in the feed (Mastodon's
    /// reblog falloff). 0 shows every repost.
    public var repostFalloff = 40
    /// Most notification groups a user keeps (`--notifications-cap`); the
    /// stalest goes first. 0 turns notifications off.
    public var notificationsCap = 500
    /// The ranked feed's weights at start (the engine's `rankWeights` then
    /// follow CONFIG SET).
    public var ranking = RankWeights()
    /// This node's number in post ids (0-1023).
    public var node = 0
    /// Whether mutations are recorded for the persistence layer to drain.
    public var recordsMutations = false

    public init() {}
}
