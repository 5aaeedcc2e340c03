import NIOCore
import RESP
import Synchronization
import Timeline

/// The FEED.* commands: each checks its arguments, makes one engine call
/// under the engine's lock, and writes its reply. Writes are journaled for
/// PostgreSQL; reads that need PostgreSQL (an evicted body, posts older than
/// memory holds) complete later, in order.
enum FeedCommands {
    static let all: [CommandSpec] = [
        post, delete, follow, unfollow, read, posts, get, followers, following, stats, like, unlike, sync, token,
        repost, unrepost, replies, mute, unmute, block, unblock, mutes, blocks, notifications, mark,
    ]

    /// Runs `body`, replying with its error in Redis's form if it throws.
    static func run(_ state: inout ConnectionState, _ body: (inout ConnectionState) throws(CommandError) -> Void) {
        do {
            try body(&state)
        } catch {
            state.reply.error(error.message)
        }
    }

    static let user = CommandArgument("user", .string)
    static let postID = CommandArgument("post-id", .integer)
    static let count = CommandArgument("count", .integer, token: "COUNT", optional: true)
    static let before = CommandArgument("post-id", .integer, token: "BEFORE", optional: true)
    static let after = CommandArgument("user", .string, token: "AFTER", optional: true)
    /// Journal bytes of a write that is not a post.
    static let smallWrite = 160

    static let post = CommandSpec(
        "feed.post", arity: -3, flags: ["write", "denyoom", "fast"], categories: ["@write", "@fast", "@feed"], firstKey: 1,
        summary:
            "Publishes a post, or with REPLYTO a reply; returns its id as a decimal string. Pushed to followers, or pulled at read time for celebrities.",
        since: "0.1.0", group: "feed", complexity: "O(F) where F is the author's number of active followers",
        arguments: [
            CommandArgument("author", .string), CommandArgument("body", .string),
            CommandArgument("post-id", .integer, token: "REPLYTO", optional: true),
        ]
    ) { call, state in
        run(&state) { state throws(CommandError) in
            let author = try FeedArguments.user(call, 1)
            let body = try FeedArguments.body(call, 2)
            var replyTo: UInt64? = nil
            if call.count > 3 {
                guard call.count == 5, call.argument(3, is: "REPLYTO") else { throw .syntax }
                replyTo = try FeedArguments.postID(call, 4)
            }
            let bytes = Journal.size(of: .postCreated(post: 0, author: 0, body: body)) + Self.smallWrite
            let server = call.server
            let parent = replyTo
            call.faulting(state: &state) { answer in
                let events = server.feedEvents
                defer { events.drain() }
                return Attempt.writing(server, installing: answer, bytes: bytes, grows: true) { (engine, now) throws(FeedError) -> UInt64 in
                    let timer = CelebrityCostTimer(engine, counting: \.fanoutDeliveries)
                    let id = try engine.post(author: author, body: body, replyTo: parent, now: now)
                    if let timer {
                        engine.noteFanOutCost(nanos: timer.nanoseconds, deliveries: engine.counters.fanoutDeliveries - timer.counted)
                    }
                    events.postCreated(id: id, author: author, body: body, engine: engine)
                    return id
                }
            } absent: { reply in
                reply.error(CommandError.feed(.noSuchPost).message)
            } reply: { id, reply in
                reply.bulk(decimal: Int64(id))  // a string: exact in every client (ADR 0010)
            }
        }
    }

    static let delete = CommandSpec(
        "feed.delete", arity: 3, flags: ["write", "fast"], categories: ["@write", "@fast", "@feed"], firstKey: 1,
        summary: "Deletes a post from every feed; 1 if deleted, 0 if not found or not the author's.",
        since: "0.1.0", group: "feed", complexity: "O(F) where F is the author's number of followers",
        arguments: [CommandArgument("author", .string), postID]
    ) { call, state in
        run(&state) { state throws(CommandError) in
            let author = try FeedArguments.user(call, 1)
            let id = try FeedArguments.postID(call, 2)
            let server = call.server
            call.faulting(state: &state) { answer in
                let events = server.feedEvents
                defer { events.drain() }
                return Attempt.writing(server, installing: answer, bytes: Self.smallWrite, grows: false) { (engine, now) throws(FeedError) in
                    let deleted = try engine.delete(author: author, post: id, now: now)
                    if deleted { events.postDeleted(id: id, author: author, engine: engine) }
                    return deleted
                }
            } absent: { reply in
                reply.integer(0)
            } reply: { deleted, reply in
                reply.integer(deleted ? 1 : 0)
            }
        }
    }

