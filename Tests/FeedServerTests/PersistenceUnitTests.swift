@testable import FeedServer
import NIOCore
import NIOEmbedded
import PostgresNIO
import Synchronization
import Testing
import Timeline

/// The persistence pieces that need no database: how a batch nets its
/// mutations, how the journal bounds and commits, how migrations split.
@Suite struct MutationBatchTests {
    @Test func followsKeepTheirLastStateInABatch() {
        let batch = MutationBatch([
            .followed(follower: 1, followee: 2), .unfollowed(follower: 1, followee: 2),  // ends unfollowed
            .unfollowed(follower: 3, followee: 4), .followed(follower: 3, followee: 4),  // ends followed
            .followed(follower: 5, followee: 6),
        ])
        #expect(batch.followsRemoved.map { [$0.follower, $0.followee] } == [[1, 2]])
        #expect(batch.followsAdded.map { [$0.follower, $0.followee] } == [[3, 4], [5, 6]])
    }

    @Test func likesKeepTheirLastStateInABatch() {
        let batch = MutationBatch([
            .liked(user: 1, post: 10), .unliked(user: 1, post: 10), .liked(user: 2, post: 10),
            .unliked(user: 3, post: 11), .liked(user: 3, post: 11),
        ])
        #expect(batch.likesRemoved.map { [$0.post, Int64($0.user)] } == [[10, 1]])
        #expect(batch.likesAdded.map { [$0.post, Int64($0.user)] } == [[10, 2], [11, 3]])
    }

    @Test func usersPostsAndDeletesKeepEngineOrder() {
        let id = PostID.lowest(atMilliseconds: 1_795_000_000_000) + 7
        let batch = MutationBatch([
            .userCreated(user: 0, name: "alice"), .postCreated(post: id, author: 0, body: "hi"),
            .postDeleted(post: id, author: 0), .userCreated(user: 1, name: "bob"),
        ])
        #expect(batch.newUsers.map(\.number) == [0, 1] && batch.newUsers.map(\.name) == ["alice", "bob"])
        #expect(batch.users == [0, 1])
        #expect(batch.postIDs == [Int64(id)] && batch.postBodies == ["hi"])
        #expect(batch.postCreatedMilliseconds == [1_795_000_000_000])
        #expect(batch.deletedPosts == [Int64(id)])
    }

    /// A group that goes takes what the batch did to it before; what comes
    /// after (a new actor, a read mark) survives it; sources and marks keep
    /// their last state.
    @Test func notificationsKeepTheirLastStateAndAGroupThatWentTakesItsEarlierRows() {
        let like = NotificationKey(verb: .like, object: 10, day: 20000)
        let follow = NotificationKey(verb: .follow, object: 0, day: 20000)
        func source(_ order: UInt64) -> NotificationSource { NotificationSource(id: 0, at: 1000 + Int64(order), order: order) }
        let batch = MutationBatch([
            .notified(user: 1, group: like, actor: 2, source: source(1), added: true),
            .notificationRead(user: 1, group: like, order: 2),
            .notificationGroupRemoved(user: 1, group: like),  // takes the two above
            .notified(user: 1, group: like, actor: 3, source: source(3), added: true),
            .notified(user: 1, group: follow, actor: 4, source: source(4), added: true),
            .notified(user: 1, group: follow, actor: 4, source: source(4), added: false),
            .notified(user: 1, group: follow, actor: 4, source: source(5), added: true),  // unfollow, follow again
            .notified(user: 1, group: follow, actor: 5, source: source(6), added: false),
            .notificationsSeen(user: 1, order: 7), .notificationsSeen(user: 1, order: 8),
            .notificationRead(user: 1, group: like, order: 9),
        ])
        #expect(batch.notificationGroupsRemoved.map { "\($0.user) \($0.group)" } == ["1 like:10:20000"])
        #expect(batch.notificationSourcesAdded.map { "\($0.actor) \($0.group) \($0.source.order)" } == ["3 like:10:20000 3", "4 follow:0:20000 5"])
        #expect(batch.notificationSourcesRemoved.map { "\($0.actor) \($0.group)" } == ["5 follow:0:20000"])
        #expect(batch.notificationReads.map { "\($0.group) \($0.order)" } == ["like:10:20000 9"])
        #expect(batch.notificationsSeen.map { [UInt64($0.user), $0.order] } == [[1, 8]])
        #expect(batch.users == [1, 3, 4, 5])
    }
}

