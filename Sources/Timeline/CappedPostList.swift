import CPrefetch
import DequeModule

/// A capped sorted set of post ids: a user's timeline, or an author's recent
/// posts. Ids are kept in ascending order (newest last) in a ring buffer, so
/// the common insert, a new post at the head, is an append, and dropping the
/// oldest id past the cap is O(1). An out-of-order id (a backfilled post) is a
/// binary search and one shift of the shorter side.
///
/// 8 bytes per id plus the ring's spare capacity (it grows by half, so at
/// most 12 bytes per id): a full timeline of 800 costs 6.4-9.6 KB, against
/// about 100 bytes per entry in a Redis sorted set.
///
/// The cap is passed to each mutation rather than stored, which keeps the
/// struct one reference wide; every list of one kind shares one cap.
public struct CappedPostList: Sendable, Equatable {
    private var ids: Deque<UInt64>

    public init() {
        self.ids = Deque()
    }

    /// A list holding `ascending` (oldest first), which must be sorted and unique.
    public init(ascending: some Sequence<UInt64>) {
        self.ids = Deque(ascending)
    }

    public var count: Int { self.ids.count }
    public var isEmpty: Bool { self.ids.isEmpty }
    public var newest: UInt64? { self.ids.last }
    public var oldest: UInt64? { self.ids.first }
    /// Bytes held, estimated: the ids, a quarter more for the ring's average
    /// spare room, and the buffer's header.
    public var estimatedBytes: Int { self.ids.isEmpty ? 0 : self.ids.count * 10 + 32 }

    /// What an insert did.
    public struct Insertion: Equatable, Sendable {
        /// False when the id was already there, or was older than everything in a full list.
        public var inserted: Bool
        /// The oldest id, dropped to stay within the cap.
        public var evicted: UInt64?
    }

    /// Inserts `id`, keeping order and the cap. Inserting an id that is already
    /// present changes nothing, so replaying a fan-out is harmless.
    @discardableResult
    public mutating func insert(_ id: UInt64, cap: Int) -> Insertion {
        guard self.place(id, cap: cap) else { return Insertion(inserted: false, evicted: nil) }
        if self.ids.count > cap {
            return Insertion(inserted: true, evicted: self.ids.removeFirst())
        }
        return Insertion(inserted: true, evicted: nil)
    }

    /// `insert` for a caller that needs only whether the oldest id was
    /// dropped, not which: a fan-out's hundreds of timelines, each full at
    /// its cap. Not reading the dropped id spares a cache miss per timeline
    /// (the ring's oldest slot is far from its newest).
    @inline(__always)
    public mutating func push(_ id: UInt64, cap: Int) -> (inserted: Bool, dropped: Bool) {
        guard self.place(id, cap: cap) else { return (false, false) }
        if self.ids.count > cap {
            self.ids.removeFirst(1)
            return (true, true)
        }
        return (true, false)
    }

    /// Starts loading the ring buffer behind `lists[index]`, a hint with no
    /// effect on results: a loop about to touch many lists (the fan-out)
    /// asks a few ahead so that their cache misses overlap. A list is one
    /// reference wide, so its slot holds the buffer's address (zero for
    /// nil); were it ever wider, this would do nothing.
    @inline(__always)
    static func prefetchBuffer(in lists: UnsafeBufferPointer<CappedPostList?>, at index: Int) {
        guard MemoryLayout<CappedPostList?>.size == MemoryLayout<UInt>.size else { return }
        let address = UnsafeRawPointer(lists.baseAddress! + index).load(as: UInt.self)
        if let buffer = UnsafeRawPointer(bitPattern: address) { feed_prefetch(buffer) }
    }

    /// Puts `id` in order; false when it was there already, or is older
    /// than everything in a full list (it would be dropped at once).
    @inline(__always)
    private mutating func place(_ id: UInt64, cap: Int) -> Bool {
        if let last = self.ids.last, id <= last {
            let position = self.firstIndex(notBelow: id)
            if position < self.ids.count && self.ids[position] == id { return false }
            if self.ids.count >= cap && position == 0 { return false }
            self.ids.insert(id, at: position)
        } else {
            self.ids.append(id)
        }
        return true
    }

