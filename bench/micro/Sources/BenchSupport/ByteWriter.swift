import Timeline

/// Copies each entry's bytes into one reused buffer, as the server's reply
/// writer copies them into its output buffer.
public struct ByteWriter: FeedEntryWriter {
    public var bytes: [UInt8] = []

    @inlinable public init() {}

    @inlinable public mutating func beginEntries(count: Int) { self.bytes.append(UInt8(truncatingIfNeeded: count)) }

    @inlinable public mutating func entry(
        id: UInt64, author: UnsafeRawBufferPointer, createdMilliseconds: Int64, body: UnsafeRawBufferPointer?, meta: EntryMeta
    ) {
        withUnsafeBytes(of: id) { self.bytes.append(contentsOf: $0) }
        self.bytes.append(contentsOf: author)
        withUnsafeBytes(of: createdMilliseconds) { self.bytes.append(contentsOf: $0) }
        if let body { self.bytes.append(contentsOf: body) }
    }

    @inlinable public mutating func missingEntry() { self.bytes.append(0) }

    @inlinable public mutating func unresolvedEntry(id: UInt64) { self.bytes.append(1) }
}