@Suite struct JournalTests {
    @Test func appendsInOrderAndCommitsThrough() {
        let journal = Journal(maxEntries: 100, maxBytes: 1 << 20)
        let first = journal.append([.followed(follower: 1, followee: 2)])
        let last = journal.append([.userCreated(user: 3, name: "c"), .followed(follower: 3, followee: 1)])
        #expect(first == 1 && last == 3)
        #expect(journal.batch(limit: 2).map(\.lsn) == [1, 2])
        journal.commit(through: 2)
        #expect(journal.backlog.entries == 1)
        #expect(journal.batch(limit: 10).map(\.lsn) == [3])
        #expect(journal.committed.load(ordering: .relaxed) == 2)
        #expect(journal.append([]) == 3)
    }

    @Test func isBoundedInEntriesAndBytes() {
        let byEntries = Journal(maxEntries: 2, maxBytes: 1 << 20)
        byEntries.append([.followed(follower: 1, followee: 2), .followed(follower: 2, followee: 1)])
        #expect(!byEntries.hasRoom(for: 1))
        byEntries.commit(through: 1)
        #expect(byEntries.hasRoom(for: 1))

        let byBytes = Journal(maxEntries: 100, maxBytes: 1000)
        byBytes.append([.postCreated(post: 1, author: 0, body: String(repeating: "b", count: 800))])
        #expect(!byBytes.hasRoom(for: 200))
        #expect(byBytes.hasRoom(for: 100))
    }

    @Test func waitersCompleteOnceTheirLSNCommits() throws {
        let loop = EmbeddedEventLoop()
        let journal = Journal(maxEntries: 100, maxBytes: 1 << 20)
        let lsn = journal.append([.followed(follower: 1, followee: 2), .followed(follower: 2, followee: 3)])
        let completed = Mutex<[UInt64]>([])
        journal.whenCommitted(1, on: loop).whenSuccess { completed.withLock { $0.append(1) } }
        journal.whenCommitted(lsn, on: loop).whenSuccess { completed.withLock { $0.append(lsn) } }
        loop.run()
        #expect(completed.withLock { $0 } == [])
        journal.commit(through: 1)
        loop.run()
        #expect(completed.withLock { $0 } == [1])
        journal.commit(through: lsn)
        loop.run()
        #expect(completed.withLock { $0 } == [1, lsn])
        // Already committed: completes at once.
        journal.whenCommitted(1, on: loop).whenSuccess { completed.withLock { $0.append(99) } }
        loop.run()
        #expect(completed.withLock { $0 }.last == 99)
    }
}

@Suite struct MigrationTests {
    @Test func filesSplitIntoStatementsWithoutComments() {
        let sql = """
            -- a comment
            CREATE TABLE a (
                id integer PRIMARY KEY  -- trailing comment
            );
            CREATE INDEX a_idx ON a (id);

            """
        #expect(Migrations.statements(in: sql) == ["CREATE TABLE a (\nid integer PRIMARY KEY\n)", "CREATE INDEX a_idx ON a (id)"])
    }

    @Test func theBundledMigrationsAreNumberedInOrder() throws {
        let migrations = try Migrations.bundled()
        #expect(!migrations.isEmpty)
        #expect(migrations.map(\.version) == migrations.map(\.version).sorted())
        #expect(migrations.first?.version == 1)
        let statements = migrations.flatMap(\.statements).joined(separator: "\n")
        for table in ["users", "follows", "posts", "likes"] { #expect(statements.contains("CREATE TABLE \(table)")) }
        #expect(statements.contains("posts (author_id, id DESC)"))
        #expect(statements.contains("PRIMARY KEY (follower_id, followee_id)"))
    }

    @Test func postgresURLsBecomeClientSettings() throws {
        let tcp = try PostgresEndpoint(url: "postgres://feed:secret@db.local:5433/feeds").clientConfiguration
        #expect(tcp.host == "db.local" && tcp.port == 5433 && tcp.username == "feed" && tcp.password == "secret")
        #expect(tcp.database == "feeds")
        let socket = try PostgresEndpoint(url: "postgresql:///feeds?host=/var/run/postgresql&user=app").clientConfiguration
        #expect(socket.unixSocketPath == "/var/run/postgresql/.s.PGSQL.5432" && socket.username == "app")
        #expect(throws: (any Error).self) { try PostgresEndpoint(url: "mysql://x/y") }
    }
}
