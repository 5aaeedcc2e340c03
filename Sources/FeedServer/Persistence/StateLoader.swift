import Foundation
import Logging
import PostgresNIO
import Timeline

/// Start-up recovery: loads users and the follow graph, and where the
/// store's history ends, printing progress. That is all the listener waits
/// for, so the time to serve again does not grow with the posts in the
/// store. Posts come in afterwards: the newest ones in the background
/// (`warm`), the rest when a command asks (docs/adr/0009-memory-is-a-cache.md).
enum StateLoader {
    struct Summary {
        var users = 0
        var follows = 0
        var duration: Duration = .zero
        var baseline = StoreBaseline(maxPostID: 0)
        var startedAt = Date()
    }

    /// Rows are applied to the engine in chunks, one lock acquisition each.
    private static let chunk = 20_000

    static func load(into feed: SharedFeedEngine, keys: UserKeys, client: PostgresClient, logger: Logger) async throws -> Summary {
        let clock = ContinuousClock()
        let started = clock.now
        var summary = Summary()
        let now = WallClock.milliseconds()

        for try await (maxID, databaseNow) in try await client.query(
            "SELECT COALESCE(max(id), 0), now() FROM posts", logger: logger
        ).decode((Int64, Date).self) {
            summary.baseline = StoreBaseline(maxPostID: UInt64(bitPattern: maxID))
            summary.startedAt = databaseNow
        }
        let baseline = summary.baseline
        feed.withEngine { $0.beginRestore(baseline) }

        // Follows grouped per follower, so a million edges are a hundred
        // thousand rows, fetched on a second connection while users load.
        async let followRows = Self.followRows(client: client, logger: logger)

        // Users get the engine's numbers in the order they arrive; the store's
        // ids are kept beside. Ids are dense from 0 (assigned by a sequence),
        // so they map back to numbers through an array.
        var numbers = StoreIDMap()
        var rows: [(Int64, String)] = []
        func applyUsers() {
            let batch = rows
            let assigned = feed.withEngine { engine in batch.map { (engine.restoreUser(name: $0.1, now: now), $0.0) } }
            keys.set(assigned.map { (number: $0.0, id: $0.1) })
            for (number, id) in assigned { numbers[id] = number }
            summary.users += batch.count
            rows.removeAll(keepingCapacity: true)
        }
        for try await row in try await client.query("SELECT id, name FROM users ORDER BY id", logger: logger).decode((Int64, String).self) {
            rows.append(row)
            if rows.count == chunk { applyUsers() }
        }
        applyUsers()
        logger.notice("Loaded \(summary.users) users", metadata: ["elapsed": "\(clock.now - started)"])

        // The graph goes into the engine in one piece, once both are here.
        var following = [[UInt32]](repeating: [], count: summary.users)
        for (follower, followees) in try await followRows {
            guard let number = numbers[follower] else { continue }
            following[Int(number)] = followees.compactMap { numbers[$0] }
            summary.follows += followees.count
        }
        let graph = following
        feed.withEngine { $0.restoreFollowGraph(following: graph) }
        // Mutes, blocks and follows that hide reposts: small, and every read needs them.
        for (table, kind) in [("mutes", 0), ("blocks", 1), ("follows", 2)] {
            let query: PostgresQuery =
                kind == 2
                ? "SELECT follower_id, followee_id FROM follows WHERE hide_reposts"
                : "SELECT user_id, target_id FROM \(unescaped: table)"
            var pairs: [(UInt32, UInt32)] = []
            for try await (user, target) in try await client.query(query, logger: logger).decode((Int64, Int64).self) {
                if let a = numbers[user], let b = numbers[target] { pairs.append((a, b)) }
            }
            let restored = pairs
            feed.withEngine { engine in
                for (a, b) in restored {
                    switch kind {
                    case 0: engine.restoreMute(user: a, target: b)
                    case 1: engine.restoreBlock(user: a, target: b)
                    default: engine.restoreHiddenReposts(follower: a, followee: b)
                    }
                }
            }
        }
        // Readers' affinity for authors (the ranked feed): bounded per reader.
        var affinities: [(UInt32, UInt32, AffinityCounts)] = []
        func applyAffinities() {
            let restored = affinities
            feed.withEngine { engine in
                for (a, b, counts) in restored { engine.restoreAffinity(user: a, author: b, counts: counts) }
            }
            affinities.removeAll(keepingCapacity: true)
        }
        for try await (user, author, likes, replies, reposts, at) in try await client.query(
            "SELECT user_id, author_id, likes, replies, reposts, at_ms FROM affinity", logger: logger
        ).decode((Int64, Int64, Double, Double, Double, Int64).self) {
            if let a = numbers[user], let b = numbers[author] {
                affinities.append((a, b, AffinityCounts(likes: likes, replies: replies, reposts: reposts, at: at)))
            }
            if affinities.count == chunk { applyAffinities() }
        }
        applyAffinities()
        try await Self.loadNotifications(into: feed, client: client, numbers: numbers, logger: logger)
        summary.duration = clock.now - started
        logger.notice(
            "Loaded state from PostgreSQL",
            metadata: [
                "users": "\(summary.users)", "follows": "\(summary.follows)", "posts_before_id": "\(baseline.maxPostID)",
                "seconds": "\(summary.duration)",
            ])
        return summary
    }

