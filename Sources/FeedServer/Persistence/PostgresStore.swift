import Foundation
import Logging
import PostgresNIO
import Timeline

/// What commands fetch from PostgreSQL when memory does not hold it: posts
/// and bodies it let go, posts older than it keeps, likers, post counts.
/// Authors come back by name: store ids are never the engine's numbers.
struct PostgresStore: Sendable {
    let client: PostgresClient
    let keys: UserKeys
    /// Where this process's own history begins (see `StoreBaseline`).
    let baseline: StoreBaseline
    /// The database's clock when this process started: deletes stamped
    /// after it are this process's own.
    let startedAt: Date
    let logger: Logger

    /// The columns every post read returns, `StoredPost.decode` reads them:
    /// a repost comes with its original's body and counts.
    static let columns = """
        p.id, u.name, COALESCE(o.body, p.body), p.kind, COALESCE(p.link_id, 0), la.name, COALESCE(o.like_count, p.like_count),
        (SELECT count(*) FROM posts r WHERE r.link_id = COALESCE(o.id, p.id) AND r.kind = 1 AND r.deleted_at IS NULL),
        (SELECT count(*) FROM posts r WHERE r.link_id = COALESCE(o.id, p.id) AND r.kind = 2 AND r.deleted_at IS NULL)
        """
    /// What `columns` needs joined to `p`, a posts row.
    static let joins = """
        JOIN users u ON u.id = p.author_id
        LEFT JOIN posts o ON p.kind = 2 AND o.id = p.link_id
        LEFT JOIN users la ON la.id = p.link_author_id
        """
    typealias Row = (Int64, String, String, Int16, Int64, String?, Int32, Int64, Int64)

    static func post(_ row: Row) -> StoredPost {
        StoredPost(
            id: UInt64(bitPattern: row.0), author: row.1, body: row.2, likes: Int(row.6), replies: Int(row.7),
            reposts: Int(row.8), kind: PostKind(rawValue: UInt8(clamping: row.3)) ?? .post, link: UInt64(bitPattern: row.4),
            linkAuthor: row.5)
    }

    /// Live posts by id (`FEED.GET`, entries whose record memory let go, missing bodies).
    func posts(_ ids: [UInt64]) async throws -> [UInt64: StoredPost] {
        guard !ids.isEmpty else { return [:] }
        var posts: [UInt64: StoredPost] = [:]
        let rows = try await self.client.query(
            """
            SELECT \(unescaped: Self.columns) FROM posts p \(unescaped: Self.joins)
            WHERE p.id = ANY(\(ids.map { Int64(bitPattern: $0) })::int8[]) AND p.deleted_at IS NULL
            """, logger: self.logger)
        for try await row in rows.decode(Row.self) {
            let post = Self.post(row)
            posts[post.id] = post
        }
        return posts
    }

    /// Up to `continuation.count` live posts by its authors, strictly older
    /// than its `before`, newest first. One index walk per author, each
    /// stopping at the count, so a reader following thousands stays cheap.
    /// For FEED.REPLIES, the post's replies instead.
    func olderPosts(_ continuation: StoreContinuation) async throws -> [FeedEntry] {
        let limit = Int32(clamping: continuation.storeLimit)
        let before = Int64(bitPattern: continuation.before)
        let rows: PostgresRowSequence
        if let replyTo = continuation.replyTo {
            rows = try await self.client.query(
                """
                SELECT \(unescaped: Self.columns) FROM posts p \(unescaped: Self.joins)
                WHERE p.link_id = \(Int64(bitPattern: replyTo)) AND p.kind = 1 AND p.id < \(before) AND p.deleted_at IS NULL
                ORDER BY p.id DESC LIMIT \(limit)
                """, logger: self.logger)
        } else {
            let authors = self.keys.ids(of: continuation.authors)
            guard !authors.isEmpty else { return [] }
            rows = try await self.client.query(
                """
                SELECT \(unescaped: Self.columns) FROM UNNEST(\(authors)::int8[]) AS a(id)
                CROSS JOIN LATERAL (
                    SELECT * FROM posts
                    WHERE author_id = a.id AND id < \(before) AND deleted_at IS NULL
                    ORDER BY id DESC LIMIT \(limit)) AS p
                \(unescaped: Self.joins)
                ORDER BY p.id DESC LIMIT \(limit)
                """, logger: self.logger)
        }
        var entries: [FeedEntry] = []
        for try await row in rows.decode(Row.self) { entries.append(Self.post(row).entry) }
        return entries
    }