    static let follow = CommandSpec(
        "feed.follow", arity: -3, flags: ["write", "denyoom", "fast"], categories: ["@write", "@fast", "@feed"], firstKey: 1,
        summary:
            "Follows a user and copies their recent posts into the feed; 1 if new, 0 if already following. NOREPOSTS hides their reposts; following again without it shows them.",
        since: "0.1.0", group: "feed", complexity: "O(T) where T is the timeline cap",
        arguments: [
            CommandArgument("follower", .string), CommandArgument("followee", .string),
            CommandArgument("noreposts", .pureToken, token: "NOREPOSTS", optional: true),
        ]
    ) { call, state in
        run(&state) { state throws(CommandError) in
            guard call.count <= 4 else { throw .syntax }
            let follower = try FeedArguments.user(call, 1)
            let followee = try FeedArguments.user(call, 2)
            if call.count == 4 && !call.argument(3, is: "NOREPOSTS") { throw .syntax }
            let hiding = call.count == 4
            let now = WallClock.milliseconds()
            let changed = try call.write(bytes: Self.smallWrite * 3, grows: true, state: &state) { (engine) throws(FeedError) in
                try engine.follow(follower: follower, followee: followee, hidingReposts: hiding, now: now)
            }
            state.reply.integer(changed ? 1 : 0)
        }
    }

    static let unfollow = CommandSpec(
        "feed.unfollow", arity: 3, flags: ["write", "fast"], categories: ["@write", "@fast", "@feed"], firstKey: 1,
        summary: "Unfollows a user and takes their posts out of the feed; 1 if removed, 0 if not following.",
        since: "0.1.0", group: "feed", complexity: "O(T) where T is the timeline cap",
        arguments: [CommandArgument("follower", .string), CommandArgument("followee", .string)]
    ) { call, state in
        run(&state) { state throws(CommandError) in
            let follower = try FeedArguments.user(call, 1)
            let followee = try FeedArguments.user(call, 2)
            let changed = try call.write(bytes: Self.smallWrite, state: &state) { (engine) throws(FeedError) in
                try engine.unfollow(follower: follower, followee: followee)
            }
            state.reply.integer(changed ? 1 : 0)
        }
    }

    static let read = CommandSpec(
        "feed.read", arity: -2, flags: ["readonly", "fast"], categories: ["@read", "@fast", "@feed"], firstKey: 1,
        summary:
            "Returns a user's feed, newest first: [id (a decimal string), author, created_ms, body] per entry (a repost: its id, the reposter, its time, the original's body); with AFTER, what is newer than an id, oldest first; WITHMETA: maps with links and counts. Mutes, blocks, hidden reposts and replies to strangers are left out before COUNT. RANKED: [next page token (\"0\": none), entries best first] scored by recency, affinity, engagement and author diversity (WITHMETA adds the score and its factors); PAGE walks the first page's ranking.",
        since: "0.1.0", group: "feed",
        complexity: "O(N log C) for N entries merging C followed celebrities; a dropped timeline is rebuilt first",
        arguments: [
            user, count, before, CommandArgument("post-id", .integer, token: "AFTER", optional: true),
            CommandArgument("ranked", .pureToken, token: "RANKED", optional: true),
            CommandArgument("token", .string, token: "PAGE", optional: true),
            CommandArgument("withmeta", .pureToken, token: "WITHMETA", optional: true),
        ]
    ) { call, state in
        run(&state) { state throws(CommandError) in
            let user = try FeedArguments.user(call, 1)
            let page = try FeedArguments.page(call, from: 2, before: true, after: false, afterPost: true)
            if page.ranked {
                return call.readRanked(state: &state, user: user, count: page.count, page: page.pageToken, withMeta: page.withMeta)
            }
            if let after = page.afterPost {
                return call.catchUp(state: &state, user: user, after: after, count: page.count, withMeta: page.withMeta)
            }
            call.readFeed(state: &state, user: user, count: page.count, before: page.before, withMeta: page.withMeta)
        }
    }

