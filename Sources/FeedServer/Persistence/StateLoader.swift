import Logging
import PostgresNIO
import Timeline

/// Start-up recovery: loads users, the follow graph, every live post's
/// record, each author's recent posts with their bodies, and likes, printing
/// progress. Timelines are not loaded: they fill lazily on first read.
enum StateLoader {
    struct Summary {
        var users = 0
        var follows = 0
        var posts = 0
        var recentBodies = 0
        var likes = 0
        var duration: Duration = .zero
    }

    /// Rows are applied to the engine in chunks, one lock acquisition each.
    private static let chunk = 20_000

    static func load(into feed: SharedFeedEngine, client: PostgresClient, logger: Logger) async throws -> Summary {
        let clock = ContinuousClock()
        let started = clock.now
        var summary = Summary()
        let now = WallClock.milliseconds()

        var users: [(Int32, String)] = []
        for try await row in try await client.query("SELECT id, name FROM users ORDER BY id", logger: logger).decode((Int32, String).self) {
            users.append(row)
            if users.count == chunk { summary.users += apply(&users, to: feed) { $0.restoreUser(number: UInt32($1.0), name: $1.1, now: now) } }
        }
        summary.users += apply(&users, to: feed) { $0.restoreUser(number: UInt32($1.0), name: $1.1, now: now) }
        logger.notice("Loaded \(summary.users) users", metadata: ["elapsed": "\(clock.now - started)"])

        // Follows and posts need only the users, so they load side by side,
        // each grouped per user so a million edges are a hundred thousand rows.
        async let follows = Self.loadFollows(into: feed, client: client, logger: logger)
        async let posts = Self.loadPosts(into: feed, client: client, logger: logger)
        summary.follows = try await follows
        logger.notice("Loaded \(summary.follows) follows", metadata: ["elapsed": "\(clock.now - started)"])
        summary.posts = try await posts
        logger.notice("Loaded \(summary.posts) posts", metadata: ["elapsed": "\(clock.now - started)"])

        var likes: [(Int64, [Int32])] = []
        for try await row in try await client.query(
            "SELECT post_id, array_agg(user_id) FROM likes GROUP BY post_id", logger: logger
        ).decode((Int64, [Int32]).self) {
            likes.append(row)
            if likes.count == chunk { summary.likes += apply(&likes, to: feed, restoreLikes) }
        }
        summary.likes += apply(&likes, to: feed, restoreLikes)
        summary.duration = clock.now - started
        logger.notice(
            "Loaded state from PostgreSQL",
            metadata: [
                "users": "\(summary.users)", "follows": "\(summary.follows)", "posts": "\(summary.posts)",
                "likes": "\(summary.likes)", "seconds": "\(summary.duration)",
            ])
        return summary
    }

    private static func restoreLikes(_ engine: inout FeedEngine, _ row: (Int64, [Int32])) {
        for user in row.1 { engine.restoreLike(user: UInt32(user), post: UInt64(row.0)) }
    }

    private static func loadFollows(into feed: SharedFeedEngine, client: PostgresClient, logger: Logger) async throws -> Int {
        var loaded = 0
        var rows: [(Int32, [Int32])] = []
        let restore: (inout FeedEngine, (Int32, [Int32])) -> Void = { engine, row in
            for followee in row.1 { engine.restoreFollow(follower: UInt32(row.0), followee: UInt32(followee)) }
        }
        for try await row in try await client.query(
            "SELECT follower_id, array_agg(followee_id) FROM follows GROUP BY follower_id", logger: logger
        ).decode((Int32, [Int32]).self) {
            loaded += row.1.count
            rows.append(row)
            if rows.count == chunk / 10 { _ = apply(&rows, to: feed, restore) }
        }
        _ = apply(&rows, to: feed, restore)
        return loaded
    }

    /// Every live post's record, and each author's recent list from the same
    /// scan. Bodies come later: `warmBodies`, and reads that miss.
    private static func loadPosts(into feed: SharedFeedEngine, client: PostgresClient, logger: Logger) async throws -> Int {
        var loaded = 0
        var rows: [(Int32, [Int64])] = []
        let restore: (inout FeedEngine, (Int32, [Int64])) -> Void = { engine, row in
            engine.restorePosts(author: UInt32(row.0), ids: row.1.map { UInt64($0) })
        }
        for try await row in try await client.query(
            "SELECT author_id, array_agg(id) FROM posts WHERE deleted_at IS NULL GROUP BY author_id", logger: logger
        ).decode((Int32, [Int64]).self) {
            loaded += row.1.count
            rows.append(row)
            if rows.count == chunk / 10 { _ = apply(&rows, to: feed, restore) }
        }
        _ = apply(&rows, to: feed, restore)
        return loaded
    }

    /// After the listener opens: each author's recent bodies, newest first,
    /// into the cache, in chunks, so the first reads find most of them.
    static func warmBodies(into feed: SharedFeedEngine, client: PostgresClient, logger: Logger) async {
        let clock = ContinuousClock()
        let started = clock.now
        let cap = feed.withEngine { $0.configuration.recentPostsCap }
        var cached = 0
        do {
            var rows: [(Int64, String)] = []
            let restore: (inout FeedEngine, (Int64, String)) -> Void = { engine, row in
                engine.cacheBody(UInt64(row.0), body: row.1)
            }
            for try await row in try await client.query(
                """
                SELECT p.id, p.body FROM users u CROSS JOIN LATERAL (
                    SELECT id, body FROM posts WHERE author_id = u.id AND deleted_at IS NULL ORDER BY id DESC LIMIT \(Int32(cap))
                ) p
                """, logger: logger
            ).decode((Int64, String).self) {
                rows.append(row)
                if rows.count == chunk { cached += apply(&rows, to: feed, restore) }
            }
            cached += apply(&rows, to: feed, restore)
            logger.notice("Warmed the post cache with \(cached) recent bodies", metadata: ["elapsed": "\(clock.now - started)"])
        } catch {
            logger.warning("Could not warm the post cache: \(String(reflecting: error))")
        }
    }

    /// Applies and empties `rows`; returns how many there were.
    private static func apply<Row: Sendable>(
        _ rows: inout [Row], to feed: SharedFeedEngine, _ restore: (inout FeedEngine, Row) -> Void
    ) -> Int {
        let count = rows.count
        guard count > 0 else { return 0 }
        let batch = rows
        feed.withEngine { engine in
            for row in batch { restore(&engine, row) }
        }
        rows.removeAll(keepingCapacity: true)
        return count
    }
}