    /// Notification feeds: their sources (capped per user by the server as
    /// it wrote them), then read and seen marks.
    private static func loadNotifications(
        into feed: SharedFeedEngine, client: PostgresClient, numbers: StoreIDMap, logger: Logger
    ) async throws {
        var rows: [(UInt32, NotificationKey, UInt32, NotificationSource)] = []
        func apply() {
            let restored = rows
            feed.withEngine { engine in
                for (user, key, actor, source) in restored { engine.restoreNotification(user: user, group: key, actor: actor, source: source) }
            }
            rows.removeAll(keepingCapacity: true)
        }
        for try await (user, verb, object, day, actor, source, at, order) in try await client.query(
            "SELECT user_id, verb, object, day, actor_id, source, at_ms, ord FROM notifications", logger: logger
        ).decode((Int64, Int16, Int64, Int32, Int64, Int64, Int64, Int64).self) {
            guard let u = numbers[user], let a = numbers[actor], let verb = NotificationVerb(rawValue: UInt8(clamping: verb)) else { continue }
            let key = NotificationKey(verb: verb, object: UInt64(bitPattern: object), day: day)
            rows.append((u, key, a, NotificationSource(id: UInt64(bitPattern: source), at: at, order: UInt64(bitPattern: order))))
            if rows.count == 10_000 { apply() }
        }
        apply()
        var reads: [(UInt32, NotificationKey, UInt64)] = []
        for try await (user, verb, object, day, order) in try await client.query(
            "SELECT user_id, verb, object, day, ord FROM notification_reads", logger: logger
        ).decode((Int64, Int16, Int64, Int32, Int64).self) {
            guard let u = numbers[user], let verb = NotificationVerb(rawValue: UInt8(clamping: verb)) else { continue }
            reads.append((u, NotificationKey(verb: verb, object: UInt64(bitPattern: object), day: day), UInt64(bitPattern: order)))
        }
        var seen: [(UInt32, UInt64)] = []
        for try await (user, order) in try await client.query("SELECT user_id, ord FROM notification_seen", logger: logger)
            .decode((Int64, Int64).self)
        {
            if let u = numbers[user] { seen.append((u, UInt64(bitPattern: order))) }
        }
        let (restoredReads, restoredSeen) = (reads, seen)
        feed.withEngine { engine in
            for (user, key, order) in restoredReads { engine.restoreNotificationRead(user: user, group: key, order: order) }
            for (user, order) in restoredSeen { engine.restoreNotificationsSeen(user: user, order: order) }
        }
    }

