import Logging
import PostgresNIO
import Timeline

/// What reads fetch from PostgreSQL: bodies the cache no longer holds, and
/// posts older than any the engine keeps in memory.
struct PostgresStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// Bodies of live posts, by id, in one query.
    func bodies(of ids: [UInt64]) async throws -> [UInt64: String] {
        guard !ids.isEmpty else { return [:] }
        var bodies: [UInt64: String] = [:]
        let rows = try await self.client.query(
            "SELECT id, body FROM posts WHERE id = ANY(\(ids.map { Int64(bitPattern: $0) })::int8[]) AND deleted_at IS NULL",
            logger: self.logger)
        for try await (id, body) in rows.decode((Int64, String).self) { bodies[UInt64(bitPattern: id)] = body }
        return bodies
    }

    /// Up to `continuation.count` live posts by its authors, strictly older
    /// than its `before`, newest first: (id, author number, body).
    func olderPosts(_ continuation: StoreContinuation) async throws -> [(id: UInt64, author: UInt32, body: String)] {
        let rows = try await self.client.query(
            """
            SELECT id, author_id, body FROM posts
            WHERE author_id = ANY(\(continuation.authors.map { Int32(bitPattern: $0) })::int4[])
              AND id < \(Int64(bitPattern: continuation.before)) AND deleted_at IS NULL
            ORDER BY id DESC LIMIT \(Int32(clamping: continuation.count))
            """, logger: self.logger)
        var posts: [(id: UInt64, author: UInt32, body: String)] = []
        for try await (id, author, body) in rows.decode((Int64, Int32, String).self) {
            posts.append((UInt64(bitPattern: id), UInt32(bitPattern: author), body))
        }
        return posts
    }
}
