import CPrefetch

/// Posts by id, in 64 open-addressing tables rather than one dictionary.
///
/// A table grows by reallocating and rehashing all of itself at once; with
/// one table of posts that happened under the engine lock at 786,432 posts
/// and stalled every client for about 50 ms (seen in SLOWLOG at 10,000
/// posts/s). Split by a hash of the id, each growth moves 1/64 of the
/// posts: the same work in total, in pieces short enough to hide among
/// ordinary requests.
///
/// Each shard keeps an id and its value side by side (`IDTable`), so a
/// lookup usually costs one cache miss where a Swift dictionary costs
/// three (its occupancy bitmap, keys and values are separate arrays) plus
/// a SipHash of the id. Reads look up every entry they show and ranked
/// reads every candidate, so this is most of their time
/// (bench/results/hot-paths.md).
struct PostIndex<Value: Sendable>: Sendable {
    private var shards: [IDTable<Value>]

    init() {
        self.shards = Array(repeating: IDTable(), count: 1 << IDTable<Value>.callerBits)
    }

    /// The top bits of the id's mix pick the shard (the shard uses the bits below).
    @inline(__always)
    private static func shard(_ id: UInt64) -> Int {
        Int(truncatingIfNeeded: IDTable<Value>.mix(id) >> UInt64(64 - IDTable<Value>.callerBits))
    }

    /// The value for `id`; changes in place (setting nil removes it).
    subscript(id: UInt64) -> Value? {
        get { self.shards[Self.shard(id)][id] }
        _modify { yield &self.shards[Self.shard(id)][id] }
    }

    /// Starts loading the buckets where lookups of `ids` begin, so that
    /// they wait on memory together rather than one by one.
    ///
    /// The shards are reached through one borrow of their storage, without
    /// a retain and release per id (atomic writes to a shard's header,
    /// whose cache line then moved between the event loops' cores;
    /// bench/results/hot-paths.md).
    func prefetch(_ ids: some Sequence<UInt64>) {
        self.shards.withUnsafeBufferPointer { shards in
            for id in ids { IDTable.prefetch(id, in: shards.baseAddress! + Self.shard(id)) }
        }
    }

    /// Adds (or replaces) the value for `id`.
    mutating func insert(_ value: Value, for id: UInt64) {
        self.shards[Self.shard(id)][id] = value
    }

    @discardableResult
    mutating func removeValue(forKey id: UInt64) -> Value? {
        self.shards[Self.shard(id)].removeValue(forKey: id)
    }

    var count: Int { self.shards.reduce(0) { $0 + $1.count } }

    /// Bytes the shards' storage takes: every bucket holds an id and a value.
    var allocatedBytes: Int { self.capacity * IDTable<Value>.bucketStride }

    /// Buckets the shards hold (a table never shrinks), for the memory reckoning.
    var capacity: Int { self.shards.reduce(0) { $0 + $1.capacity } }
}

/// An open-addressing hash table from id to value: linear probing over
/// buckets that hold the id and the value together, at most 3/4 full,
/// deletion by shifting the rest of a run back (no tombstones).
///
/// Fibonacci hashing: the id's sequence and time bits both reach the top
/// bits of `mix`, so ids made in the same millisecond spread out. The top
/// `callerBits` are left to the caller (PostIndex picks its shard with
/// them); the bits below pick the home bucket.
struct IDTable<Value: Sendable>: Sendable {
    private typealias Bucket = (id: UInt64, value: Value?)
    private var buckets: ContiguousArray<Bucket> = []
    /// Where `buckets`' elements were when last allocated, to prefetch
    /// without retaining them (stale only in a copy that has since copied
    /// its buckets on write: a useless prefetch then, never a wrong lookup).
    private var bucketsAt = AddressHint()
    private(set) var count = 0
    /// log2 of the bucket count (0 while empty).
    private var bits = 0

    static var bucketStride: Int { MemoryLayout<Bucket>.stride }
    var capacity: Int { self.buckets.count }

    static var callerBits: Int { 6 }

    @inline(__always)
    static func mix(_ id: UInt64) -> UInt64 { id &* 0x9E37_79B9_7F4A_7C15 }