    static let posts = CommandSpec(
        "feed.posts", arity: -2, flags: ["readonly", "fast"], categories: ["@read", "@fast", "@feed"], firstKey: 1,
        summary: "Returns an author's own posts, replies and reposts, newest first.", since: "0.1.0", group: "feed",
        complexity: "O(N) for N entries",
        arguments: [
            CommandArgument("author", .string), count, before,
            CommandArgument("withmeta", .pureToken, token: "WITHMETA", optional: true),
        ]
    ) { call, state in
        run(&state) { state throws(CommandError) in
            let author = try FeedArguments.user(call, 1)
            let page = try FeedArguments.page(call, from: 2, before: true, after: false)
            call.readEntries(state: &state, withMeta: page.withMeta) { engine, writer in
                engine.posts(author: author, count: page.count, before: page.before, into: &writer)
            }
        }
    }

    static let get = CommandSpec(
        "feed.get", arity: -2, flags: ["readonly", "fast"], categories: ["@read", "@fast", "@feed"],
        summary: "Returns each post as [id, author, created_ms, body], or nil when it does not exist.",
        since: "0.1.0", group: "feed", complexity: "O(N) for N ids",
        arguments: [
            CommandArgument("post-id", .integer, multiple: true),
            CommandArgument("withmeta", .pureToken, token: "WITHMETA", optional: true),
        ]
    ) { call, state in
        run(&state) { state throws(CommandError) in
            var requested: [UInt64] = []
            requested.reserveCapacity(call.count - 1)
            let withMeta = call.count > 2 && call.argument(call.count - 1, is: "WITHMETA")
            for index in 1..<(call.count - (withMeta ? 1 : 0)) { requested.append(try FeedArguments.postID(call, index)) }
            let ids = requested
            call.readEntries(state: &state, positional: true, withMeta: withMeta) { engine, writer in
                engine.get(ids, into: &writer)
                return nil
            }
        }
    }

    /// FEED.FOLLOWERS, FEED.FOLLOWING, FEED.MUTES, FEED.BLOCKS: `user [COUNT n] [AFTER user]`.
    static func userListSpec(
        _ name: String, summary: String, since: String, complexity: String,
        _ list: @escaping @Sendable (FeedEngine, String, Int, String?) throws(FeedError) -> [String]
    ) -> CommandSpec {
        CommandSpec(
            name, arity: -2, flags: ["readonly"], categories: ["@read", "@feed"], firstKey: 1, summary: summary, since: since,
            group: "feed", complexity: complexity, arguments: [user, count, after], handler: userList(list))
    }

    private static func userList(
        _ list: @escaping @Sendable (FeedEngine, String, Int, String?) throws(FeedError) -> [String]
    ) -> CommandHandler {
        { call, state in
            run(&state) { state throws(CommandError) in
                let user = try FeedArguments.user(call, 1)
                let page = try FeedArguments.page(call, from: 2, before: false, after: true)
                let names = try call.engine { (engine) throws(FeedError) in try list(engine, user, page.count, page.after) }
                state.reply.arrayHeader(names.count)
                for name in names { state.reply.bulk(name) }
            }
        }
    }

    static let followers = userListSpec(
        "feed.followers", summary: "Lists a user's followers, in the order users first appeared; page with AFTER the last one.",
        since: "0.1.0", complexity: "O(log F + N)"
    ) { (engine, user, count, after) throws(FeedError) in try engine.followers(of: user, count: count, after: after) }

