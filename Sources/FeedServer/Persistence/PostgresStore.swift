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

    /// Live posts by id (`FEED.GET`, entries whose record memory let go, missing bodies).
    func posts(_ ids: [UInt64]) async throws -> [UInt64: StoredPost] {
        guard !ids.isEmpty else { return [:] }
        var posts: [UInt64: StoredPost] = [:]
        let rows = try await self.client.query(
            """
            SELECT p.id, u.name, p.body, p.like_count FROM posts p JOIN users u ON u.id = p.author_id
            WHERE p.id = ANY(\(ids.map { Int64(bitPattern: $0) })::int8[]) AND p.deleted_at IS NULL
            """, logger: self.logger)
        for try await (id, author, body, likes) in rows.decode((Int64, String, String, Int32).self) {
            posts[UInt64(bitPattern: id)] = StoredPost(id: UInt64(bitPattern: id), author: author, body: body, likes: Int(likes))
        }
        return posts
    }

    /// Up to `continuation.count` live posts by its authors, strictly older
    /// than its `before`, newest first. One index walk per author, each
    /// stopping at the count, so a reader following thousands stays cheap.
    func olderPosts(_ continuation: StoreContinuation) async throws -> [FeedEntry] {
        let authors = self.keys.ids(of: continuation.authors)
        guard !authors.isEmpty else { return [] }
        let limit = Int32(clamping: continuation.storeLimit)
        let rows = try await self.client.query(
            """
            SELECT p.id, u.name, p.body FROM UNNEST(\(authors)::int8[]) AS a(id)
            CROSS JOIN LATERAL (
                SELECT id, author_id, body FROM posts
                WHERE author_id = a.id AND id < \(Int64(bitPattern: continuation.before)) AND deleted_at IS NULL
                ORDER BY id DESC LIMIT \(limit)) AS p
            JOIN users u ON u.id = p.author_id
            ORDER BY p.id DESC LIMIT \(limit)
            """, logger: self.logger)
        var entries: [FeedEntry] = []
        for try await (id, author, body) in rows.decode((Int64, String, String).self) {
            let post = UInt64(bitPattern: id)
            entries.append(FeedEntry(id: post, author: author, createdMilliseconds: PostID.createdMilliseconds(post), body: body))
        }
        return entries
    }

    /// Up to `catchUp.storeLimit` live posts by its authors newer than its
    /// `after` and older than its `below`, oldest first.
    func newerPosts(_ catchUp: StoreCatchUp) async throws -> [FeedEntry] {
        let authors = self.keys.ids(of: catchUp.authors)
        guard !authors.isEmpty else { return [] }
        let limit = Int32(clamping: catchUp.storeLimit)
        let rows = try await self.client.query(
            """
            SELECT p.id, u.name, p.body FROM UNNEST(\(authors)::int8[]) AS a(id)
            CROSS JOIN LATERAL (
                SELECT id, author_id, body FROM posts
                WHERE author_id = a.id AND id > \(Int64(bitPattern: catchUp.after))
                  AND id < \(Int64(bitPattern: catchUp.below)) AND deleted_at IS NULL
                ORDER BY id ASC LIMIT \(limit)) AS p
            JOIN users u ON u.id = p.author_id
            ORDER BY p.id ASC LIMIT \(limit)
            """, logger: self.logger)
        var entries: [FeedEntry] = []
        for try await (id, author, body) in rows.decode((Int64, String, String).self) {
            let post = UInt64(bitPattern: id)
            entries.append(FeedEntry(id: post, author: author, createdMilliseconds: PostID.createdMilliseconds(post), body: body))
        }
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
        }
    }
}

/// The store's answer to a `StoreFault`, ready to install.
enum FaultAnswer: Sendable {
    case post(StoredPost, likers: [String]?)
    case postCount(user: String, count: Int)

    func install(into engine: inout FeedEngine, now: Int64) {
        switch self {
        case .post(let post, let likers):
            engine.installPost(post, now: now)
            if let likers { engine.installLikers(post: post.id, likers: likers, now: now) }
        case .postCount(let user, let count):
            engine.installPostCount(user: user, count: count)
        }
    }
}
