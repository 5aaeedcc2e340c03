import Logging
import NIOCore
import PostgresNIO
import Synchronization
import Timeline

/// Applies the other nodes' changes to this node's engine, in the change
/// feed's order (docs/adr/0015-cluster.md): woken by their NOTIFY, and
/// every 100 ms regardless (a notification lost with a connection costs at
/// most that). Each change goes through the engine's own code with
/// `replaying` set, with the store answering what memory no longer holds,
/// as a command's would. Once a second it records how far it got, and
/// trims what every node has applied.
struct ChangeApplier: Sendable {
    let context: ServerContext
    let feed: ChangeFeed
    let client: PostgresClient
    let logger: Logger

    /// Runs until cancelled.
    func run() async {
        let listener = Task { await self.listen() }
        defer { listener.cancel() }
        var names: [Int64: String] = [:]
        var recorded = ContinuousClock.now
        while !Task.isCancelled {
            await self.feed.waitForRing(atMost: .milliseconds(100))
            do {
                try await self.catchUp(names: &names)
                if ContinuousClock.now - recorded >= .seconds(1) {
                    recorded = .now
                    try await self.recordProgress()
                }
            } catch {
                self.feed.errors.add(1, ordering: .relaxed)
                self.logger.warning("Could not apply the cluster's change feed: \(String(reflecting: error))")
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// LISTENs for the other nodes' commits, on a connection of its own, reconnecting as needed.
    private func listen() async {
        while !Task.isCancelled {
            do {
                try await self.client.withConnection { connection in
                    try await connection.listen(on: ChangeFeedEntry.channel) { notifications in
                        self.feed.ring()  // whatever committed before LISTEN took hold
                        for try await _ in notifications { self.feed.ring() }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Applies every change past the watermark, a page at a time.
    private func catchUp(names: inout [Int64: String]) async throws {
        let me = self.feed.node.load(ordering: .relaxed)
        while !Task.isCancelled {
            let after = self.feed.applied.load(ordering: .relaxed)
            var rows: [(position: Int64, node: Int32, at: Int64, payload: ByteBuffer)] = []
            for try await row in try await self.client.query(
                """
                SELECT position, node, at_ms, payload FROM cluster_changes
                WHERE position > \(after) ORDER BY position LIMIT 256
                """, logger: self.logger
            ).decode((Int64, Int32, Int64, ByteBuffer).self) {
                rows.append((row.0, row.1, row.2, row.3))
            }
            guard let last = rows.last else { return }
            self.feed.newest.store(Swift.max(self.feed.newest.load(ordering: .relaxed), last.position), ordering: .relaxed)
            for row in rows {
                if Int(row.node) != me {
                    let changes = try ClusterChange.decode(row.payload)
                    try await self.resolve(changes.flatMap(\.users), into: &names)
                    for change in changes { try await self.apply(change, names: names) }
                    self.feed.changesApplied.add(changes.count, ordering: .relaxed)
                    self.feed.lastLagMilliseconds.store(Int(WallClock.milliseconds() - row.at), ordering: .relaxed)
                }
                self.feed.entriesRead.add(1, ordering: .relaxed)
                self.feed.applied.store(row.position, ordering: .releasing)
            }
        }
    }

    /// Names for store ids this node has not met yet.
    private func resolve(_ ids: [Int64], into names: inout [Int64: String]) async throws {
        let missing = Array(Set(ids.filter { names[$0] == nil }))
        guard !missing.isEmpty else { return }
        for try await (id, name) in try await self.client.query(
            "SELECT id, name FROM users WHERE id = ANY(\(missing)::int8[])", logger: self.logger
        ).decode((Int64, String).self) {
            names[id] = name
        }
        if let unknown = missing.first(where: { names[$0] == nil }) { throw UnknownUser(id: unknown) }
    }

    /// One change, retried with the store's answers while memory lacks
    /// something, and while the journal has no room for what it adds.
    private func apply(_ change: ClusterChange, names: [Int64: String]) async throws {
        let server = self.context
        var answers = FaultAnswers()
        var tries = 0
        while true {
            let events = server.feedEvents
            let now = WallClock.milliseconds()
            let outcome = server.journaledWrite(bytes: FeedCommands.smallWrite * 2, grows: false) {
                (engine) throws(FeedError) -> Void in
                answers.install(into: &engine, now: now)
                engine.replaying = true
                defer { engine.replaying = false }
                try Self.apply(change, names: names, to: &engine, events: events, now: now)
            }
            events.drain()
            switch outcome {
            case .done: return
            case .refused, .outOfMemory:
                try await Task.sleep(for: .milliseconds(20))  // the journal drains; nothing is skipped
            case .failed(.notInMemory(let fault)):
                tries += 1
                self.feed.faults.add(1, ordering: .relaxed)
                guard tries <= 4, let store = server.persistence?.currentStore else { throw Unanswered(fault: fault) }
                // The store has no such post (any more): nothing here to change.
                guard let answer = try await store.answer(fault) else { return }
                answers.all.append(answer)
            case .failed(let error):
                // What the other node did cannot happen here the same way
                // (its post is gone already, say): nothing to apply.
                self.logger.debug("Skipped a change from another node: \(error)")
                return
            }
        }
    }

    /// One change to the engine, under its lock (the replication test drives this directly).
    static func apply(
        _ change: ClusterChange, names: [Int64: String], to engine: inout FeedEngine, events: FeedEvents, now: Int64
    ) throws(FeedError) {
        func name(_ id: Int64) -> String { names[id]! }
        switch change {
        case .post(let id, let author, let body, let kind, let link, let linkAuthor):
            let linkName = linkAuthor >= 0 ? name(linkAuthor) : nil
            guard engine.replayPost(id: id, author: name(author), body: body, kind: kind, link: link, linkAuthor: linkName, now: now)
            else { return }
            if events.isListenedTo {
                // A repost goes live with its original's body, as FEED.REPOST's does.
                let shown = kind == .repost ? (engine.get([id]).first ?? nil)?.body ?? "" : body
                events.postCreated(id: id, author: name(author), body: shown, engine: engine)
            }
        case .delete(let id, let author):
            if try engine.delete(author: name(author), post: id, now: now) {
                events.postDeleted(id: id, author: name(author), engine: engine)
            }
        case .follow(let follower, let followee, true): _ = engine.replayFollow(follower: name(follower), followee: name(followee), now: now)
        case .follow(let follower, let followee, false): _ = try engine.unfollow(follower: name(follower), followee: name(followee))
        case .hideReposts(let follower, let followee, let hidden):
            engine.replayRepostsHidden(follower: name(follower), followee: name(followee), hidden: hidden, now: now)
        case .like(let user, let post, true): _ = try engine.like(user: name(user), post: post, now: now)
        case .like(let user, let post, false): _ = try engine.unlike(user: name(user), post: post)
        case .mute(let user, let target, true): _ = try engine.mute(user: name(user), target: name(target), now: now)
        case .mute(let user, let target, false): _ = try engine.unmute(user: name(user), target: name(target))
        case .block(let user, let target, true): _ = try engine.block(user: name(user), target: name(target), now: now)
        case .block(let user, let target, false): _ = try engine.unblock(user: name(user), target: name(target))
        case .notified(let user, let group, let actor, let source, let added):
            engine.replayNotified(user: name(user), group: group, actor: name(actor), source: source, added: added, now: now)
        case .groupRemoved(let user, let group): engine.replayNotificationGroupRemoved(user: name(user), group: group)
        case .mark(let user, let group, let order): engine.replayNotificationMark(user: name(user), group: group, order: order)
        }
    }

    struct UnknownUser: Error, CustomStringConvertible {
        let id: Int64
        var description: String { "the change feed names user \(self.id), whom the users table does not have" }
    }

    struct Unanswered: Error, CustomStringConvertible {
        let fault: StoreFault
        var description: String { "memory could not keep what PostgreSQL answered for \(self.fault)" }
    }

    /// How far this node got, in its row; and the feed trimmed below every node's.
    private func recordProgress() async throws {
        let applied = self.feed.applied.load(ordering: .relaxed)
        let me = Int32(self.feed.node.load(ordering: .relaxed))
        try await self.client.query("UPDATE cluster_nodes SET applied = \(applied) WHERE number = \(me)", logger: self.logger)
        try await self.client.query(
            "DELETE FROM cluster_changes WHERE position <= (SELECT min(applied) FROM cluster_nodes)", logger: self.logger)
    }
}