    static let following = userListSpec(
        "feed.following", summary: "Lists the users a user follows, in the order users first appeared; page with AFTER the last one.",
        since: "0.1.0", complexity: "O(log F + N)"
    ) { (engine, user, count, after) throws(FeedError) in try engine.following(of: user, count: count, after: after) }

    static let stats = CommandSpec(
        "feed.stats", arity: 2, flags: ["readonly", "fast"], categories: ["@read", "@fast", "@feed"], firstKey: 1,
        summary:
            "Returns followers, following, posts, timeline and celebrity for a user, and how many notification groups are unseen and unread.",
        since: "0.1.0",
        group: "feed", arguments: [user]
    ) { call, state in
        run(&state) { state throws(CommandError) in
            let user = try FeedArguments.user(call, 1)
            let server = call.server
            call.faulting(state: &state) { answer in
                Attempt.reading(server, installing: answer) { (engine) throws(FeedError) in
                    (try engine.stats(of: user), engine.notificationCounts(of: user))
                }
            } absent: { reply in
                reply.error("ERR no such user")
            } reply: { result, reply in
                let (stats, notifications) = result
                reply.mapHeader(7)
                reply.bulk("followers")
                reply.integer(stats.followers)
                reply.bulk("following")
                reply.integer(stats.following)
                reply.bulk("posts")
                reply.integer(stats.posts)
                reply.bulk("timeline")
                reply.integer(stats.timeline)
                reply.bulk("celebrity")
                reply.integer(stats.celebrity ? 1 : 0)
                reply.bulk("unseen")
                reply.integer(notifications.unseen)
                reply.bulk("unread")
                reply.integer(notifications.unread)
            }
        }
    }

    private static func likeHandler(liking: Bool) -> CommandHandler {
        { call, state in
            run(&state) { state throws(CommandError) in
                let user = try FeedArguments.user(call, 1)
                let id = try FeedArguments.postID(call, 2)
                let server = call.server
                call.faulting(state: &state) { answer in
                    Attempt.writing(server, installing: answer, bytes: Self.smallWrite * 2, grows: liking) { (engine, now) throws(FeedError) in
                        liking ? try engine.like(user: user, post: id, now: now) : try engine.unlike(user: user, post: id)
                    }
                } absent: { reply in
                    reply.error(CommandError.feed(.noSuchPost).message)
                } reply: { likes, reply in
                    reply.integer(likes)
                }
            }
        }
    }

    static let like = CommandSpec(
        "feed.like", arity: 3, flags: ["write", "denyoom", "fast"], categories: ["@write", "@fast", "@feed"], firstKey: 1,
        summary: "Likes a post; returns its like count. Liking twice counts once.", since: "0.1.0", group: "feed",
        arguments: [user, postID], handler: likeHandler(liking: true))

    static let unlike = CommandSpec(
        "feed.unlike", arity: 3, flags: ["write", "fast"], categories: ["@write", "@fast", "@feed"], firstKey: 1,
        summary: "Takes a like back; returns the post's like count.", since: "0.1.0", group: "feed",
        arguments: [user, postID], handler: likeHandler(liking: false))

