extension FeedEngine {
    /// FEED.READ: up to `count` entries, newest first, strictly older than
    /// `before` when given: the reader's timeline merged with the recent posts
    /// of the pulled authors they follow. A dropped timeline is rebuilt first.
    ///
    /// The timeline caches the feed's newest part. When it runs out before
    /// `count` entries, the read goes on below it through the recent posts of
    /// everyone the reader follows, and when some of them have older posts
    /// than memory holds, returns where the store must take over.
    @discardableResult
    public mutating func read<Writer: FeedEntryWriter>(
        user name: String, count: Int, before: UInt64? = nil, now: Int64, into writer: inout Writer
    ) -> StoreContinuation? {
        guard let user = self.numbers[name] else {
            writer.beginEntries(count: 0)
            return nil
        }
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
        var live: [(id: UInt64, record: PostRecord)] = []
        live.reserveCapacity(Swift.min(count, 64))
        var floor = before ?? UInt64.max
        self.collect(NewestFirstMerge(sources), count: count, into: &live, floor: &floor)

        var continuation: StoreContinuation? = nil
        if live.count < count {
            // Below the timeline: everyone the reader follows, and the reader.
            var authors = Array(followed.sorted)
            authors.append(user)
            let deep = authors.compactMap { author -> CappedPostList.NewestFirst? in
                let list = self.recentPosts[Int(author)]
                return list.isEmpty ? nil : list.newestFirst(before: floor)
            }
            self.collect(NewestFirstMerge(deep), count: count, into: &live, floor: &floor)
            if live.count < count {
                let older = authors.filter { Int(self.postCounts[Int($0)]) > self.recentPosts[Int($0)].count }
                if !older.isEmpty { continuation = StoreContinuation(authors: older, before: floor, count: count - live.count) }
            }
        }
        self.write(live, into: &writer)
        return continuation
    }

    /// Appends the live posts of `ids` until `live` holds `count`, lowering
    /// `floor` to the last id looked at.
    private func collect<S: Sequence<UInt64>>(
        _ ids: S, count: Int, into live: inout [(id: UInt64, record: PostRecord)], floor: inout UInt64
    ) {
        for id in ids {
            guard live.count < count else { return }
            floor = id
            if let record = self.posts[id] { live.append((id, record)) }
        }
    }

    /// FEED.READ as values (what memory holds; see `read(user:count:before:now:into:)`).
    public mutating func read(user name: String, count: Int, before: UInt64? = nil, now: Int64) -> [FeedEntry] {
        var collector = FeedEntryCollector()
        self.read(user: name, count: count, before: before, now: now, into: &collector)
        return collector.entries.compactMap { $0 }
    }

    /// The names of users by number, for entries read from the store.
    public func names(of users: [UInt32]) -> [UInt32: String] {
        Dictionary(users.filter { Int($0) < self.names.count }.map { ($0, self.names[Int($0)]) }, uniquingKeysWith: { a, _ in a })
    }

    /// Whether a post the store returned is still live here (a delete may not
    /// have reached the store yet).
    public func isLive(_ id: UInt64) -> Bool { self.posts[id] != nil }

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

    /// FEED.POSTS: the author's own posts, newest first; where the store must
    /// continue when the author has older posts than memory holds.
    @discardableResult
    public mutating func posts<Writer: FeedEntryWriter>(
        author name: String, count: Int, before: UInt64? = nil, into writer: inout Writer
    ) -> StoreContinuation? {
        guard let author = self.numbers[name] else {
            writer.beginEntries(count: 0)
            return nil
        }
        var live: [(id: UInt64, record: PostRecord)] = []
        var floor = before ?? UInt64.max
        self.collect(self.recentPosts[Int(author)].newestFirst(before: before), count: count, into: &live, floor: &floor)
        self.write(live, into: &writer)
        guard live.count < count, Int(self.postCounts[Int(author)]) > self.recentPosts[Int(author)].count else { return nil }
        return StoreContinuation(authors: [author], before: floor, count: count - live.count)
    }

    /// FEED.POSTS as values.
    public mutating func posts(author name: String, count: Int, before: UInt64? = nil) -> [FeedEntry] {
        var collector = FeedEntryCollector()
        self.posts(author: name, count: count, before: before, into: &collector)
        return collector.entries.compactMap { $0 }
    }

    /// FEED.GET: each post, or a missing entry when it does not exist (or was deleted).
    public mutating func get<Writer: FeedEntryWriter>(_ ids: [UInt64], into writer: inout Writer) {
        writer.beginEntries(count: ids.count)
        for id in ids {
            if let record = self.posts[id] { self.write(id, record, into: &writer) } else { writer.missingEntry() }
        }
    }

    /// FEED.GET as values.
    public mutating func get(_ ids: [UInt64]) -> [FeedEntry?] {
        var collector = FeedEntryCollector()
        self.get(ids, into: &collector)
        return collector.entries
    }

    /// Writes the given live posts. The records were found first, so the
    /// writer knows the count before the entries.
    private mutating func write<Writer: FeedEntryWriter>(
        _ live: [(id: UInt64, record: PostRecord)], into writer: inout Writer
    ) {
        writer.beginEntries(count: live.count)
        let names = self.names
        for (id, record) in live { self.write(id, record, names: names, into: &writer) }
    }

    /// One entry, its author and body passed as bytes in place. `names` is
    /// the engine's own array, passed in so each name is borrowed, not copied.
    private mutating func write<Writer: FeedEntryWriter>(
        _ id: UInt64, _ record: PostRecord, names: [String]? = nil, into writer: inout Writer
    ) {
        let created = PostID.createdMilliseconds(id)
        let names = names ?? self.names
        names[Int(record.author)].withUTF8Bytes { authorBytes in
            if record.bodySlot >= 0 {
                self.bodies.withBody(at: record.bodySlot) { body in
                    body.withUTF8Bytes { bodyBytes in
                        writer.entry(id: id, author: authorBytes, createdMilliseconds: created, body: bodyBytes)
                    }
                }
            } else {
                self.bodies.recordMiss()
                writer.entry(id: id, author: authorBytes, createdMilliseconds: created, body: nil)
            }
        }
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
