import CPrefetch

/// Post bodies within a byte budget (`--post-cache-mb`), evicting what was
/// least recently used, by the CLOCK approximation of LRU.
///
/// An exact LRU list rewrites three nodes on every hit, and on a cache of
/// 100,000s of bodies each is a cache miss: it cost more than the rest of a
/// read. CLOCK keeps one "referenced" bit per body: a hit sets it, and the
/// eviction hand sweeps the slots, giving each referenced body a second
/// chance (clearing its bit) and evicting the first body not read since the
/// hand last passed. A body read recently survives; one never read again
/// goes first.
///
/// Bodies live in one chunked array of nodes, so the cache is a handful of
/// allocations however many it holds. It has no index of its own: the engine
/// keeps each post's slot in the post's record, so reading a body costs no
/// second hash lookup.
public struct PostBodyCache: Sendable {
    private struct Node: Sendable {
        var id: UInt64
        var body: String
        var live: Bool
        var referenced: Bool
        /// Where the body's bytes are (none for a body of up to 15 bytes,
        /// kept in the string itself), to reach them on a borrowed cache
        /// without retaining the string (`AddressHint`). Exact: a node's
        /// body never changes (a slot reused gets a new node).
        let bytes: AddressHint.Bytes

        init(id: UInt64, body: String, live: Bool, referenced: Bool) {
            self.id = id
            self.body = body
            self.live = live
            self.referenced = referenced
            self.bytes = AddressHint.Bytes(of: body)
        }
    }

    /// A body's place in the cache, kept by its owner until evicted or removed.
    public typealias Slot = Int32

    /// What a body costs besides its bytes: its node, its slot in the post's
    /// record and the string's header.
    public static let overheadPerBody = 64

    public var budgetBytes: Int
    public private(set) var usedBytes = 0
    /// What the cache holds from the allocator: each body's string storage
    /// as malloc sizes it, and every node ever made (the node array, like a
    /// dictionary, never shrinks; freed nodes are reused).
    public var allocatedBytes: Int {
        self.stringBytes + self.nodes.allocatedCount * MemoryLayout<Node>.stride + self.freeSlots.capacity * 4
    }
    private var stringBytes = 0
    public private(set) var count = 0
    public private(set) var hits = 0
    public private(set) var misses = 0
    public private(set) var evictions = 0

    private var nodes = ChunkedArray<Node>()
    private var freeSlots: [Slot] = []
    private var hand = 0

    public init(budgetBytes: Int) {
        self.budgetBytes = budgetBytes
    }

    static func cost(_ body: String) -> Int { body.utf8.count + Self.overheadPerBody }

    /// The heap a body's string takes: none up to 15 bytes (stored in
    /// place); above that its storage header, the bytes and a terminator in
    /// a malloc chunk of 16-byte granules (176 bytes for 110, measured).
    static func allocation(_ body: String) -> Int {
        let count = body.utf8.count
        return count <= 15 ? 0 : (count + 57 + 15) & ~15
    }

    /// Stores `body` for post `id`, then evicts bodies beyond the budget
    /// (never the one just stored, nor a post above `evictableThrough`).
    /// Returns its slot and the ids and slots evicted, whose owners must
    /// forget those slots.
    public mutating func insert(
        _ id: UInt64, body: String, evictableThrough: UInt64 = UInt64.max
    ) -> (slot: Slot, evicted: [(id: UInt64, slot: Slot)]) {
        let node = Node(id: id, body: body, live: true, referenced: false)
        let slot: Slot
        if let free = self.freeSlots.popLast() {
            slot = free
            self.nodes[Int(slot)] = node
        } else {
            slot = Slot(self.nodes.count)
            self.nodes.append(node)
        }
        self.usedBytes += Self.cost(body)
        self.stringBytes += Self.allocation(body)
        self.count += 1
        // A bounded sweep: when most bodies are pinned (the store is away),
        // the cache runs over its budget rather than stall every insert.
        let evicted = self.evict(downTo: self.budgetBytes, evictableThrough: evictableThrough, sparing: slot, maxSteps: 4096)
        return (slot, evicted)
    }

