/// Receives the entries of a read in order, as bytes borrowed from the
/// engine, so a reply can be written without copying a string out of the
/// engine or touching its reference count. The server writes RESP with it;
/// tests collect `FeedEntry` values.
public protocol FeedEntryWriter {
    /// Called once, before the entries, with how many will follow.
    mutating func beginEntries(count: Int)
    /// One live post. `author` and `body` are UTF-8 and valid only during the
    /// call; `body` is nil when the body is no longer in memory.
    mutating func entry(id: UInt64, author: UnsafeRawBufferPointer, createdMilliseconds: Int64, body: UnsafeRawBufferPointer?)
    /// A requested post that does not exist (FEED.GET).
    mutating func missingEntry()
}

/// Collects entries as values.
public struct FeedEntryCollector: FeedEntryWriter {
    /// One element per entry; nil for a missing post.
    public var entries: [FeedEntry?] = []

    public init() {}

    public mutating func beginEntries(count: Int) { self.entries.reserveCapacity(count) }

    public mutating func entry(
        id: UInt64, author: UnsafeRawBufferPointer, createdMilliseconds: Int64, body: UnsafeRawBufferPointer?
    ) {
        self.entries.append(
            FeedEntry(
                id: id, author: String(decoding: author, as: UTF8.self), createdMilliseconds: createdMilliseconds,
                body: body.map { String(decoding: $0, as: UTF8.self) }))
    }

    public mutating func missingEntry() { self.entries.append(nil) }
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

/// Where a read must continue in the store: the engine holds each author's
/// recent posts only, and some of these authors have older ones.
public struct StoreContinuation: Sendable, Equatable {
    /// Users (by number) whose older posts may be only in the store.
    public var authors: [UInt32]
    /// Continue strictly below this post id.
    public var before: UInt64
    /// How many more entries the read wants.
    public var count: Int

    public init(authors: [UInt32], before: UInt64, count: Int) {
        self.authors = authors
        self.before = before
        self.count = count
    }
}
