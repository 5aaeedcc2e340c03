/// Receives the entries of a read in order, as bytes borrowed from the
/// engine, so a reply can be written without copying a string out of the
/// engine or touching its reference count. The server writes RESP with it;
/// tests collect `FeedEntry` values.
public protocol FeedEntryWriter {
    /// Called once, before the entries, with how many will follow.
    mutating func beginEntries(count: Int)
    /// One live post. `author` and `body` are UTF-8 and valid only during the
    /// call; `body` is nil when the body is no longer in memory (for a
    /// repost: its original's). `meta` says what it replies to or reposts.
    mutating func entry(
        id: UInt64, author: UnsafeRawBufferPointer, createdMilliseconds: Int64, body: UnsafeRawBufferPointer?,
        meta: EntryMeta)
    /// A requested post that does not exist (FEED.GET).
    mutating func missingEntry()
    /// A post memory no longer describes (its record was evicted, or FEED.GET
    /// asked for one memory does not know): only the store can fill it in.
    mutating func unresolvedEntry(id: UInt64)
    /// Whether `entry`'s `meta` is read for a plain post; when not, the
    /// engine passes an empty one (a repost's or reply's is always made).
    var wantsMeta: Bool { get }
}

extension FeedEntryWriter {
    public var wantsMeta: Bool { true }
}

/// Collects entries as values.
public struct FeedEntryCollector: FeedEntryWriter {
    /// One element per entry; nil for a missing post.
    public var entries: [FeedEntry?] = []
    /// Positions in `entries` (nil there) of posts only the store can fill in, with their ids.
    public var unresolved: [(index: Int, id: UInt64)] = []

    public init() {}

    public mutating func beginEntries(count: Int) { self.entries.reserveCapacity(count) }

    public mutating func entry(
        id: UInt64, author: UnsafeRawBufferPointer, createdMilliseconds: Int64, body: UnsafeRawBufferPointer?,
        meta: EntryMeta
    ) {
        self.entries.append(
            FeedEntry(
                id: id, author: String(decoding: author, as: UTF8.self), createdMilliseconds: createdMilliseconds,
                body: body.map { String(decoding: $0, as: UTF8.self) }, meta: meta))
    }

    public mutating func missingEntry() { self.entries.append(nil) }

    public mutating func unresolvedEntry(id: UInt64) {
        self.unresolved.append((self.entries.count, id))
        self.entries.append(nil)
    }
}

extension String {
    /// Calls `body` with the string's UTF-8 bytes in place when it is stored
    /// contiguously (every string the engine keeps), else with a copy.
    @inlinable
    func withUTF8Bytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        if let result = self.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(self.utf8).withUnsafeBytes(body)
    }
}

/// Where a read must continue in the store: memory holds every author's
/// newest posts only, and some of these authors have older ones.
public struct StoreContinuation: Sendable, Equatable {
    /// Users (by number) whose posts below `before` may be only in the store.
    public var authors: [UInt32]
    /// Continue strictly below this post id.
    public var before: UInt64
    /// How many more entries the read wants.
    public var count: Int
    /// The posts memory holds below `before` for the read's authors, newest
    /// first (at most `count`): the store may not have them all yet.
    public var memory: [FeedEntry]
    /// How many rows to ask the store for: `count`, plus one for each post
    /// deleted lately below `before`, which the store may still return.
    public var storeLimit: Int
    /// FEED.REPLIES: the replies to this post rather than posts by `authors`.
    public var replyTo: UInt64?

    public init(
        authors: [UInt32], before: UInt64, count: Int, memory: [FeedEntry] = [], storeLimit: Int? = nil, replyTo: UInt64? = nil
    ) {
        self.authors = authors
        self.before = before
        self.count = count
        self.memory = memory
        self.storeLimit = storeLimit ?? count
        self.replyTo = replyTo
    }

    /// The read's remaining entries: the store's posts and memory's, newest
    /// first, each once, without those deleted meanwhile.
    public func merged(store: [FeedEntry], isDeleted: (UInt64) -> Bool) -> [FeedEntry] {
        var result: [FeedEntry] = []
        result.reserveCapacity(self.count)
        var mine = self.memory.makeIterator()
        var theirs = store.makeIterator()
        var nextMine = mine.next()
        var nextTheirs = theirs.next()
        while result.count < self.count {
            let entry: FeedEntry
            switch (nextMine, nextTheirs) {
            case (nil, nil): return result
            case (let a?, nil):
                entry = a
                nextMine = mine.next()
            case (nil, let b?):
                entry = b
                nextTheirs = theirs.next()
            case (let a?, let b?):
                if a.id >= b.id {
                    entry = a.body == nil && a.id == b.id ? a.completed(with: b) : a
                    if a.id == b.id { nextTheirs = theirs.next() }
                    nextMine = mine.next()
                } else {
                    entry = b
                    nextTheirs = theirs.next()
                }
            }
            // A repost whose original went (the store may not have the cascade yet) goes too.
            if result.last?.id != entry.id && !isDeleted(entry.id) && !(entry.meta.kind == .repost && isDeleted(entry.meta.link)) {
                result.append(entry)
            }
        }
        return result
    }
}
