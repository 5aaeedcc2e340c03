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

        // Users get the engine's numbers in the order they arrive; the store's ids are kept beside.
        var numbers: [Int64: UInt32] = [:]
        var rows: [(Int64, String)] = []
        func applyUsers() {
            let batch = rows
            let assigned = feed.withEngine { engine in batch.map { (engine.restoreUser(name: $0.1, now: now), $0.0) } }
            keys.set(assigned.map { (number: $0.0, id: $0.1) })
            for (number, id) in assigned { numbers[id] = number }
            summary.users += batch.count
            rows.removeAll(keepingCapacity: true)
        }
        for try await row in try await client.query("SELECT id, name FROM users", logger: logger).decode((Int64, String).self) {
            rows.append(row)
            if rows.count == chunk { applyUsers() }
        }
        applyUsers()
        logger.notice("Loaded \(summary.users) users", metadata: ["elapsed": "\(clock.now - started)"])

        // Follows grouped per follower, so a million edges are a hundred thousand rows.
        var follows: [(UInt32, [UInt32])] = []
        func applyFollows() {
            let batch = follows
            feed.withEngine { engine in
                for (follower, followees) in batch {
                    for followee in followees { engine.restoreFollow(follower: follower, followee: followee) }
                }
            }
            follows.removeAll(keepingCapacity: true)
        }
        for try await (follower, followees) in try await client.query(
            "SELECT follower_id, array_agg(followee_id) FROM follows GROUP BY follower_id", logger: logger
        ).decode((Int64, [Int64]).self) {
            guard let number = numbers[follower] else { continue }
            follows.append((number, followees.compactMap { numbers[$0] }))
            summary.follows += followees.count
            if follows.count == chunk / 10 { applyFollows() }
        }
        applyFollows()
        summary.duration = clock.now - started
        logger.notice(
            "Loaded state from PostgreSQL",
            metadata: [
                "users": "\(summary.users)", "follows": "\(summary.follows)", "posts_before_id": "\(baseline.maxPostID)",
                "seconds": "\(summary.duration)",
            ])
        return summary
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
            for try await (id, author, body, likes) in try await client.query(
                """
                SELECT p.id, u.name, p.body, p.like_count FROM (
                    SELECT id, author_id, body, like_count FROM posts
                    WHERE deleted_at IS NULL AND id <= \(Int64(bitPattern: baseline.maxPostID))
                    ORDER BY id DESC LIMIT \(Int32(clamping: limit))) AS p
                JOIN users u ON u.id = p.author_id
                """, logger: logger
            ).decode((Int64, String, String, Int32).self) {
                posts.append(StoredPost(id: UInt64(bitPattern: id), author: author, body: body, likes: Int(likes)))
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
                        engine.installRecent(author: author, posts: posts.sorted { $0.id > $1.id }, from: from, below: below)
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
