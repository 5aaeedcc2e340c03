import NIOCore
import RESP

/// What a request is, for the report.
enum RequestKind: Int, CaseIterable, Sendable {
    case post, read, follow, unfollow, like, other

    var label: String {
        switch self {
        case .post: "post"
        case .read: "read"
        case .follow: "follow"
        case .unfollow: "unfollow"
        case .like: "like"
        case .other: "other"
        }
    }
}

/// How a target spells the feed operations: feed-server's FEED.* commands,
/// or the Redis Functions of the Redis + Lua baseline (bench/baselines/feed.lua).
enum Dialect: String, CaseIterable, Sendable {
    case feed
    case redisLua = "redis-lua"
    /// A stock redis-server moving the same bytes, the floor a feed-server
    /// run is compared with: a post is `SET post:<user> <body>`, a read
    /// `LRANGE list:<user> 0 -1` of lists filled beforehand so the reply is
    /// as large as FEED.READ's (bench/ceilings fills them).
    case redis

    func post(_ user: String, _ body: String) -> [String] {
        switch self {
        case .feed: ["FEED.POST", user, body]
        case .redisLua: ["FCALL", "feed_post", "1", user, body]
        case .redis: ["SET", "post:" + user, body]
        }
    }

    /// `ranked`: FEED.READ … RANKED (feed-server only).
    func read(_ user: String, count: Int, ranked: Bool = false) -> [String] {
        switch self {
        case .feed: ranked ? ["FEED.READ", user, "RANKED", "COUNT", String(count)] : ["FEED.READ", user, "COUNT", String(count)]
        case .redisLua: ["FCALL_RO", "feed_read", "1", user, String(count)]
        case .redis: ["LRANGE", "list:" + user, "0", "-1"]
        }
    }

    func follow(_ follower: String, _ followee: String) -> [String] {
        switch self {
        case .feed: ["FEED.FOLLOW", follower, followee]
        case .redisLua: ["FCALL", "feed_follow", "2", follower, followee]
        case .redis: ["SADD", "following:" + follower, followee]
        }
    }

    func unfollow(_ follower: String, _ followee: String) -> [String] {
        switch self {
        case .feed: ["FEED.UNFOLLOW", follower, followee]
        case .redisLua: ["FCALL", "feed_unfollow", "2", follower, followee]
        case .redis: ["SREM", "following:" + follower, followee]
        }
    }
}

/// The request mix a run sends.
enum WorkloadKind: String, CaseIterable, Sendable {
    case posts, reads, mix, follows
    /// FEED.LIKE of a random post (from --post-ids) by a random user (feed-server only).
    case likes
}

/// Makes one connection's requests: its own seeded generator, so runs repeat.
struct RequestSource: Sendable {
    let workload: WorkloadKind
    let dialect: Dialect
    let users: Int
    let readRatio: Double
    let readCount: Int
    /// Reads ask for the ranked feed.
    var ranked = false
    /// The posts the likes workload likes.
    var postIDs: [String] = []
    let body: String
    var generator: SeededGenerator
    /// Follow churn alternates a follow and the unfollow of the same pair.
    private var pendingUnfollow: (String, String)?

    init(workload: WorkloadKind, dialect: Dialect, users: Int, readRatio: Double, readCount: Int, bodyBytes: Int, seed: UInt64) {
        self.workload = workload
        self.dialect = dialect
        self.users = max(users, 2)
        self.readRatio = readRatio
        self.readCount = readCount
        self.body = String(repeating: "b", count: bodyBytes)
        self.generator = SeededGenerator(seed: seed)
    }

    private mutating func randomUser() -> String { SocialGraph.name(Int.random(in: 0..<self.users, using: &self.generator)) }

    /// The next request, encoded, and its kind.
    mutating func next(into buffer: inout ByteBuffer) -> RequestKind {
        let kind: RequestKind
        let arguments: [String]
        switch self.workload {
        case .posts:
            (kind, arguments) = (.post, self.dialect.post(self.randomUser(), self.body))
        case .reads:
            (kind, arguments) = (.read, self.dialect.read(self.randomUser(), count: self.readCount, ranked: self.ranked))
        case .mix:
            if Double.random(in: 0..<1, using: &self.generator) < self.readRatio {
                (kind, arguments) = (.read, self.dialect.read(self.randomUser(), count: self.readCount, ranked: self.ranked))
            } else {
                (kind, arguments) = (.post, self.dialect.post(self.randomUser(), self.body))
            }
        case .likes:
            let post = self.postIDs.randomElement(using: &self.generator) ?? "1"
            (kind, arguments) = (.like, ["FEED.LIKE", self.randomUser(), post])
        case .follows:
            if let (follower, followee) = self.pendingUnfollow {
                self.pendingUnfollow = nil
                (kind, arguments) = (.unfollow, self.dialect.unfollow(follower, followee))
            } else {
                let follower = self.randomUser()
                var followee = self.randomUser()
                while followee == follower { followee = self.randomUser() }
                self.pendingUnfollow = (follower, followee)
                (kind, arguments) = (.follow, self.dialect.follow(follower, followee))
            }
        }
        RESPValue.encodeCommand(arguments, into: &buffer)
        return kind
    }
}
