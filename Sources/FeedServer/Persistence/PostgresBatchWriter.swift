import Logging
import NIOPosix
import PostgresNIO
import Synchronization

/// The writer's own connection to PostgreSQL, apart from the pool that
/// serves reads, so that a batch that gets no answer in time can be cut off
/// for good: the connection is closed, which fails whatever was pending on
/// it, and the next attempt opens a new one.
///
/// Every call into PostgresNIO is raced against the timeout rather than
/// awaited to the end, because some never return: a pooled lease waits for a
/// connection for as long as PostgreSQL is away, and a query issued on a
/// connection the server has just closed (the ROLLBACK after a failed
/// statement, say) is written to a dead channel and never answered.
actor JournalConnection {
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private var connection: PostgresConnection?
    private var nextID = 0

    init(configuration: PostgresConnection.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Writes `batch` as one transaction; throws if it does not commit within
    /// `timeout`. Retrying a batch is safe: batches are idempotent.
    func write(_ batch: MutationBatch, timeout: Duration) async throws {
        let connection = try await self.open(timeout: timeout)
        let logger = self.logger
        do {
            try await Deadline.result(within: timeout) {
                try await PostgresBatchWriter.write(batch, on: connection, logger: logger)
            }
        } catch {
            if error is Deadline.Passed || connection.isClosed {
                self.connection = nil
                Task.detached { try? await connection.close() }
            }
            throw error
        }
    }

    func close() async {
        try? await self.connection?.close()
        self.connection = nil
    }

    private func open(timeout: Duration) async throws -> PostgresConnection {
        if let connection = self.connection, !connection.isClosed { return connection }
        self.connection = nil
        self.nextID += 1
        let (configuration, id, logger) = (self.configuration, self.nextID, self.logger)
        let connection = try await Deadline.result(within: timeout) {
            try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: id, logger: logger)
        } late: { connection in
            try? await connection.close()
        }
        self.connection = connection
        return connection
    }
}

/// Waiting for work that may never finish.
enum Deadline {
    struct Passed: Error, CustomStringConvertible {
        let after: Duration
        var description: String { "no answer from PostgreSQL within \(self.after)" }
    }

    /// The result of `body`, run in a task of its own, or `Passed` once
    /// `limit` has gone by, without waiting any longer for `body`. A result
    /// that arrives after that is handed to `late` (to close a connection
    /// nobody will use, say).
    static func result<T: Sendable>(
        within limit: Duration, _ body: @escaping @Sendable () async throws -> T,
        late: @escaping @Sendable (T) async -> Void = { _ in }
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = Outcome(continuation)
            let timer = Task.detached {
                try await Task.sleep(for: limit)
                outcome.resume(with: .failure(Passed(after: limit)))
            }
            Task.detached {
                defer { timer.cancel() }
                do {
                    let value = try await body()
                    if !outcome.resume(with: .success(value)) { await late(value) }
                } catch {
                    outcome.resume(with: .failure(error))
                }
            }
        }
    }

    /// Resumes a continuation once, with whichever result comes first.
    private final class Outcome<T: Sendable>: Sendable {
        private let continuation: Mutex<CheckedContinuation<T, any Error>?>

        init(_ continuation: CheckedContinuation<T, any Error>) {
            self.continuation = Mutex(continuation)
        }

        @discardableResult
        func resume(with result: Result<T, any Error>) -> Bool {
            guard let continuation = self.continuation.withLock({ $0.take() }) else { return false }
            continuation.resume(with: result)
            return true
        }
    }
}

/// Writes one `MutationBatch` as one transaction of multi-row statements:
/// arrays bound as parameters and expanded with UNNEST, every value a bind.
enum PostgresBatchWriter {
    static func write(_ batch: MutationBatch, on connection: PostgresConnection, logger: Logger) async throws {
        // BEGIN/COMMIT by hand rather than withTransaction: no ROLLBACK is
        // sent on a connection that is already closed (it would never answer).
        try await connection.query("BEGIN", logger: logger)
        do {
            try await self.statements(batch, on: connection, logger: logger)
            try await connection.query("COMMIT", logger: logger)
        } catch {
            if !connection.isClosed { _ = try? await connection.query("ROLLBACK", logger: logger) }
            throw error
        }
    }

    private static func statements(_ batch: MutationBatch, on connection: PostgresConnection, logger: Logger) async throws {
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
