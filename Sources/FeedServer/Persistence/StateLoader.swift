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
        let recentCap = feed.withEngine { $0.configuration.recentPostsCap }

        var users: [(Int32, String)] = []
        for try await row in try await client.query("SELECT id, name FROM users ORDER BY id", logger: logger).decode((Int32, String).self) {
            users.append(row)
            if users.count == chunk { summary.users += apply(&users, to: feed) { $0.restoreUser(number: UInt32($1.0), name: $1.1, now: now) } }
        }
        summary.users += apply(&users, to: feed) { $0.restoreUser(number: UInt32($1.0), name: $1.1, now: now) }
        logger.notice("Loaded \(summary.users) users", metadata: ["elapsed": "\(clock.now - started)"])

        var follows: [(Int32, Int32)] = []
        for try await row in try await client.query("SELECT follower_id, followee_id FROM follows", logger: logger).decode((Int32, Int32).self) {
            follows.append(row)
            if follows.count == chunk {
                summary.follows += apply(&follows, to: feed) { $0.restoreFollow(follower: UInt32($1.0), followee: UInt32($1.1)) }
            }
        }
        summary.follows += apply(&follows, to: feed) { $0.restoreFollow(follower: UInt32($1.0), followee: UInt32($1.1)) }
        logger.notice("Loaded \(summary.follows) follows", metadata: ["elapsed": "\(clock.now - started)"])

        var posts: [(Int64, Int32)] = []
        for try await row in try await client.query(
            "SELECT id, author_id FROM posts WHERE deleted_at IS NULL", logger: logger
        ).decode((Int64, Int32).self) {
            posts.append(row)
            if posts.count == chunk {
                summary.posts += apply(&posts, to: feed) { $0.restorePost(id: UInt64($1.0), author: UInt32($1.1)) }
            }
        }
        summary.posts += apply(&posts, to: feed) { $0.restorePost(id: UInt64($1.0), author: UInt32($1.1)) }
        logger.notice("Loaded \(summary.posts) posts", metadata: ["elapsed": "\(clock.now - started)"])

        // Each author's newest posts, through the (author_id, id DESC) index.
        var recent: [(Int64, String)] = []
        for try await row in try await client.query(
            """
            SELECT p.id, p.body FROM users u CROSS JOIN LATERAL (
                SELECT id, body FROM posts WHERE author_id = u.id AND deleted_at IS NULL ORDER BY id DESC LIMIT \(Int32(recentCap))
            ) p
            """, logger: logger
        ).decode((Int64, String).self) {
            recent.append(row)
            if recent.count == chunk {
                summary.recentBodies += apply(&recent, to: feed) { $0.restoreRecentPost(id: UInt64($1.0), body: $1.1) }
            }
        }
        summary.recentBodies += apply(&recent, to: feed) { $0.restoreRecentPost(id: UInt64($1.0), body: $1.1) }
        logger.notice("Loaded \(summary.recentBodies) recent posts with bodies", metadata: ["elapsed": "\(clock.now - started)"])

        var likes: [(Int64, Int32)] = []
        for try await row in try await client.query("SELECT post_id, user_id FROM likes", logger: logger).decode((Int64, Int32).self) {
            likes.append(row)
            if likes.count == chunk { summary.likes += apply(&likes, to: feed) { $0.restoreLike(user: UInt32($1.1), post: UInt64($1.0)) } }
        }
        summary.likes += apply(&likes, to: feed) { $0.restoreLike(user: UInt32($1.1), post: UInt64($1.0)) }
        summary.duration = clock.now - started
        logger.notice(
            "Loaded state from PostgreSQL",
            metadata: [
                "users": "\(summary.users)", "follows": "\(summary.follows)", "posts": "\(summary.posts)",
                "likes": "\(summary.likes)", "seconds": "\(summary.duration)",
            ])
        return summary
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
