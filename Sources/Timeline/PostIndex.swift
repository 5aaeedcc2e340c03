/// Posts by id, in 64 dictionaries rather than one.
///
/// A Swift dictionary grows by reallocating and rehashing all of itself at
/// once; with one dictionary of posts that happened under the engine lock
/// at 786,432 posts (2²⁰ buckets at 0.75 load) and stalled every client for
/// about 50 ms (seen in SLOWLOG at 10,000 posts/s). Split by a hash of the
/// id, each growth moves 1/64 of the posts: the same work in total, in
/// pieces short enough to hide among ordinary requests.
struct PostIndex<Value: Sendable>: Sendable {
    private static var shardBits: UInt64 { 6 }
    private var shards: [[UInt64: Value]]

    init() {
        self.shards = Array(repeating: [:], count: 1 << Int(Self.shardBits))
    }

    /// Fibonacci hashing: the id's sequence and time bits both reach the top
    /// bits, so ids made in the same millisecond spread over the shards.
    @inline(__always)
    private static func shard(_ id: UInt64) -> Int {
        Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> (64 - Self.shardBits))
    }

    /// Buckets the shards hold room for, kept as they grow (a dictionary
    /// never shrinks), for the memory reckoning.
    private(set) var capacity = 0

    /// The value for `id`; changes in place. New entries go through `insert`.
    subscript(id: UInt64) -> Value? {
        get { self.shards[Self.shard(id)][id] }
        _modify { yield &self.shards[Self.shard(id)][id] }
    }

    /// Adds (or replaces) the value for `id`.
    mutating func insert(_ value: Value, for id: UInt64) {
        let shard = Self.shard(id)
        let before = self.shards[shard].capacity
        self.shards[shard][id] = value
        self.capacity += self.shards[shard].capacity - before
    }

    @discardableResult
    mutating func removeValue(forKey id: UInt64) -> Value? {
        self.shards[Self.shard(id)].removeValue(forKey: id)
    }

    var count: Int { self.shards.reduce(0) { $0 + $1.count } }

    /// Bytes the shards' storage takes: a Swift dictionary's capacity is
    /// three quarters of its buckets, and each bucket holds a key, a value
    /// and a bit of metadata.
    var allocatedBytes: Int { self.capacity * 4 / 3 * (MemoryLayout<UInt64>.stride + MemoryLayout<Value>.stride + 1) }
}