    static let sync = CommandSpec(
        "feed.sync", arity: -1, flags: ["fast"], categories: ["@fast", "@feed"],
        summary: "Replies OK once every write acknowledged before it, on any connection, has committed to PostgreSQL.",
        since: "0.1.0", group: "feed", complexity: "O(1)",
        arguments: [CommandArgument("timeout-ms", .integer, optional: true)]
    ) { call, state in
        run(&state) { state throws(CommandError) in
            guard call.count <= 2 else { throw CommandError(RedisError.wrongArity("feed.sync")) }
            var requested: Int64 = 0
            if call.count == 2 {
                guard let value = call.integer(1), value >= 0 else { throw .notAnInteger }
                requested = value
            }
            let timeout = requested
            guard let journal = call.server.persistence?.journal else { return state.reply.ok() }
            let lsn = journal.lastLSN
            if let cluster = call.server.cluster { return Self.syncCluster(call, &state, cluster, journal, lsn: lsn, timeout: timeout) }
            guard journal.committed.load(ordering: .acquiring) < lsn else { return state.reply.ok() }
            let loop = call.eventLoop
            let promise = loop.makePromise(of: ByteBuffer.self)
            // Both outcomes complete on `loop`, so one flag decides which wins.
            let settled = NIOLoopBoundBox(false, eventLoop: loop)
            let timer =
                timeout > 0
                ? loop.scheduleTask(in: .milliseconds(timeout)) {
                    guard !settled.value else { return }
                    settled.value = true
                    var reply = ByteBuffer()
                    reply.writeRESPError("TIMEOUT writes not committed to PostgreSQL within \(timeout) ms")
                    promise.succeed(reply)
                } : nil
            journal.whenCommitted(lsn, on: loop).whenSuccess {
                guard !settled.value else { return }
                settled.value = true
                timer?.cancel()
                promise.succeed(ByteBuffer(string: "+OK\r\n"))
            }
            state.deferred = .future(promise.futureResult)
        }
    }

    /// FEED.SYNC in cluster mode: this node's writes committed, then every
    /// node's changes committed so far applied here — so that after FEED.SYNC
    /// on every node, twice round, each node's feeds reflect every write
    /// acknowledged before the first round.
    private static func syncCluster(
        _ call: CommandCall, _ state: inout ConnectionState, _ cluster: ClusterState, _ journal: Journal, lsn: UInt64,
        timeout: Int64
    ) {
        guard let store = cluster.store else { return state.reply.error(CommandError.storeUnavailable.message) }
        let loop = call.eventLoop
        let promise = loop.makePromise(of: ByteBuffer.self)
        let committed = journal.whenCommitted(lsn, on: loop)
        let changes = cluster.changes
        promise.completeWithTask {
            let limit: Duration = timeout > 0 ? .milliseconds(timeout) : .seconds(365 * 86_400)
            let deadline = ContinuousClock.now + limit
            var reply = ByteBuffer()
            do {
                try await Deadline.result(within: limit) { try await committed.get() }
                let newest = try await store.newestChange()
                guard await changes.waitUntilApplied(newest, atMost: deadline - .now) else {
                    reply.writeRESPError("TIMEOUT changes from other nodes not applied here within \(timeout) ms")
                    return reply
                }
                reply.writeString("+OK\r\n")
            } catch is Deadline.Passed {
                reply.writeRESPError("TIMEOUT writes not committed to PostgreSQL within \(timeout) ms")
            } catch {
                reply.writeRESPError(CommandError.storeUnavailable.message)
            }
            return reply
        }
        state.deferred = .future(promise.futureResult)
    }

    /// Tokens last an hour unless asked otherwise, and at most a year.
    static let defaultTokenSeconds: Int64 = 3600
    static let maxTokenSeconds: Int64 = 366 * 24 * 3600

    static let token = CommandSpec(
        "feed.token", arity: -2, flags: ["readonly", "fast"], categories: ["@read", "@fast", "@feed"], firstKey: 1,
        summary:
            "Returns a token that opens the user's browser event stream (GET /events/<user>?token=… on --events-port) for ttl seconds (default 3600).",
        since: "0.2.0", group: "feed", complexity: "O(1)",
        arguments: [user, CommandArgument("ttl-seconds", .integer, optional: true)]
    ) { call, state in
        run(&state) { state throws(CommandError) in
            guard call.count <= 3 else { throw .syntax }
            let user = try FeedArguments.user(call, 1)
            var seconds = Self.defaultTokenSeconds
            if call.count == 3 {
                guard let value = call.integer(2) else { throw .notAnInteger }
                guard value > 0, value <= Self.maxTokenSeconds else {
                    throw CommandError("ERR ttl must be between 1 and \(Self.maxTokenSeconds) seconds")
                }
                seconds = value
            }
            let expiresAt = WallClock.milliseconds() / 1000 + seconds
            state.reply.bulk(call.server.eventTokens.mint(user: user, expiresAt: expiresAt))
        }
    }
}
