import CPrefetch

/// An append-only array kept in chunks of at most 64K elements, so growing
/// it never copies more than one chunk: the body cache's nodes live here;
/// as one array, crossing 2²⁰ nodes copied 32 MB under the engine lock (a
/// 17–25 ms stall at 10,000 posts/s). Each chunk grows as an array does
/// (a small cache holds small chunks), so a growth copies at most 2 MB.
struct ChunkedArray<Element: Sendable>: Sendable {
    private static var chunkBits: Int { 16 }
    private static var chunkSize: Int { 1 << Self.chunkBits }
    private var chunks: [ContiguousArray<Element>] = []
    /// Where each chunk's elements are, so that a borrowed array reaches an
    /// element without retaining its chunk (`AddressHint`). Exact: set
    /// after every change to a chunk (the only ways its storage moves: a
    /// growth, a copy on write), and a chunk's storage stays where it is
    /// while nothing changes it.
    private var chunkStarts: [AddressHint] = []
    private(set) var count = 0
    /// Elements the chunks hold room for.
    private(set) var allocatedCount = 0

    subscript(index: Int) -> Element {
        get { self.chunks[index >> Self.chunkBits][index & (Self.chunkSize - 1)] }
        _modify {
            yield &self.chunks[index >> Self.chunkBits][index & (Self.chunkSize - 1)]
            self.noteStart(of: index >> Self.chunkBits)
        }
    }

    /// Keeps `chunkStarts[chunk]` exact after a change to the chunk.
    @inline(__always)
    private mutating func noteStart(of chunk: Int) {
        self.chunkStarts[chunk] = self.chunks[chunk].withUnsafeMutableBufferPointer { AddressHint(UnsafeRawPointer($0.baseAddress)) }
    }

    /// Starts loading the element at `index` (a hint).
    @inline(__always)
    func prefetch(_ index: Int) {
        self.chunkStarts.withUnsafeBufferPointer { starts in
            starts[index >> Self.chunkBits].prefetch(element: index & (Self.chunkSize - 1), of: Element.self)
        }
    }

    /// Calls `body` with the element at `index` (which exists) in place:
    /// borrowed, with no copy of it and no retain of its chunk.
    @inline(__always)
    func withElement<Result>(_ index: Int, _ body: (UnsafePointer<Element>) -> Result) -> Result {
        precondition(index >= 0 && index < self.count, "index out of range")
        return self.chunkStarts.withUnsafeBufferPointer { starts in
            let start = starts[index >> Self.chunkBits].address!.assumingMemoryBound(to: Element.self)
            return body(start + (index & (Self.chunkSize - 1)))
        }
    }

    mutating func append(_ element: Element) {
        if self.count & (Self.chunkSize - 1) == 0 {
            self.chunks.append([])
            self.chunkStarts.append(AddressHint())
        }
        let last = self.chunks.count - 1
        let before = self.chunks[last].capacity
        if before == self.chunks[last].count {
            // Grow as an array would, but never past a chunk.
            self.chunks[last].reserveCapacity(Swift.min(Self.chunkSize, Swift.max(16, before * 2)))
        }
        self.chunks[last].append(element)
        self.noteStart(of: last)
        self.allocatedCount += self.chunks[last].capacity - before
        self.count += 1
    }
}
