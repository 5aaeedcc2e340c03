/// The users one user follows, or is followed by, as dense user numbers.
///
/// Kept sorted, so fan-out walks contiguous memory, paging (`AFTER`) is a
/// binary search, and two users' sets can be compared cheaply. Membership is
/// O(1): small sets (up to `hashThreshold`) are scanned within a cache line
/// or two, larger ones carry a hash set beside the array. 4 bytes per edge,
/// plus about 8 for large sets.
public struct FollowSet: Sendable, Equatable {
    /// Sizes above this keep a hash index for membership.
    public static let hashThreshold = 32

    public private(set) var sorted: ContiguousArray<UInt32> = []
    private var index: Set<UInt32>? = nil

    public init() {}

    /// A set of `members`, which must be sorted and unique.
    public init(sorted members: some Collection<UInt32>) {
        self.sorted = ContiguousArray(members)
        if self.sorted.count > Self.hashThreshold { self.index = Set(self.sorted) }
    }

    public var count: Int { self.sorted.count }
    public var isEmpty: Bool { self.sorted.isEmpty }

    public func contains(_ user: UInt32) -> Bool {
        if let index = self.index { return index.contains(user) }
        return self.sorted.contains(user)
    }

    /// Adds `user`; false when already present.
    @discardableResult
    public mutating func insert(_ user: UInt32) -> Bool {
        if self.contains(user) { return false }
        if let last = self.sorted.last, user < last {
            self.sorted.insert(user, at: self.position(of: user))
        } else {
            self.sorted.append(user)
        }
        if self.index != nil {
            self.index!.insert(user)
        } else if self.sorted.count > Self.hashThreshold {
            self.index = Set(self.sorted)
        }
        return true
    }

    /// Removes `user`; false when absent.
    @discardableResult
    public mutating func remove(_ user: UInt32) -> Bool {
        guard self.contains(user) else { return false }
        self.sorted.remove(at: self.position(of: user))
        if self.index != nil {
            if self.sorted.count <= Self.hashThreshold / 2 {
                self.index = nil
            } else {
                self.index!.remove(user)
            }
        }
        return true
    }

    /// Up to `count` members greater than `after` (all members when nil), ascending.
    public func page(after: UInt32?, count: Int) -> ArraySlice<UInt32> {
        let start: Int
        if let after {
            start = after == UInt32.max ? self.sorted.count : self.position(of: after + 1)
        } else {
            start = 0
        }
        return self.sorted[start..<Swift.min(self.sorted.count, start + count)]
    }

    /// The heap the set takes: the array's allocation (with its spare
    /// room) and the hash index's.
    public var estimatedBytes: Int {
        (self.sorted.capacity == 0 ? 0 : self.sorted.capacity * 4 + 48) + (self.index.map { $0.capacity * 6 + 64 } ?? 0)
    }

    /// The index of the first member >= `user`.
    private func position(of user: UInt32) -> Int {
        var low = 0
        var high = self.sorted.count
        while low < high {
            let middle = (low + high) / 2
            if self.sorted[middle] < user { low = middle + 1 } else { high = middle }
        }
        return low
    }

    public static func == (lhs: FollowSet, rhs: FollowSet) -> Bool { lhs.sorted == rhs.sorted }
}
