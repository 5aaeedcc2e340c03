import Logging
import NIOPosix
import PostgresNIO
import Synchronization
import Timeline

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
    func write(_ batch: MutationBatch, keys: UserKeys, changes: ChangeFeedEntry?, timeout: Duration) async throws {
        let connection = try await self.open(timeout: timeout)
        let logger = self.logger
        do {
            let resolved = try await Deadline.result(within: timeout) {
                try await PostgresBatchWriter.write(batch, keys: keys, changes: changes, on: connection, logger: logger)
            }
            keys.set(resolved.map { (number: $0.key, id: $0.value) })
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
    struct UnnamedUser: Error, CustomStringConvertible {
        let number: UInt32
        var description: String { "the journal names user \(self.number) before creating them" }
    }

    /// How a batch's posts go in: COPY (the cheaper for PostgreSQL), or
    /// the INSERT that skips posts already there.
    private enum PostsBy { case copy, insertSkippingDuplicates }

    /// Writes the batch; returns the store ids it assigned to new users
    /// (to be recorded once the transaction has committed).
    ///
    /// Posts go in by COPY, which cannot skip a row that is already there:
    /// when a post is (the batch committed before, but its reply was lost,
    /// and this is its retry), the transaction is rolled back and written
    /// again with `INSERT … ON CONFLICT DO NOTHING`, so a batch stays safe
    /// to repeat.
    static func write(
        _ batch: MutationBatch, keys: UserKeys, changes: ChangeFeedEntry? = nil, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [UInt32: Int64] {
        do {
            return try await self.write(batch, keys: keys, changes: changes, postsBy: .copy, on: connection, logger: logger)
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" && !connection.isClosed {
            logger.notice("Posts of this batch are in PostgreSQL already (a retried batch); writing it again skipping them")
            return try await self.write(
                batch, keys: keys, changes: changes, postsBy: .insertSkippingDuplicates, on: connection, logger: logger)
        }
    }

    private static func write(
        _ batch: MutationBatch, keys: UserKeys, changes: ChangeFeedEntry?, postsBy: PostsBy, on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [UInt32: Int64] {
        // BEGIN/COMMIT by hand rather than withTransaction: no ROLLBACK is
        // sent on a connection that is already closed (it would never answer).
        try await connection.query("BEGIN", logger: logger)
        do {
            var users = batch.users
            for mutation in changes?.mutations ?? [] { users.formUnion(ClusterChange.users(of: mutation)) }
            var ids = keys.map(users)
            let resolved = try await self.resolveUsers(batch, users: users, known: ids, on: connection, logger: logger)
            ids.merge(resolved) { _, new in new }
            try await self.statements(batch, ids: ids, postsBy: postsBy, on: connection, logger: logger)
            if let changes { try await self.changeFeed(changes, ids: ids, on: connection, logger: logger) }
            try await connection.query("COMMIT", logger: logger)
            return resolved
        } catch {
            if !connection.isClosed { _ = try? await connection.query("ROLLBACK", logger: logger) }
            throw error
        }
    }

    /// Store ids for the batch's users that have none yet: inserted by name
    /// (a user another process already inserted stays as it is) and read
    /// back, in the batch's transaction. Read committed gives the second
    /// statement a new snapshot, so it sees a row another process committed
    /// while the insert waited on it.
    private static func resolveUsers(
        _ batch: MutationBatch, users: Set<UInt32>, known: [UInt32: Int64], on connection: PostgresConnection, logger: Logger
    ) async throws -> [UInt32: Int64] {
        let missing = users.filter { known[$0] == nil }
        guard !missing.isEmpty else { return [:] }
        var numbers: [String: UInt32] = [:]
        for user in batch.newUsers where missing.contains(user.number) { numbers[user.name] = user.number }
        if let unnamed = missing.first(where: { number in !numbers.values.contains(number) }) {
            throw UnnamedUser(number: unnamed)
        }
        let names = Array(numbers.keys)
        try await connection.query(
            "INSERT INTO users (name) SELECT * FROM UNNEST(\(names)::text[]) ON CONFLICT (name) DO NOTHING", logger: logger)
        var resolved: [UInt32: Int64] = [:]
        let rows = try await connection.query("SELECT id, name FROM users WHERE name = ANY(\(names)::text[])", logger: logger)
        for try await (id, name) in rows.decode((Int64, String).self) {
            if let number = numbers[name] { resolved[number] = id }
        }
        return resolved
    }

    private static func statements(
        _ batch: MutationBatch, ids: [UInt32: Int64], postsBy: PostsBy, on connection: PostgresConnection, logger: Logger
    ) async throws {
        func id(_ number: UInt32) -> Int64 { ids[number]! }
        if !batch.postIDs.isEmpty && postsBy == .copy {
            let rows = PostCopyText.rows(batch, id: id)
            try await connection.copyFrom(table: "posts", columns: PostCopyText.columns, logger: logger) { writer in
                try await writer.write(rows)
            }
        } else if !batch.postIDs.isEmpty {
            try await connection.query(
                """
                INSERT INTO posts (id, author_id, body, created_at, kind, link_id, link_author_id)
                SELECT id, author_id, body, to_timestamp(created_ms / 1000.0), kind, NULLIF(link_id, 0), NULLIF(link_author_id, -1)
                FROM UNNEST(\(batch.postIDs)::int8[], \(batch.postAuthors.map(id))::int8[], \(batch.postBodies)::text[],
                            \(batch.postCreatedMilliseconds)::int8[], \(batch.postKinds)::int2[], \(batch.postLinks)::int8[],
                            \(batch.postLinkAuthors.map { $0.map(id) ?? -1 })::int8[])
                     AS p(id, author_id, body, created_ms, kind, link_id, link_author_id)
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        if !batch.followsRemoved.isEmpty {
            try await connection.query(
                """
                DELETE FROM follows
                WHERE (follower_id, followee_id) IN (
                    SELECT * FROM UNNEST(\(batch.followsRemoved.map { id($0.follower) })::int8[],
                                         \(batch.followsRemoved.map { id($0.followee) })::int8[]))
                """, logger: logger)
        }
        if !batch.followsAdded.isEmpty {
            try await connection.query(
                """
                INSERT INTO follows (follower_id, followee_id)
                SELECT * FROM UNNEST(\(batch.followsAdded.map { id($0.follower) })::int8[],
                                     \(batch.followsAdded.map { id($0.followee) })::int8[])
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        // Like counts move by the rows each statement really changed.
        if !batch.likesRemoved.isEmpty {
            try await connection.query(
                """
                WITH removed AS (
                    DELETE FROM likes
                    WHERE (post_id, user_id) IN (
                        SELECT * FROM UNNEST(\(batch.likesRemoved.map(\.post))::int8[],
                                             \(batch.likesRemoved.map { id($0.user) })::int8[]))
                    RETURNING post_id)
                UPDATE posts SET like_count = like_count - counted.likes
                FROM (SELECT post_id, count(*) AS likes FROM removed GROUP BY post_id) AS counted
                WHERE posts.id = counted.post_id
                """, logger: logger)
        }
        if !batch.likesAdded.isEmpty {
            try await connection.query(
                """
                WITH added AS (
                    INSERT INTO likes (post_id, user_id)
                    SELECT * FROM UNNEST(\(batch.likesAdded.map(\.post))::int8[], \(batch.likesAdded.map { id($0.user) })::int8[])
                    ON CONFLICT DO NOTHING
                    RETURNING post_id)
                UPDATE posts SET like_count = like_count + counted.likes
                FROM (SELECT post_id, count(*) AS likes FROM added GROUP BY post_id) AS counted
                WHERE posts.id = counted.post_id
                """, logger: logger)
        }
        if !batch.repostSettings.isEmpty {
            try await connection.query(
                """
                UPDATE follows SET hide_reposts = s.hidden
                FROM UNNEST(\(batch.repostSettings.map { id($0.follower) })::int8[],
                            \(batch.repostSettings.map { id($0.followee) })::int8[],
                            \(batch.repostSettings.map(\.hidden))::bool[]) AS s(follower_id, followee_id, hidden)
                WHERE follows.follower_id = s.follower_id AND follows.followee_id = s.followee_id
                """, logger: logger)
        }
        for (table, added, removed) in [
            ("mutes", batch.mutesAdded, batch.mutesRemoved), ("blocks", batch.blocksAdded, batch.blocksRemoved),
        ] {
            if !removed.isEmpty {
                try await connection.query(
                    """
                    DELETE FROM \(unescaped: table) WHERE (user_id, target_id) IN (
                        SELECT * FROM UNNEST(\(removed.map { id($0.user) })::int8[], \(removed.map { id($0.target) })::int8[]))
                    """, logger: logger)
            }
            if !added.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO \(unescaped: table) (user_id, target_id)
                    SELECT * FROM UNNEST(\(added.map { id($0.user) })::int8[], \(added.map { id($0.target) })::int8[])
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
        }
        let forgotten = batch.affinities.filter { $0.counts == nil }
        if !forgotten.isEmpty {
            try await connection.query(
                """
                DELETE FROM affinity WHERE (user_id, author_id) IN (
                    SELECT * FROM UNNEST(\(forgotten.map { id($0.user) })::int8[], \(forgotten.map { id($0.author) })::int8[]))
                """, logger: logger)
        }
        let kept = batch.affinities.compactMap { row in row.counts.map { (user: row.user, author: row.author, counts: $0) } }
        if !kept.isEmpty {
            try await connection.query(
                """
                INSERT INTO affinity (user_id, author_id, likes, replies, reposts, at_ms)
                SELECT * FROM UNNEST(\(kept.map { id($0.user) })::int8[], \(kept.map { id($0.author) })::int8[],
                                     \(kept.map(\.counts.likes))::float8[], \(kept.map(\.counts.replies))::float8[],
                                     \(kept.map(\.counts.reposts))::float8[], \(kept.map(\.counts.at))::int8[])
                ON CONFLICT (user_id, author_id) DO UPDATE
                SET likes = EXCLUDED.likes, replies = EXCLUDED.replies, reposts = EXCLUDED.reposts, at_ms = EXCLUDED.at_ms
                """, logger: logger)
        }
        try await Self.notificationStatements(batch, id: id, on: connection, logger: logger)
        if !batch.deletedPosts.isEmpty {
            // A post's reposts go with it (memory dropped those it held).
            try await connection.query(
                """
                UPDATE posts SET deleted_at = now()
                WHERE (id = ANY(\(batch.deletedPosts)::int8[])
                       OR (link_id = ANY(\(batch.deletedPosts)::int8[]) AND kind = 2))
                  AND deleted_at IS NULL
                """, logger: logger)
        }
    }

    /// In cluster mode, the batch's actions other nodes need, as one row of
    /// the change feed, last in the transaction: its position is taken
    /// under a lock held until COMMIT, so positions commit in order; the
    /// notification wakes the other nodes when it commits.
    private static func changeFeed(
        _ entry: ChangeFeedEntry, ids: [UInt32: Int64], on connection: PostgresConnection, logger: Logger
    ) async throws {
        let changes = entry.mutations.compactMap { ClusterChange($0, id: { ids[$0]! }) }
        guard !changes.isEmpty else { return }
        // One round trip: the lock is taken as the row is formed, before its
        // position is drawn; pg_notify is sent at COMMIT.
        try await connection.query(
            """
            INSERT INTO cluster_changes (node, at_ms, payload)
            SELECT \(Int32(entry.node)), \(entry.at), \(ClusterChange.encode(changes))
            FROM (SELECT pg_advisory_xact_lock(\(ChangeFeedEntry.lock))) AS locked
            RETURNING pg_notify(\(ChangeFeedEntry.channel), '')
            """, logger: logger)
    }

    /// Notification groups that went, then sources as the batch leaves them, then marks.
    private static func notificationStatements(
        _ batch: MutationBatch, id: (UInt32) -> Int64, on connection: PostgresConnection, logger: Logger
    ) async throws {
        let gone = batch.notificationGroupsRemoved
        if !gone.isEmpty {
            for table in ["notifications", "notification_reads"] {
                try await connection.query(
                    """
                    DELETE FROM \(unescaped: table) WHERE (user_id, verb, object, day) IN (
                        SELECT * FROM UNNEST(\(gone.map { id($0.user) })::int8[], \(gone.map { Int16($0.group.verb.rawValue) })::int2[],
                                             \(gone.map { Int64(bitPattern: $0.group.object) })::int8[], \(gone.map { $0.group.day })::int4[]))
                    """, logger: logger)
            }
        }
        let removed = batch.notificationSourcesRemoved
        if !removed.isEmpty {
            try await connection.query(
                """
                DELETE FROM notifications WHERE (user_id, verb, object, day, actor_id, source) IN (
                    SELECT * FROM UNNEST(\(removed.map { id($0.user) })::int8[], \(removed.map { Int16($0.group.verb.rawValue) })::int2[],
                                         \(removed.map { Int64(bitPattern: $0.group.object) })::int8[], \(removed.map { $0.group.day })::int4[],
                                         \(removed.map { id($0.actor) })::int8[], \(removed.map { Int64(bitPattern: $0.source.id) })::int8[]))
                """, logger: logger)
        }
        let added = batch.notificationSourcesAdded
        if !added.isEmpty {
            try await connection.query(
                """
                INSERT INTO notifications (user_id, verb, object, day, actor_id, source, at_ms, ord)
                SELECT * FROM UNNEST(\(added.map { id($0.user) })::int8[], \(added.map { Int16($0.group.verb.rawValue) })::int2[],
                                     \(added.map { Int64(bitPattern: $0.group.object) })::int8[], \(added.map { $0.group.day })::int4[],
                                     \(added.map { id($0.actor) })::int8[], \(added.map { Int64(bitPattern: $0.source.id) })::int8[],
                                     \(added.map(\.source.at))::int8[], \(added.map { Int64(bitPattern: $0.source.order) })::int8[])
                ON CONFLICT (user_id, verb, object, day, actor_id, source) DO UPDATE SET at_ms = EXCLUDED.at_ms, ord = EXCLUDED.ord
                """, logger: logger)
        }
        let reads = batch.notificationReads
        if !reads.isEmpty {
            try await connection.query(
                """
                INSERT INTO notification_reads (user_id, verb, object, day, ord)
                SELECT * FROM UNNEST(\(reads.map { id($0.user) })::int8[], \(reads.map { Int16($0.group.verb.rawValue) })::int2[],
                                     \(reads.map { Int64(bitPattern: $0.group.object) })::int8[], \(reads.map { $0.group.day })::int4[],
                                     \(reads.map { Int64(bitPattern: $0.order) })::int8[])
                ON CONFLICT (user_id, verb, object, day) DO UPDATE SET ord = EXCLUDED.ord
                """, logger: logger)
        }
        let seen = batch.notificationsSeen
        if !seen.isEmpty {
            try await connection.query(
                """
                INSERT INTO notification_seen (user_id, ord)
                SELECT * FROM UNNEST(\(seen.map { id($0.user) })::int8[], \(seen.map { Int64(bitPattern: $0.order) })::int8[])
                ON CONFLICT (user_id) DO UPDATE SET ord = EXCLUDED.ord
                """, logger: logger)
        }
    }
}