    @inline(__always)
    private func home(_ id: UInt64) -> Int { Self.home(id, bits: self.bits) }

    @inline(__always)
    private static func home(_ id: UInt64, bits: Int) -> Int {
        Int(truncatingIfNeeded: (Self.mix(id) << UInt64(Self.callerBits)) >> UInt64(64 - bits))
    }

    /// Where `id` is, or the empty bucket that ends its run.
    @inline(__always)
    private func find(_ id: UInt64) -> (index: Int, found: Bool) {
        let mask = self.buckets.count - 1
        var index = self.home(id)
        while true {
            let bucket = self.buckets[index]
            if bucket.value == nil { return (index, false) }
            if bucket.id == id { return (index, true) }
            index = (index + 1) & mask
        }
    }

    /// The home bucket and the next (a run often goes on; a bucket may
    /// straddle two cache lines). Through a pointer, reading only the
    /// table's plain fields: a method call on the table itself copies it,
    /// retaining its buckets.
    @inline(__always)
    static func prefetch(_ id: UInt64, in table: UnsafePointer<Self>) {
        guard table.pointee.count > 0 else { return }
        let bits = table.pointee.bits
        let index = Self.home(id, bits: bits)
        let next = (index + 1) & ((1 << bits) - 1)
        table.pointee.bucketsAt.prefetch(element: index, of: Bucket.self)
        table.pointee.bucketsAt.prefetch(element: next, of: Bucket.self)
    }

    @inline(__always)
    func value(for id: UInt64) -> Value? {
        guard self.count > 0 else { return nil }
        let (index, found) = self.find(id)
        return found ? self.buckets[index].value : nil
    }

    /// The value for `id` (nil when absent); setting nil removes it.
    subscript(id: UInt64) -> Value? {
        get { self.value(for: id) }
        _modify {
            if self.count > 0 {
                let (index, found) = self.find(id)
                if found {
                    yield &self.buckets[index].value
                    if self.buckets[index].value == nil {
                        self.count -= 1
                        self.closeGap(at: index)
                    }
                    return
                }
            }
            var added: Value? = nil
            yield &added
            if let added { self.add(added, for: id) }
        }
    }

    @discardableResult
    mutating func removeValue(forKey id: UInt64) -> Value? {
        guard self.count > 0 else { return nil }
        let (index, found) = self.find(id)
        guard found, let value = self.buckets[index].value else { return nil }
        self.buckets[index].value = nil
        self.count -= 1
        self.closeGap(at: index)
        return value
    }

    /// `id` is absent: puts it in, growing first if that would pass 3/4 full.
    private mutating func add(_ value: Value, for id: UInt64) {
        if (self.count + 1) * 4 > self.buckets.count * 3 { self.grow() }
        let (index, _) = self.find(id)
        self.buckets[index] = (id, value)
        self.count += 1
    }

    private mutating func grow() {
        let old = self.buckets
        self.bits = Swift.max(self.bits + 1, 4)
        self.buckets = ContiguousArray(repeating: (0, nil), count: 1 << self.bits)
        self.bucketsAt = self.buckets.withUnsafeMutableBufferPointer { AddressHint(UnsafeRawPointer($0.baseAddress)) }
        let mask = self.buckets.count - 1
        for bucket in old where bucket.value != nil {
            var index = self.home(bucket.id)
            while self.buckets[index].value != nil { index = (index + 1) & mask }
            self.buckets[index] = bucket
        }
    }

    /// The bucket at `gap` was just emptied: moves back every later entry of
    /// its run that may live there, so each run stays unbroken.
    private mutating func closeGap(at gap: Int) {
        let mask = self.buckets.count - 1
        var gap = gap
        var index = gap
        while true {
            index = (index + 1) & mask
            guard self.buckets[index].value != nil else { return }
            let home = self.home(self.buckets[index].id)
            // Stays when its home is cyclically in (gap, index].
            let stays = gap <= index ? (gap < home && home <= index) : (gap < home || home <= index)
            if stays { continue }
            self.buckets[gap] = self.buckets[index]
            self.buckets[index].value = nil
            gap = index
        }
    }
}
