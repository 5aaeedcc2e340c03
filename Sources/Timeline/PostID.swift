/// Post ids in the Snowflake layout: 41 bits of milliseconds since
/// `PostID.epochMilliseconds`, 10 bits of node id, 12 bits of sequence. The
/// top bit stays 0, so an id is a positive Int64 for every client.
///
/// Because the timestamp is in the high bits, id order is time order and an
/// id is its own score: timelines sort by it and need nothing else.
public enum PostID {
    /// 2024-01-01T00:00:00Z. 41 bits of milliseconds last until 2093.
    public static let epochMilliseconds: Int64 = 1_704_067_200_000
    public static let nodeBits = 10
    public static let sequenceBits = 12
    public static let maxNode = (1 << nodeBits) - 1
    static let sequenceMask: UInt64 = (1 << UInt64(sequenceBits)) - 1

    /// When the post with this id was created, in milliseconds since the Unix epoch.
    @inlinable
    public static func createdMilliseconds(_ id: UInt64) -> Int64 {
        Int64(id >> UInt64(nodeBits + sequenceBits)) + epochMilliseconds
    }

    /// The smallest id that could have been made at `milliseconds` (for time-based paging).
    public static func lowest(atMilliseconds milliseconds: Int64) -> UInt64 {
        UInt64(Swift.max(0, milliseconds - epochMilliseconds)) << UInt64(nodeBits + sequenceBits)
    }

    /// The largest id a client may send: a positive Int64.
    public static let max: UInt64 = UInt64(Int64.max)
}

/// Makes unique, increasing post ids for one node.
///
/// The clock is passed in with each call. If it goes backwards, or more than
/// 4,096 posts arrive in one millisecond, ids keep increasing by borrowing
/// from the next millisecond, so they are unique however fast posts come.
public struct PostIDGenerator: Sendable {
    public let node: UInt64
    private var lastMilliseconds: Int64 = 0
    private var sequence: UInt64 = 0

    public init(node: Int) {
        precondition((0...PostID.maxNode).contains(node), "node id must be 0...\(PostID.maxNode)")
        self.node = UInt64(node)
    }

    /// The next id for a post made at `now` (milliseconds since the Unix epoch).
    public mutating func next(now: Int64) -> UInt64 {
        let milliseconds = Swift.max(now - PostID.epochMilliseconds, 0)
        if milliseconds > self.lastMilliseconds {
            self.lastMilliseconds = milliseconds
            self.sequence = 0
        } else {
            self.sequence += 1
            if self.sequence > PostID.sequenceMask {
                self.lastMilliseconds += 1
                self.sequence = 0
            }
        }
        let id =
            UInt64(self.lastMilliseconds) << UInt64(PostID.nodeBits + PostID.sequenceBits)
            | self.node << UInt64(PostID.sequenceBits) | self.sequence
        self.latest = Swift.max(self.latest, id)
        return id
    }

    /// The highest id made (or advanced past) so far: every later id is above it.
    public private(set) var latest: UInt64 = 0

    /// Ensures later ids are above `id` (after loading existing posts at start-up).
    public mutating func advance(past id: UInt64) {
        self.latest = Swift.max(self.latest, id)
        let milliseconds = Int64(id >> UInt64(PostID.nodeBits + PostID.sequenceBits))
        if milliseconds > self.lastMilliseconds || (milliseconds == self.lastMilliseconds && id & PostID.sequenceMask >= self.sequence) {
            self.lastMilliseconds = milliseconds
            self.sequence = id & PostID.sequenceMask
        }
    }
}
