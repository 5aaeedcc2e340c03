import DequeModule
import NIOCore
import RESP

/// Sends a list of commands, counting error replies: graph loading. A
/// command refused with TRYAGAIN (a durable server's journal is full while
/// PostgreSQL catches up) is sent again, as a client would.
struct CommandListScript: ConnectionScript {
    let commands: [[String]]
    var position = 0
    var errors = 0
    var firstError: String?
    /// The commands in flight, oldest first, by index.
    var sent = Deque<Int>()
    /// Commands to send again.
    var again: [Int] = []

    init(_ commands: [[String]]) { self.commands = commands }

    mutating func next(into buffer: inout ByteBuffer) -> Bool {
        let index: Int
        if let retry = self.again.popLast() {
            index = retry
        } else if self.position < self.commands.count {
            index = self.position
            self.position += 1
        } else {
            return false
        }
        RESPValue.encodeCommand(self.commands[index], into: &buffer)
        self.sent.append(index)
        return true
    }

    mutating func reply(_ value: RESPValue, at nanoseconds: UInt64) {
        let index = self.sent.removeFirst()
        if case .error(let message) = value {
            if message.hasPrefix("TRYAGAIN") {
                self.again.append(index)
                return
            }
            self.errors += 1
            self.firstError = self.firstError ?? message
        }
    }

    var hasMore: Bool { !self.again.isEmpty }

    var outcome: (errors: Int, firstError: String?) { (self.errors, self.firstError) }
}

/// Reads each follower's newest entry once and notes who already shows
/// `post`: one pass of the celebrity scenario.
struct VisibilityScript: ConnectionScript {
    let followers: [String]
    let post: Int64
    let dialect: Dialect
    var position = 0
    var replies = 0
    var unseen: [String] = []
    var lastSeenNanoseconds: UInt64 = 0
    var errors = 0

    init(followers: [String], post: Int64, dialect: Dialect) {
        self.followers = followers
        self.post = post
        self.dialect = dialect
    }

    mutating func next(into buffer: inout ByteBuffer) -> Bool {
        guard self.position < self.followers.count else { return false }
        RESPValue.encodeCommand(self.dialect.read(self.followers[self.position], count: 1), into: &buffer)
        self.position += 1
        return true
    }

    mutating func reply(_ value: RESPValue, at nanoseconds: UInt64) {
        let follower = self.followers[self.replies]
        self.replies += 1
        if let id = value.elements?.first?.elements?.first?.postID, id == self.post {
            self.lastSeenNanoseconds = max(self.lastSeenNanoseconds, nanoseconds)
        } else {
            if case .error = value { self.errors += 1 }
            self.unseen.append(follower)
        }
    }

    var outcome: (unseen: [String], lastSeen: UInt64, errors: Int) { (self.unseen, self.lastSeenNanoseconds, self.errors) }
}

/// Splits `items` into `parts` slices of nearly equal size.
func split<T>(_ items: [T], into parts: Int) -> [[T]] {
    let parts = max(1, min(parts, items.count))
    var slices: [[T]] = Array(repeating: [], count: parts)
    for (index, item) in items.enumerated() { slices[index % parts].append(item) }
    return slices
}

extension RESPValue {
    /// A post id as a reply carries it: feed-server sends a decimal string
    /// (exact in every client), the Redis + Lua baseline an integer.
    var postID: Int64? {
        switch self {
        case .integer(let id): return id
        case .bulkString(let bytes): return Int64(String(buffer: bytes))
        default: return nil
        }
    }
}