    /// Who follows whom, by store ids, one row per follower.
    private static func followRows(client: PostgresClient, logger: Logger) async throws -> [(Int64, [Int64])] {
        var rows: [(Int64, [Int64])] = []
        for try await row in try await client.query(
            "SELECT follower_id, array_agg(followee_id) FROM follows GROUP BY follower_id", logger: logger
        ).decode((Int64, [Int64]).self) {
            rows.append(row)
        }
        return rows
    }

    /// After the listener opens: the store's `limit` newest posts into the
    /// authors' recent lists (and their bodies into the cache), so the first
    /// reads find their feeds in memory. Timelines read before this finished
    /// are rebuilt on their next read, deeper.
    static func warm(into feed: SharedFeedEngine, client: PostgresClient, baseline: StoreBaseline, limit: Int, logger: Logger) async {
        guard limit > 0, baseline.maxPostID > 0 else { return }
        let clock = ContinuousClock()
        let started = clock.now
        do {
            var posts: [StoredPost] = []
            posts.reserveCapacity(Swift.min(limit, 1 << 20))
            for try await row in try await client.query(
                """
                SELECT \(unescaped: PostgresStore.columns) FROM (
                    SELECT * FROM posts
                    WHERE deleted_at IS NULL AND id <= \(Int64(bitPattern: baseline.maxPostID))
                    ORDER BY id DESC LIMIT \(Int32(clamping: limit))) AS p
                \(unescaped: PostgresStore.joins)
                """, logger: logger
            ).decode(PostgresStore.Row.self) {
                posts.append(PostgresStore.post(row))
            }
            guard !posts.isEmpty else { return }
            // All of the store's live posts from the oldest of these up are here.
            let from = posts.count == limit ? posts.map(\.id).min()! : 0
            let below = baseline.maxPostID + 1
            let byAuthor = Array(Dictionary(grouping: posts, by: \.author))
            var index = 0
            while index < byAuthor.count {
                let slice = byAuthor[index..<Swift.min(index + 1000, byAuthor.count)]
                feed.withEngine { engine in
                    for (author, posts) in slice {
                        engine.installRecent(
                            author: author, posts: posts.sorted { $0.id > $1.id }, from: from, below: below,
                            now: WallClock.milliseconds())
                    }
                }
                index += 1000
                await Task.yield()
            }
            feed.withEngine { engine in
                engine.lowerRecentFloors(to: from, whereAtMost: below)
                engine.dropTimelines(floorAbove: from)
            }
            logger.notice("Warmed memory with the \(posts.count) newest posts", metadata: ["elapsed": "\(clock.now - started)"])
        } catch {
            logger.warning("Could not warm memory with the newest posts: \(String(reflecting: error))")
        }
    }
}

/// Store ids of users to the engine's numbers, while loading. The store's
/// ids come from a sequence, so they are dense: an array indexed by id, with
/// a dictionary for ids far beyond the count (a database with gaps).
struct StoreIDMap {
    private var dense: [UInt32] = []
    private var sparse: [Int64: UInt32] = [:]
    private static let none = UInt32.max

    subscript(id: Int64) -> UInt32? {
        get {
            if id >= 0 && id < Int64(self.dense.count) {
                let number = self.dense[Int(id)]
                return number == Self.none ? nil : number
            }
            return self.sparse[id]
        }
        set {
            guard let newValue else { return }
            if id >= 0 && id < 1 << 26 && id <= Int64(self.dense.count) * 2 + 1024 {
                if id >= Int64(self.dense.count) {
                    self.dense.append(contentsOf: repeatElement(Self.none, count: Int(id) - self.dense.count + 1))
                }
                self.dense[Int(id)] = newValue
            } else {
                self.sparse[id] = newValue
            }
        }
    }
}
