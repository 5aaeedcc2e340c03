extension FeedEngine {
    /// FEED.READ: up to `count` entries, newest first, strictly older than
    /// `before` when given: the reader's timeline merged with the recent posts
    /// of the pulled authors they follow. A dropped timeline is rebuilt first.
    public mutating func read(user name: String, count: Int, before: UInt64? = nil, now: Int64) -> [FeedEntry] {
        guard let user = self.numbers[name] else { return [] }
        self.counters.reads += 1
        self.lastActive[Int(user)] = now
        if self.timelines[Int(user)] == nil { self.rebuildTimeline(user) }

        var sources = [self.timelines[Int(user)]!.newestFirst(before: before)]
        let followed = self.following[Int(user)]
        if self.pulledAuthors.count <= followed.count {
            for author in self.pulledAuthors where followed.contains(author) {
                sources.append(self.recentPosts[Int(author)].newestFirst(before: before))
            }
        } else {
            for author in followed.sorted where self.unpushedRecent[Int(author)] > 0 {
                sources.append(self.recentPosts[Int(author)].newestFirst(before: before))
            }
        }
        if sources.count > 1 {
            self.counters.readsWithCelebrityMerge += 1
            self.counters.celebrityListsMerged += sources.count - 1
        }
        return self.hydrate(NewestFirstMerge(sources), count: count)
    }

    /// Rebuilds a timeline from the recent posts of the user and of everyone
    /// they follow: the same ids a timeline that was never dropped would hold.
    mutating func rebuildTimeline(_ user: UInt32) {
        var sources: [CappedPostList.NewestFirst] = []
        sources.reserveCapacity(self.following[Int(user)].count + 1)
        if !self.recentPosts[Int(user)].isEmpty { sources.append(self.recentPosts[Int(user)].newestFirst()) }
        for followee in self.following[Int(user)].sorted where !self.recentPosts[Int(followee)].isEmpty {
            sources.append(self.recentPosts[Int(followee)].newestFirst())
        }
        var newest: [UInt64] = []
        let cap = self.configuration.timelineCap
        newest.reserveCapacity(Swift.min(cap, 64))
        var merge = NewestFirstMerge(sources)
        while newest.count < cap, let id = merge.next() { newest.append(id) }
        self.timelines[Int(user)] = CappedPostList(ascending: newest.reversed())
        self.counters.timelineRebuilds += 1
    }

    /// Frees a user's timeline; their next read rebuilds it. Timelines are a
    /// cache, so this is safe at any time (under memory pressure, say).
    @discardableResult
    public mutating func dropTimeline(of name: String) -> Bool {
        guard let user = self.numbers[name], self.timelines[Int(user)] != nil else { return false }
        self.timelines[Int(user)] = nil
        self.counters.timelinesDropped += 1
        return true
    }

    /// Drops the timelines of every user inactive at `now`; returns how many.
    @discardableResult
    public mutating func dropInactiveTimelines(now: Int64) -> Int {
        var dropped = 0
        for user in self.timelines.indices where self.timelines[user] != nil && !self.isActive(UInt32(user), now: now) {
            self.timelines[user] = nil
            dropped += 1
        }
        self.counters.timelinesDropped += dropped
        return dropped
    }

    /// FEED.POSTS: the author's own posts, newest first.
    public mutating func posts(author name: String, count: Int, before: UInt64? = nil) -> [FeedEntry] {
        guard let author = self.numbers[name] else { return [] }
        return self.hydrate(self.recentPosts[Int(author)].newestFirst(before: before), count: count)
    }

    /// FEED.GET: each post, or nil when it does not exist (or was deleted).
    public mutating func get(_ ids: [UInt64]) -> [FeedEntry?] {
        ids.map { self.entry($0) }
    }

    /// The entry for `id`, or nil when there is no such live post.
    mutating func entry(_ id: UInt64) -> FeedEntry? {
        guard let record = self.posts[id] else { return nil }
        return FeedEntry(
            id: id,
            author: self.names[Int(record.author)],
            createdMilliseconds: PostID.createdMilliseconds(id),
            body: self.bodies.body(id))
    }

    private mutating func hydrate<S: Sequence<UInt64>>(_ ids: S, count: Int) -> [FeedEntry] {
        var entries: [FeedEntry] = []
        entries.reserveCapacity(Swift.min(count, 64))
        for id in ids {
            guard entries.count < count else { break }
            if let entry = self.entry(id) { entries.append(entry) }
        }
        return entries
    }

    /// FEED.STATS.
    public func stats(of name: String) -> UserStats {
        var stats = UserStats()
        guard let user = self.numbers[name] else { return stats }
        stats.followers = self.followers[Int(user)].count
        stats.following = self.following[Int(user)].count
        stats.posts = Int(self.postCounts[Int(user)])
        stats.timeline = self.timelines[Int(user)]?.count ?? 0
        stats.celebrity = self.isCelebrity(user)
        return stats
    }
}