    /// Evicts bodies, least recently used first, until at most `bytes` are
    /// held or nothing more may go; never `sparing`, nor a post above
    /// `evictableThrough`. Returns the ids and slots evicted.
    public mutating func evict(
        downTo bytes: Int, evictableThrough: UInt64 = UInt64.max, sparing: Slot = -1, maxSteps: Int = Int.max
    ) -> [(id: UInt64, slot: Slot)] {
        var evicted: [(id: UInt64, slot: Slot)] = []
        // Two sweeps give every referenced body its second chance; past that
        // the rest is pinned.
        var steps = Swift.min(maxSteps, 2 * self.nodes.count + 1)
        while self.usedBytes > bytes && self.count > 0 && steps > 0 {
            steps -= 1
            if self.hand >= self.nodes.count { self.hand = 0 }
            let candidate = self.hand
            self.hand += 1
            guard self.nodes[candidate].live, candidate != Int(sparing), self.nodes[candidate].id <= evictableThrough
            else { continue }
            if self.nodes[candidate].referenced {
                self.nodes[candidate].referenced = false  // a second chance
                continue
            }
            evicted.append((self.nodes[candidate].id, Slot(candidate)))
            self.remove(Slot(candidate))
            self.evictions += 1
        }
        return evicted
    }

    /// The body in `slot`, for a read on a borrowed cache: the hit and the
    /// slot's bit go to `notes` (`markReferenced`). In place, the bytes are
    /// neither copied nor retained (an atomic per entry); they stay valid
    /// while the cache is borrowed.
    func bytes(at slot: Slot, notes: inout ReadNotes) -> BorrowedBytes {
        notes.counters.bodyHits += 1
        return self.nodes.withElement(Int(slot)) { node in
            if !node.pointee.referenced { notes.bodiesReferenced.append(slot) }
            if let buffer = node.pointee.bytes.buffer { return .inPlace(buffer) }
            return .small(node.pointee.body)
        }
    }

    /// What reads on a borrowed cache noted: their hits and misses, and the
    /// slots to mark recently used (each still holds the body it showed:
    /// notes are applied before anything frees a slot).
    mutating func markReferenced(_ slots: [Slot], hits: Int, misses: Int) {
        for slot in slots { self.nodes[Int(slot)].referenced = true }
        self.hits += hits
        self.misses += misses
    }

    /// Starts loading the slot itself, where the body's address is (a hint).
    func prefetchSlot(_ slot: Slot) {
        self.nodes.prefetch(Int(slot))
    }

    /// Starts loading the bytes of the body in `slot` (a hint: no recency,
    /// no counters). From the node's hint: reaching the bytes through the
    /// string would retain it first, a write that waits for the very cache
    /// miss this is to hide.
    func prefetch(_ slot: Slot) {
        self.nodes.withElement(Int(slot)) { node in node.pointee.bytes.prefetch() }
    }

    /// The body in `slot`, marked recently used (a hit).
    public mutating func body(at slot: Slot) -> String {
        self.markRead(slot)
        return self.nodes[Int(slot)].body
    }

    private mutating func markRead(_ slot: Slot) {
        self.hits += 1
        self.nodes[Int(slot)].referenced = true
    }

    /// The body in `slot` without touching recency or counters.
    public func peek(_ slot: Slot) -> String { self.nodes[Int(slot)].body }

    /// Frees `slot`; its owner must forget it.
    public mutating func remove(_ slot: Slot) {
        self.usedBytes -= Self.cost(self.nodes[Int(slot)].body)
        self.stringBytes -= Self.allocation(self.nodes[Int(slot)].body)
        self.nodes[Int(slot)] = Node(id: 0, body: "", live: false, referenced: false)
        self.freeSlots.append(slot)
        self.count -= 1
    }
}
