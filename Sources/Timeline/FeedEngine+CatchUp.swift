/// FEED.READ … AFTER: the entries newer than an id, oldest first — what a
/// client that lost its connection missed.
extension FeedEngine {
    /// Up to `count` entries of the user's feed newer than `after`, oldest
    /// first. The recent lists of the user and everyone they follow hold the
    /// whole feed at or above the highest of their floors; when `after` is
    /// below that, the store gives the oldest part and the result says how.
    public mutating func readAfter<Writer: FeedEntryWriter>(
        user name: String, after: UInt64, count: Int, now: Int64, into writer: inout Writer
    ) -> StoreCatchUp? {
        guard let user = self.numbers[name] else {
            writer.beginEntries(count: 0)
            return nil
        }
        self.counters.reads += 1
        self.lastActive[Int(user)] = now
        var authors = Array(self.following[Int(user)].sorted)
        authors.append(user)
        var floor: UInt64 = 0
        var sources: [CappedPostList.NewestFirst] = []
        for author in authors {
            floor = Swift.max(floor, self.recentFloor(author))
            self.users[Int(author)].recentReferenced = true
            if !self.recentPosts[Int(author)].isEmpty { sources.append(self.recentPosts[Int(author)].newestFirst()) }
        }
        // Everything memory holds above `after`, newest first; its oldest `count` are the answer.
        var above: [UInt64] = []
        var merge = NewestFirstMerge(sources)
        while let id = merge.next(), id > after { above.append(id) }
        if after >= floor || floor == 0 {
            let oldest = above.suffix(count).reversed()
            writer.beginEntries(count: oldest.count)
            for id in oldest { self.writeEntry(id, into: &writer) }
            return nil
        }
        // Below the floor the store holds the oldest part; memory's posts there
        // (the store may not have them yet) and above it come along.
        self.counters.storeContinuations += 1
        let below = above.filter { $0 < floor }.reversed().prefix(count)
        let rest = above.filter { $0 >= floor }.reversed().prefix(count)
        let deletedAbove = self.deleted.isEmpty ? 0 : self.deleted.reduce(0) { $0 + ($1 > after && $1 < floor ? 1 : 0) }
        return StoreCatchUp(
            authors: authors.filter { self.recentFloor($0) > 0 }, after: after, below: floor, count: count,
            memoryBelow: below.compactMap { self.entryValue($0) }, memoryAbove: rest.compactMap { self.entryValue($0) },
            storeLimit: count + deletedAbove)
    }

    /// FEED.READ … AFTER as values (what memory holds).
    public mutating func readAfter(user name: String, after: UInt64, count: Int, now: Int64) -> ([FeedEntry], StoreCatchUp?) {
        var collector = FeedEntryCollector()
        let catchUp = self.readAfter(user: name, after: after, count: count, now: now, into: &collector)
        return (collector.entries.compactMap { $0 }, catchUp)
    }

    /// One entry from its record (posts in recent lists always have one).
    private mutating func writeEntry<Writer: FeedEntryWriter>(_ id: UInt64, into writer: inout Writer) {
        guard let entry = self.entryValue(id) else { return writer.unresolvedEntry(id: id) }
        entry.author.withUTF8Bytes { author in
            if let body = entry.body {
                body.withUTF8Bytes { writer.entry(id: id, author: author, createdMilliseconds: entry.createdMilliseconds, body: $0) }
            } else {
                writer.entry(id: id, author: author, createdMilliseconds: entry.createdMilliseconds, body: nil)
            }
        }
    }

    /// A post memory has a record of, as a value.
    func entryValue(_ id: UInt64) -> FeedEntry? {
        guard let record = self.posts[id] else { return nil }
        return FeedEntry(
            id: id, author: self.names[Int(record.author)], createdMilliseconds: PostID.createdMilliseconds(id),
            body: record.bodySlot >= 0 ? self.bodies.peek(record.bodySlot) : nil)
    }
}

/// Where a catch-up read (AFTER) needs the store: the feed's posts newer
/// than `after` and older than `below` come from the store, merged with
/// memory's there; memory's at or above `below` follow.
public struct StoreCatchUp: Sendable, Equatable {
    /// Users (by number) whose posts in the range may be only in the store.
    public var authors: [UInt32]
    public var after: UInt64
    public var below: UInt64
    public var count: Int
    /// Memory's posts in `after<..<below`, oldest first.
    public var memoryBelow: [FeedEntry]
    /// Memory's posts at or above `below`, oldest first (at most `count`).
    public var memoryAbove: [FeedEntry]
    /// Rows to ask the store for: `count` and one per recent delete in range.
    public var storeLimit: Int

    /// The answer: the store's rows merged with memory's below the floor,
    /// then memory's above it, oldest first, each once, without deletes.
    public func merged(store: [FeedEntry], isDeleted: (UInt64) -> Bool) -> [FeedEntry] {
        var byID: [UInt64: FeedEntry] = [:]
        for entry in store where entry.id > self.after && entry.id < self.below { byID[entry.id] = entry }
        for entry in self.memoryBelow where byID[entry.id]?.body == nil || entry.body != nil { byID[entry.id] = entry }
        var result = byID.keys.sorted().filter { !isDeleted($0) }.map { byID[$0]! }
        for entry in self.memoryAbove where result.count < self.count && !isDeleted(entry.id) { result.append(entry) }
        return Array(result.prefix(self.count))
    }
}
