extension FeedEngine {
    /// The engine's size, from running totals: O(1), so INFO and metrics
    /// scrapes hold the engine lock for microseconds however many users.
    public var summary: FeedSummary {
        var summary = FeedSummary()
        let usage = self.usage
        summary.users = usage.users
        summary.posts = usage.records
        summary.follows = self.followCount
        summary.celebrities = self.celebrityCount
        summary.pulledAuthors = self.pulledAuthors.count
        summary.cachedBodies = self.bodies.count
        summary.cacheHits = self.bodies.hits
        summary.cacheMisses = self.bodies.misses
        summary.cacheEvictions = self.bodies.evictions
        summary.residentTimelines = usage.residentTimelines
        summary.timelineEntries = usage.timelineEntries
        summary.recentEntries = usage.recentEntries
        summary.likeSets = usage.likeSets
        summary.rememberedDeletes = self.deleted.count
        summary.timelineBytes =
            usage.timelineEntries * MemoryCost.listEntry + usage.residentTimelines * MemoryCost.list
        summary.recentPostBytes = usage.recentEntries * MemoryCost.listEntry
        summary.followGraphBytes = usage.followGraphBytes
        summary.postMetadataBytes =
            self.posts.allocatedBytes + self.deleted.count * 32
            + (self.pendingPosts.count + self.outsideRecent.count) * 16
        summary.postBodyBytes = self.bodies.allocatedBytes
        summary.likeBytes = usage.likeSets * MemoryCost.likeSet + usage.likers * MemoryCost.liker
        summary.userBytes =
            usage.users * MemoryCost.user + usage.nameBytes + self.celebrityRates.count * MemoryLayout<CelebrityRates>.stride
        summary.mutes = usage.mutes
        summary.blocks = usage.blocks
        summary.hiddenRepostFollows = usage.hiddenRepostFollows
        summary.socialBytes =
            usage.linkEntries * MemoryCost.linkEntry + usage.filterEntries * MemoryCost.filterEntry + self.countChanges.count * 32
            + self.leftCounts.count * 40
        summary.affinityEntries = usage.affinityEntries
        summary.rankedSnapshots = self.rankedSnapshots.count
        summary.rankingBytes =
            usage.affinityEntries * MemoryCost.affinityEntry + usage.rankedEntries * MemoryCost.rankedEntry
            + self.rankedSnapshotOrder.count * 16
        summary.notificationGroups = usage.notificationGroups
        summary.notificationSources = usage.notificationSources
        summary.notificationBytes =
            usage.notificationGroups * MemoryCost.notificationGroup + usage.notificationSources * MemoryCost.notificationSource
            + self.notificationFeeds.count * 64 + self.mentionedIn.count * 40
        return summary
    }

    /// Estimated bytes the engine holds (`summary.totalBytes`), cheaply.
    public var estimatedBytes: Int { self.summary.totalBytes }
}
