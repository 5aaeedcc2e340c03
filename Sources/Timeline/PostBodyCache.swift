/// Post bodies, least recently used evicted first, within a byte budget
/// (`--post-cache-mb`).
///
/// Nodes live in one array and link to each other by index, so the cache is
/// a handful of allocations however many bodies it holds, and a hit is a
/// dictionary lookup plus relinking two indexes.
public struct PostBodyCache: Sendable {
    private struct Node: Sendable {
        var id: UInt64
        var body: String
        var previous: Int32  // towards the most recently used end
        var next: Int32  // towards the least recently used end
    }

    /// What a body costs besides its bytes: its node, its index entry and the
    /// string's header.
    public static let overheadPerBody = 96

    public var budgetBytes: Int
    public private(set) var usedBytes = 0
    public private(set) var hits = 0
    public private(set) var misses = 0
    public private(set) var evictions = 0

    private var nodes: ContiguousArray<Node> = []
    private var freeSlots: [Int32] = []
    private var slots: [UInt64: Int32] = [:]
    private var mostRecent: Int32 = -1
    private var leastRecent: Int32 = -1

    public init(budgetBytes: Int) {
        self.budgetBytes = budgetBytes
    }

    public var count: Int { self.slots.count }

    static func cost(_ body: String) -> Int { body.utf8.count + Self.overheadPerBody }

    /// Stores `body` as the most recently used, evicting the least recently
    /// used bodies beyond the budget. Returns the ids evicted.
    @discardableResult
    public mutating func insert(_ id: UInt64, body: String) -> [UInt64] {
        if let slot = self.slots[id] {
            self.usedBytes += Self.cost(body) - Self.cost(self.nodes[Int(slot)].body)
            self.nodes[Int(slot)].body = body
            self.touch(slot)
        } else {
            let node = Node(id: id, body: body, previous: -1, next: self.mostRecent)
            let slot: Int32
            if let free = self.freeSlots.popLast() {
                slot = free
                self.nodes[Int(slot)] = node
            } else {
                slot = Int32(self.nodes.count)
                self.nodes.append(node)
            }
            if self.mostRecent >= 0 { self.nodes[Int(self.mostRecent)].previous = slot }
            self.mostRecent = slot
            if self.leastRecent < 0 { self.leastRecent = slot }
            self.slots[id] = slot
            self.usedBytes += Self.cost(body)
        }
        var evicted: [UInt64] = []
        // Never evict what was just stored: a single body is always kept.
        while self.usedBytes > self.budgetBytes && self.leastRecent >= 0 && self.leastRecent != self.mostRecent {
            let victim = self.nodes[Int(self.leastRecent)].id
            self.remove(victim)
            self.evictions += 1
            evicted.append(victim)
        }
        return evicted
    }

    /// The body, marked most recently used; counts a hit or a miss.
    public mutating func body(_ id: UInt64) -> String? {
        guard let slot = self.slots[id] else {
            self.misses += 1
            return nil
        }
        self.hits += 1
        self.touch(slot)
        return self.nodes[Int(slot)].body
    }

    /// The body without touching recency or counters.
    public func peek(_ id: UInt64) -> String? {
        self.slots[id].map { self.nodes[Int($0)].body }
    }

    public func contains(_ id: UInt64) -> Bool { self.slots[id] != nil }

    @discardableResult
    public mutating func remove(_ id: UInt64) -> Bool {
        guard let slot = self.slots.removeValue(forKey: id) else { return false }
        self.unlink(slot)
        self.usedBytes -= Self.cost(self.nodes[Int(slot)].body)
        self.nodes[Int(slot)].body = ""
        self.freeSlots.append(slot)
        return true
    }

    private mutating func touch(_ slot: Int32) {
        guard slot != self.mostRecent else { return }
        self.unlink(slot)
        self.nodes[Int(slot)].previous = -1
        self.nodes[Int(slot)].next = self.mostRecent
        if self.mostRecent >= 0 { self.nodes[Int(self.mostRecent)].previous = slot }
        self.mostRecent = slot
        if self.leastRecent < 0 { self.leastRecent = slot }
    }

    private mutating func unlink(_ slot: Int32) {
        let node = self.nodes[Int(slot)]
        if node.previous >= 0 { self.nodes[Int(node.previous)].next = node.next } else { self.mostRecent = node.next }
        if node.next >= 0 { self.nodes[Int(node.next)].previous = node.previous } else { self.leastRecent = node.previous }
    }
}
