import DequeModule

extension FeedEngine {
    /// FEED.READ: up to `count` entries, newest first, strictly older than
    /// `before` when given: the reader's timeline merged with the recent posts
    /// of the pulled authors they follow. A dropped timeline is rebuilt first.
    ///
    /// Memory answers down to the highest floor that applies: the timeline's
    /// and the merged lists', then, below the timeline, the recent lists of
    /// everyone the reader follows. When that runs out before `count`
    /// entries and some of those lists do not reach back to the beginning,
    /// the result says where the store must take over.
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
        self.users[Int(user)].timelineReferenced = true
        if self.timelines[Int(user)] == nil { self.rebuildTimeline(user) }

        var floor = self.timelineFloor(user)
        var sources = [self.timelines[Int(user)]!.newestFirst(before: before)]
        let followed = self.following[Int(user)]
        if self.pulledAuthors.count <= followed.count {
            for author in self.pulledAuthors where followed.contains(author) {
                sources.append(self.pulledList(author, before: before, floor: &floor))
            }
        } else {
            for author in followed.sorted where self.users[Int(author)].unpushedRecent > 0 {
                sources.append(self.pulledList(author, before: before, floor: &floor))
            }
        }
        if sources.count > 1 {
            self.counters.readsWithCelebrityMerge += 1
            self.counters.celebrityListsMerged += sources.count - 1
        }
        var live: [(id: UInt64, record: PostRecord?)] = []
        live.reserveCapacity(Swift.min(count, 64))
        self.collect(NewestFirstMerge(sources), count: count, floor: floor, into: &live)