    /// Who liked a post.
    func likers(of id: UInt64) async throws -> [String] {
        let rows = try await self.client.query(
            "SELECT u.name FROM likes l JOIN users u ON u.id = l.user_id WHERE l.post_id = \(Int64(bitPattern: id))",
            logger: self.logger)
        var names: [String] = []
        for try await name in rows.decode(String.self) { names.append(name) }
        return names
    }

    /// The user's live posts when this process started, counting those it
    /// deleted since as live (memory counts its own deletes).
    func postCount(of user: String) async throws -> Int {
        let rows = try await self.client.query(
            """
            SELECT count(*) FROM posts p JOIN users u ON u.id = p.author_id
            WHERE u.name = \(user) AND p.id <= \(Int64(bitPattern: self.baseline.maxPostID))
              AND (p.deleted_at IS NULL OR p.deleted_at >= \(self.startedAt))
            """, logger: self.logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    /// What a store fault asks for, fetched. Nil when the post is not in the
    /// store (or deleted there).
    func answer(_ fault: StoreFault) async throws -> FaultAnswer? {
        switch fault {
        case .post(let id):
            return try await self.posts([id])[id].map { FaultAnswer.post($0, likers: nil) }
        case .likers(let id):
            guard let post = try await self.posts([id])[id] else { return nil }
            return .post(post, likers: post.likes == 0 ? [] : try await self.likers(of: id))
        case .postCount(let user):
            return .postCount(user: user, count: try await self.postCount(of: user))
        case .repost(let user, let original):
            let rows = try await self.client.query(
                """
                SELECT \(unescaped: Self.columns) FROM posts p \(unescaped: Self.joins)
                WHERE p.link_id = \(Int64(bitPattern: original)) AND p.kind = 2 AND u.name = \(user) AND p.deleted_at IS NULL
                LIMIT 1
                """, logger: self.logger)
            var found: StoredPost? = nil
            for try await row in rows.decode(Row.self) { found = Self.post(row) }
            return .repost(user: user, post: original, found: found)
        case .linked(let id):
            return try await self.posts([id])[id].map { FaultAnswer.post($0, likers: nil) } ?? .absent(id)
        case .reposts(let id):
            let rows = try await self.client.query(
                """
                SELECT \(unescaped: Self.columns) FROM posts p \(unescaped: Self.joins)
                WHERE p.link_id = \(Int64(bitPattern: id)) AND p.kind = 2 AND p.deleted_at IS NULL
                """, logger: self.logger)
            var reposts: [StoredPost] = []
            for try await row in rows.decode(Row.self) { reposts.append(Self.post(row)) }
            return .reposts(of: id, reposts)
        }
    }
}

extension StoredPost {
    /// The post as a read returns it.
    var entry: FeedEntry {
        FeedEntry(
            id: self.id, author: self.author, createdMilliseconds: PostID.createdMilliseconds(self.id), body: self.body,
            meta: EntryMeta(
                kind: self.kind, link: self.link, linkAuthor: self.linkAuthor, likes: self.likes, replies: self.replies,
                reposts: self.reposts))
    }
}

/// The answers one command has had so far: each retry installs them all.
struct FaultAnswers: Sendable {
    var all: [FaultAnswer] = []

    func install(into engine: inout FeedEngine, now: Int64) {
        for answer in self.all { answer.install(into: &engine, now: now) }
    }
}

/// The store's answer to a `StoreFault`, ready to install.
enum FaultAnswer: Sendable {
    case post(StoredPost, likers: [String]?)
    case postCount(user: String, count: Int)
    /// The user's repost of the post, if any.
    case repost(user: String, post: UInt64, found: StoredPost?)
    /// The store does not have the post (any more).
    case absent(UInt64)
    case reposts(of: UInt64, [StoredPost])

    func install(into engine: inout FeedEngine, now: Int64) {
        switch self {
        case .repost(let user, let post, let found):
            engine.installRepost(user: user, post: post, found: found, now: now)
        case .absent(let id):
            engine.installAbsent(id, now: now)
        case .reposts(let id, let reposts):
            engine.installReposts(of: id, reposts, now: now)
        case .post(let post, let likers):
            engine.installPost(post, now: now)
            if let likers { engine.installLikers(post: post.id, likers: likers, now: now) }
        case .postCount(let user, let count):
            engine.installPostCount(user: user, count: count)
        }
    }
}