    /// Removes `id`; false when it was not there.
    @discardableResult
    public mutating func remove(_ id: UInt64) -> Bool {
        let position = self.firstIndex(notBelow: id)
        guard position < self.ids.count, self.ids[position] == id else { return false }
        self.ids.remove(at: position)
        return true
    }

    /// Removes every id for which `shouldRemove` is true; returns how many.
    @discardableResult
    public mutating func removeAll(where shouldRemove: (UInt64) -> Bool) -> Int {
        let before = self.ids.count
        self.ids.removeAll(where: shouldRemove)
        return before - self.ids.count
    }

    /// Removes every id below `floor`; returns how many.
    @discardableResult
    public mutating func removeAll(below floor: UInt64) -> Int {
        let end = self.firstIndex(notBelow: floor)
        guard end > 0 else { return 0 }
        self.ids.removeFirst(end)
        return end
    }

    /// Removes the oldest id.
    @discardableResult
    public mutating func removeOldest() -> UInt64? { self.ids.popFirst() }

    public func contains(_ id: UInt64) -> Bool {
        let position = self.firstIndex(notBelow: id)
        return position < self.ids.count && self.ids[position] == id
    }

    /// Adds sorted, unique `ascending` ids (a followee's recent posts, on
    /// FOLLOW), keeping the newest `cap` of the union.
    public mutating func merge(ascending incoming: some Collection<UInt64>, cap: Int) {
        guard !incoming.isEmpty else { return }
        if self.ids.isEmpty {
            self.ids = Deque(incoming.suffix(cap))
            return
        }
        var merged: [UInt64] = []
        merged.reserveCapacity(Swift.min(cap, self.ids.count + incoming.count))
        // Merge from the newest end and stop at the cap.
        var mine = self.ids.count - 1
        var theirs = incoming.index(incoming.endIndex, offsetBy: -1)
        var theirsDone = false
        while merged.count < cap && (mine >= 0 || !theirsDone) {
            let next: UInt64
            if theirsDone || (mine >= 0 && self.ids[mine] >= incoming[theirs]) {
                next = self.ids[mine]
                if !theirsDone && self.ids[mine] == incoming[theirs] {
                    if theirs == incoming.startIndex { theirsDone = true } else { incoming.formIndex(&theirs, offsetBy: -1) }
                }
                mine -= 1
            } else {
                next = incoming[theirs]
                if theirs == incoming.startIndex { theirsDone = true } else { incoming.formIndex(&theirs, offsetBy: -1) }
            }
            merged.append(next)
        }
        self.ids = Deque(merged.reversed())
    }

    /// Ids newest first, strictly below `before` when given.
    public func newestFirst(before: UInt64? = nil) -> NewestFirst {
        let end = before.map { self.firstIndex(notBelow: $0) } ?? self.ids.count
        return NewestFirst(ids: self.ids, position: end - 1)
    }

    /// Ids oldest first.
    public var ascending: some Collection<UInt64> { self.ids }

    /// Iterates newest to oldest.
    public struct NewestFirst: IteratorProtocol, Sequence {
        let ids: Deque<UInt64>
        var position: Int

        public mutating func next() -> UInt64? {
            guard self.position >= 0 else { return nil }
            defer { self.position -= 1 }
            return self.ids[self.position]
        }

        /// The id `next()` would return, without consuming it.
        public var peek: UInt64? { self.position >= 0 ? self.ids[self.position] : nil }
    }

    /// The index of the first id >= `id` (ids.count if none).
    private func firstIndex(notBelow id: UInt64) -> Int {
        var low = 0
        var high = self.ids.count
        while low < high {
            let middle = (low + high) / 2
            if self.ids[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low
    }

    public static func == (lhs: CappedPostList, rhs: CappedPostList) -> Bool {
        lhs.ids.elementsEqual(rhs.ids)
    }
}
