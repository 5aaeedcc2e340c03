/// FEED.READ … AFTER: the entries newer than an id, oldest first — what a
/// client that lost its connection missed. It is the same feed as FEED.READ
/// (filters and collapsed reposts included), walked down in pages from the
/// newest entry to the id.
extension FeedEngine {
    /// Up to `count` entries of the user's feed newer than `after`, oldest
    /// first, from memory; nil when the store must help (a page went below
    /// what memory holds, or memory lost a post's record or body). Without
    /// a store, memory's answer is all there is.
    public mutating func readAfter(user name: String, after: UInt64, count: Int, now: Int64) -> [FeedEntry]? {
        var needsStore = false
        let entries = FeedPaging.newer(than: after, count: count) { before, size in
            guard !needsStore else { return [] }
            var collector = FeedEntryCollector()
            let continuation = self.read(user: name, count: size, before: before, now: now, into: &collector)
            if self.hasStore
                && (continuation != nil || !collector.unresolved.isEmpty || collector.entries.contains(where: { $0?.body == nil }))
            {
                needsStore = true
                return []
            }
            return collector.entries.compactMap { $0 }
        }
        return needsStore ? nil : entries
    }

    /// One entry from its record (posts in recent lists always have one).
    mutating func writeEntry<Writer: FeedEntryWriter>(_ id: UInt64, into writer: inout Writer) {
        guard let entry = self.entryValue(id) else { return writer.unresolvedEntry(id: id) }
        entry.author.withUTF8Bytes { author in
            if let body = entry.body {
                body.withUTF8Bytes {
                    writer.entry(id: id, author: author, createdMilliseconds: entry.createdMilliseconds, body: $0, meta: entry.meta)
                }
            } else {
                writer.entry(id: id, author: author, createdMilliseconds: entry.createdMilliseconds, body: nil, meta: entry.meta)
            }
        }
    }

    /// A post memory has a record of, as a value.
    func entryValue(_ id: UInt64) -> FeedEntry? {
        guard let record = self.posts[id] else { return nil }
        return self.entry(id, record)
    }
}

/// Walking a feed down from its newest entry to an id, page by page.
public enum FeedPaging {
    /// Entries per page when walking down.
    public static let pageSize = 100

    /// The `count` oldest entries newer than `after`, oldest first, from
    /// pages read newest first with `page(before, size)`.
    public static func newer(
        than after: UInt64, count: Int, page: (UInt64?, Int) throws -> [FeedEntry]
    ) rethrows -> [FeedEntry] {
        var walk = Walk(after: after, count: count)
        while let before = walk.next { walk.add(try page(before, Self.pageSize)) }
        return walk.result
    }

    /// A walk down to `after`, page by page (the server's pages are async).
    public struct Walk: Sendable {
        let after: UInt64
        let count: Int
        /// Newest first; only the oldest `count` matter.
        var kept: [FeedEntry] = []
        /// Where the next page starts: `.some(nil)` from the newest, nil when done.
        public private(set) var next: UInt64?? = .some(nil)

        public init(after: UInt64, count: Int) {
            self.after = after
            self.count = count
        }

        public mutating func add(_ entries: [FeedEntry]) {
            for entry in entries where entry.id > self.after { self.kept.append(entry) }
            if self.kept.count > self.count { self.kept.removeFirst(self.kept.count - self.count) }
            if entries.count == FeedPaging.pageSize, let last = entries.last, last.id > self.after {
                self.next = .some(last.id)
            } else {
                self.next = nil
            }
        }

        public var result: [FeedEntry] { self.kept.reversed() }
    }
}