        var continuation: StoreContinuation? = nil
        if live.count < count {
            // Below the timeline: everyone the reader follows, and the reader.
            var authors = Array(followed.sorted)
            authors.append(user)
            continuation = self.readBelow(Swift.min(before ?? UInt64.max, floor), authors: authors, count: count, into: &live)
        }
        self.write(live, into: &writer)
        return continuation
    }

    /// A pulled author's recent posts for a read, lifting the read's floor to the list's.
    private mutating func pulledList(_ author: UInt32, before: UInt64?, floor: inout UInt64) -> CappedPostList.NewestFirst {
        self.users[Int(author)].recentReferenced = true
        floor = Swift.max(floor, self.recentFloor(author))
        return self.recentPosts[Int(author)].newestFirst(before: before)
    }

    /// Goes on below `point` through the authors' recent lists, down to the
    /// highest of their floors; what is left is the store's.
    private mutating func readBelow(
        _ point: UInt64, authors: [UInt32], count: Int, into live: inout [(id: UInt64, record: PostRecord?)]
    ) -> StoreContinuation? {
        var deepFloor: UInt64 = 0
        for author in authors { deepFloor = Swift.max(deepFloor, self.recentFloor(author)) }
        if point > deepFloor {
            let deep = authors.compactMap { author -> CappedPostList.NewestFirst? in
                let list = self.recentPosts[Int(author)]
                return list.isEmpty ? nil : list.newestFirst(before: point)
            }
            self.collect(NewestFirstMerge(deep), count: count, floor: deepFloor, into: &live)
        }
        guard live.count < count, deepFloor > 0 else { return nil }
        let storePoint = Swift.min(point, deepFloor)
        return self.continuation(below: storePoint, authors: authors, count: count - live.count)
    }

    /// Where the store takes over below `point`, with the posts memory holds
    /// there (the store may not have them yet).
    private mutating func continuation(below point: UInt64, authors: [UInt32], count: Int) -> StoreContinuation {
        self.counters.storeContinuations += 1
        let lists = authors.compactMap { author -> CappedPostList.NewestFirst? in
            let list = self.recentPosts[Int(author)]
            return list.isEmpty ? nil : list.newestFirst(before: point)
        }
        var memory: [FeedEntry] = []
        var merge = NewestFirstMerge(lists)
        while memory.count < count, let id = merge.next() {
            if let record = self.posts[id] { memory.append(self.entry(id, record)) }
        }
        // Posts that left their lists before the store had them. (Without a
        // store every post stays, and a read ends where the lists end.)
        if self.hasStore && !self.outsideRecent.isEmpty {
            let wanted = Set(authors)
            for id in self.outsideRecent where id < point && !self.isDurable(post: id) {
                if let record = self.posts[id], record.outsideRecent, wanted.contains(record.author) {
                    memory.append(self.entry(id, record))
                }
            }
            memory.sort { $0.id > $1.id }
        }
        let storeAuthors = authors.filter { self.recentFloor($0) > 0 }
        let deletedBelow = self.deleted.isEmpty ? 0 : self.deleted.reduce(0) { $0 + ($1 < point ? 1 : 0) }
        return StoreContinuation(
            authors: storeAuthors, before: point, count: count, memory: memory, storeLimit: count + deletedBelow)
    }

    /// Appends posts of `ids` at or above `floor` until `live` holds `count`.
    private func collect<S: Sequence<UInt64>>(
        _ ids: S, count: Int, floor: UInt64, into live: inout [(id: UInt64, record: PostRecord?)]
    ) {
        for id in ids {
            guard live.count < count, id >= floor else { return }
            live.append((id, self.posts[id]))
        }
    }

    /// FEED.READ as values (what memory holds; see `read(user:count:before:now:into:)`).
    public mutating func read(user name: String, count: Int, before: UInt64? = nil, now: Int64) -> [FeedEntry] {
        var collector = FeedEntryCollector()
        self.read(user: name, count: count, before: before, now: now, into: &collector)
        return collector.entries.compactMap { $0 }
    }

    /// Rebuilds a timeline from the recent posts of the user and of everyone
    /// they follow: every post at or above the highest of their floors, up
    /// to the cap.
    mutating func rebuildTimeline(_ user: UInt32) {
        var sources: [CappedPostList.NewestFirst] = []
        sources.reserveCapacity(self.following[Int(user)].count + 1)
        var floor: UInt64 = 0
        for author in [user] + self.following[Int(user)].sorted {
            floor = Swift.max(floor, self.recentFloor(author))
            self.users[Int(author)].recentReferenced = true
            if !self.recentPosts[Int(author)].isEmpty { sources.append(self.recentPosts[Int(author)].newestFirst()) }
        }
        var newest: [UInt64] = []
        let cap = self.configuration.timelineCap
        newest.reserveCapacity(Swift.min(cap, 64))
        var merge = NewestFirstMerge(sources)
        while newest.count < cap, let id = merge.next(), id >= floor { newest.append(id) }
        self.setTimeline(user, CappedPostList(ascending: newest.reversed()), floor: floor)
        self.counters.timelineRebuilds += 1
    }

    /// Frees a user's timeline; their next read rebuilds it. Timelines are a
    /// cache, so this is safe at any time (under memory pressure, say).
    @discardableResult
    public mutating func dropTimeline(of name: String) -> Bool {
        guard let user = self.numbers[name], self.timelines[Int(user)] != nil else { return false }
        self.dropTimelineInternal(user)
        return true
    }

    mutating func dropTimelineInternal(_ user: UInt32) {
        guard self.timelines[Int(user)] != nil else { return }
        self.releaseTimeline(user)
        self.counters.timelinesDropped += 1
    }

    /// Drops the timelines of every user inactive at `now`; returns how many.
    @discardableResult
    public mutating func dropInactiveTimelines(now: Int64) -> Int {
        var dropped = 0
        for user in self.timelines.indices where self.timelines[user] != nil && !self.isActive(UInt32(user), now: now) {
            self.releaseTimeline(UInt32(user))
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
        self.users[Int(author)].recentReferenced = true
        var live: [(id: UInt64, record: PostRecord?)] = []
        let floor = self.recentFloor(author)
        self.collect(self.recentPosts[Int(author)].newestFirst(before: before), count: count, floor: floor, into: &live)
        var continuation: StoreContinuation? = nil
        if live.count < count && floor > 0 {
            continuation = self.continuation(
                below: Swift.min(before ?? UInt64.max, floor), authors: [author], count: count - live.count)
        }
        self.write(live, into: &writer)
        return continuation
    }

    /// FEED.POSTS as values.
    public mutating func posts(author name: String, count: Int, before: UInt64? = nil) -> [FeedEntry] {
        var collector = FeedEntryCollector()
        self.posts(author: name, count: count, before: before, into: &collector)
        return collector.entries.compactMap { $0 }
    }

    /// FEED.GET: each post, or a missing entry when it does not exist (or was
    /// deleted); an unresolved one when only the store can say.
    public mutating func get<Writer: FeedEntryWriter>(_ ids: [UInt64], into writer: inout Writer) {
        writer.beginEntries(count: ids.count)
        for id in ids {
            if let record = self.posts[id] {
                self.write(id, record, into: &writer)
            } else if self.hasStore && !self.deleted.contains(id) {
                writer.unresolvedEntry(id: id)
            } else {
                writer.missingEntry()
            }
        }
    }

    /// FEED.GET as values.
    public mutating func get(_ ids: [UInt64]) -> [FeedEntry?] {
        var collector = FeedEntryCollector()
        self.get(ids, into: &collector)
        return collector.entries
    }

    /// Writes the given posts. They were found first, so the writer knows
    /// the count before the entries.
    private mutating func write<Writer: FeedEntryWriter>(
        _ live: [(id: UInt64, record: PostRecord?)], into writer: inout Writer
    ) {
        writer.beginEntries(count: live.count)
        let names = self.names
        for (id, record) in live {
            if let record {
                self.write(id, record, names: names, into: &writer)
            } else {
                writer.unresolvedEntry(id: id)
            }
        }
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

    /// One entry as a value.
    private func entry(_ id: UInt64, _ record: PostRecord) -> FeedEntry {
        FeedEntry(
            id: id, author: self.names[Int(record.author)], createdMilliseconds: PostID.createdMilliseconds(id),
            body: record.bodySlot >= 0 ? self.bodies.peek(record.bodySlot) : nil)
    }

    /// FEED.STATS. Throws `notInMemory` while the user's post count from
    /// before this process started is only in the store.
    public func stats(of name: String) throws(FeedError) -> UserStats {
        var stats = UserStats()
        guard let user = self.numbers[name] else { return stats }
        let state = self.users[Int(user)]
        guard state.postCountBase >= 0 else { throw .notInMemory(.postCount(user: name)) }
        stats.followers = self.followers[Int(user)].count
        stats.following = self.following[Int(user)].count
        stats.posts = Int(state.postCountBase) + Int(state.postCountDelta)
        stats.timeline = self.timelines[Int(user)]?.count ?? 0
        stats.celebrity = self.isCelebrity(user)
        return stats
    }
}
