import Logging
import PostgresNIO

/// Writes one `MutationBatch` as one transaction of multi-row statements:
/// arrays bound as parameters and expanded with UNNEST, every value a bind.
enum PostgresBatchWriter {
    static func write(_ batch: MutationBatch, client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            if !batch.userIDs.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO users (id, name)
                    SELECT * FROM UNNEST(\(batch.userIDs)::int4[], \(batch.userNames)::text[])
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            if !batch.postIDs.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO posts (id, author_id, body, created_at)
                    SELECT id, author_id, body, to_timestamp(created_ms / 1000.0)
                    FROM UNNEST(\(batch.postIDs)::int8[], \(batch.postAuthors)::int4[], \(batch.postBodies)::text[],
                                \(batch.postCreatedMilliseconds)::int8[]) AS p(id, author_id, body, created_ms)
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            if !batch.followsRemoved.isEmpty {
                try await connection.query(
                    """
                    DELETE FROM follows
                    WHERE (follower_id, followee_id) IN (
                        SELECT * FROM UNNEST(\(batch.followsRemoved.map(\.follower))::int4[],
                                             \(batch.followsRemoved.map(\.followee))::int4[]))
                    """, logger: logger)
            }
            if !batch.followsAdded.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO follows (follower_id, followee_id)
                    SELECT * FROM UNNEST(\(batch.followsAdded.map(\.follower))::int4[],
                                         \(batch.followsAdded.map(\.followee))::int4[])
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            if !batch.likesRemoved.isEmpty {
                try await connection.query(
                    """
                    DELETE FROM likes
                    WHERE (post_id, user_id) IN (
                        SELECT * FROM UNNEST(\(batch.likesRemoved.map(\.post))::int8[], \(batch.likesRemoved.map(\.user))::int4[]))
                    """, logger: logger)
            }
            if !batch.likesAdded.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO likes (post_id, user_id)
                    SELECT * FROM UNNEST(\(batch.likesAdded.map(\.post))::int8[], \(batch.likesAdded.map(\.user))::int4[])
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            if !batch.deletedPosts.isEmpty {
                try await connection.query(
                    "UPDATE posts SET deleted_at = now() WHERE id = ANY(\(batch.deletedPosts)::int8[]) AND deleted_at IS NULL",
                    logger: logger)
            }
        }
    }
}
