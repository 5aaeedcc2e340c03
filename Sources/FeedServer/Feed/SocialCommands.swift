import NIOCore
import RESP
import Timeline

/// Reposts, replies, mutes and blocks (docs/adr/0012-reposts-replies-filters.md).
extension FeedCommands {
    private static func repostHandler(reposting: Bool) -> CommandHandler {
        { call, state in
            run(&state) { state throws(CommandError) in
                let user = try FeedArguments.user(call, 1)
                let id = try FeedArguments.postID(call, 2)
                let server = call.server
                call.faulting(state: &state) { answer in
                    let events = server.feedEvents
                    defer { events.drain() }
                    return Attempt.writing(server, installing: answer, bytes: Self.smallWrite * 2, grows: reposting) {
                        (engine, now) throws(FeedError) -> UInt64 in
                        if !reposting { return try engine.unrepost(user: user, post: id, now: now) ? 1 : 0 }
                        let before = engine.latestPostID
                        let repost = try engine.repost(user: user, post: id, now: now)
                        // A new repost goes live with its original's body (looked up only when someone listens).
                        if repost > before, events.isListenedTo, let entry = engine.get([repost]).first ?? nil {
                            events.postCreated(id: repost, author: user, body: entry.body ?? "", engine: engine)
                        }
                        return repost
                    }
                } absent: { reply in
                    reply.error(CommandError.feed(.noSuchPost).message)
                } reply: { result, reply in
                    if reposting { reply.bulk(decimal: Int64(result)) } else { reply.integer(Int(result)) }
                }
            }
        }
    }

    static let repost = CommandSpec(
        "feed.repost", arity: 3, flags: ["write", "denyoom", "fast"], categories: ["@write", "@fast", "@feed"], firstKey: 1,
        summary:
            "Reposts a post to the user's followers; returns the repost's id. A repost of a repost reposts the original; reposting twice returns the first repost.",
        since: "0.3.0", group: "feed", complexity: "O(F) where F is the user's number of active followers",
        arguments: [user, postID], handler: repostHandler(reposting: true))

    static let unrepost = CommandSpec(
        "feed.unrepost", arity: 3, flags: ["write", "fast"], categories: ["@write", "@fast", "@feed"], firstKey: 1,
        summary: "Takes a repost back (given the original's id or a repost's); 1 if it existed, 0 if not.",
        since: "0.3.0", group: "feed", complexity: "O(F) where F is the user's number of followers",
        arguments: [user, postID], handler: repostHandler(reposting: false))

    static let replies = CommandSpec(
        "feed.replies", arity: -2, flags: ["readonly", "fast"], categories: ["@read", "@fast", "@feed"],
        summary: "Lists a post's replies, newest first; page with BEFORE the last id.",
        since: "0.3.0", group: "feed", complexity: "O(N) for N entries",
        arguments: [postID, count, before, CommandArgument("withmeta", .pureToken, token: "WITHMETA", optional: true)]
    ) { call, state in
        run(&state) { state throws(CommandError) in
            let id = try FeedArguments.postID(call, 1)
            let page = try FeedArguments.page(call, from: 2, before: true, after: false)
            call.readEntries(state: &state, withMeta: page.withMeta) { engine, writer in
                engine.replies(to: id, count: page.count, before: page.before, into: &writer)
            }
        }
    }

    /// FEED.MUTE, FEED.UNMUTE, FEED.BLOCK, FEED.UNBLOCK: `user target`, 1 when it changed anything.
    private static func filterSpec(
        _ name: String, summary: String, complexity: String = "O(1)", grows: Bool,
        _ change: @escaping @Sendable (inout FeedEngine, String, String, Int64) throws(FeedError) -> Bool
    ) -> CommandSpec {
        CommandSpec(
            name, arity: 3, flags: grows ? ["write", "denyoom", "fast"] : ["write", "fast"],
            categories: ["@write", "@fast", "@feed"], firstKey: 1, summary: summary, since: "0.3.0", group: "feed",
            complexity: complexity, arguments: [user, CommandArgument("target", .string)]
        ) { call, state in
            run(&state) { state throws(CommandError) in
                let user = try FeedArguments.user(call, 1)
                let target = try FeedArguments.user(call, 2)
                let now = WallClock.milliseconds()
                let changed = try call.write(bytes: Self.smallWrite * 3, grows: grows, state: &state) {
                    (engine) throws(FeedError) in try change(&engine, user, target, now)
                }
                state.reply.integer(changed ? 1 : 0)
            }
        }
    }

    static let mute = filterSpec(
        "feed.mute",
        summary:
            "Mutes a user: their posts, replies and reposts, and reposts of their posts, leave the user's feed until unmuted; 1 if new.",
        grows: true
    ) { (engine, user, target, now) throws(FeedError) in try engine.mute(user: user, target: target, now: now) }

    static let unmute = filterSpec(
        "feed.unmute", summary: "Lifts a mute; what it hid is back in the feed. 1 if it existed.", grows: false
    ) { (engine, user, target, _) throws(FeedError) in try engine.unmute(user: user, target: target) }

    static let block = filterSpec(
        "feed.block",
        summary:
            "Blocks a user: what a mute hides, both follows between the two removed, neither can follow the other, and neither sees the other's posts; 1 if new.",
        complexity: "O(T) where T is the timeline cap", grows: true
    ) { (engine, user, target, now) throws(FeedError) in try engine.block(user: user, target: target, now: now) }

    static let unblock = filterSpec(
        "feed.unblock", summary: "Lifts a block (follows it removed stay removed); 1 if it existed.", grows: false
    ) { (engine, user, target, _) throws(FeedError) in try engine.unblock(user: user, target: target) }

    static let mutes = userListSpec(
        "feed.mutes", summary: "Lists whom a user mutes, in the order users first appeared; page with AFTER the last one.",
        since: "0.3.0", complexity: "O(log M + N)"
    ) { (engine, user, count, after) throws(FeedError) in try engine.mutes(of: user, count: count, after: after) }

    static let blocks = userListSpec(
        "feed.blocks", summary: "Lists whom a user blocks, in the order users first appeared; page with AFTER the last one.",
        since: "0.3.0", complexity: "O(log B + N)"
    ) { (engine, user, count, after) throws(FeedError) in try engine.blocks(of: user, count: count, after: after) }
}
