import NIOCore
import RESP
import Timeline

/// Notification feeds (docs/adr/0014-notifications.md): FEED.NOTIFICATIONS
/// lists a user's groups, FEED.MARK marks them seen or read.
extension FeedCommands {
    static let invalidGroupID = CommandError("ERR invalid notification group id")

    static let notifications = CommandSpec(
        "feed.notifications", arity: -2, flags: ["readonly", "fast"], categories: ["@read", "@fast", "@feed"], firstKey: 1,
        summary:
            "Returns a user's notification groups, newest-updated first: per group id, verb (like, repost, reply, follow, mention), object (the post; nil for follow), actors (the 5 most recent, newest first), actor_count, updated_ms, seen, read. Page with BEFORE the last group's id.",
        since: "0.5.0", group: "feed", complexity: "O(G log G + A) for G groups with A actors",
        arguments: [user, count, CommandArgument("group-id", .string, token: "BEFORE", optional: true)]
    ) { call, state in
        run(&state) { state throws(CommandError) in
            let user = try FeedArguments.user(call, 1)
            let feed = call.server.configuration.feed
            var count = feed.defaultReadCount
            var before: NotificationKey? = nil
            var seen = Set<String>()
            var index = 2
            while index < call.count {
                let option = call.argument(index, is: "COUNT") ? "COUNT" : call.argument(index, is: "BEFORE") ? "BEFORE" : ""
                guard !option.isEmpty, index + 1 < call.count, seen.insert(option).inserted else { throw .syntax }
                if option == "COUNT" {
                    guard let value = call.integer(index + 1) else { throw .notAnInteger }
                    guard value >= 1 && value <= Int64(feed.maxReadCount) else {
                        throw CommandError("ERR COUNT must be between 1 and \(feed.maxReadCount)")
                    }
                    count = Int(value)
                } else {
                    before = try Self.groupID(call, index + 1)
                }
                index += 2
            }
            let (limit, after) = (count, before)
            let groups = try call.engine { (engine) throws(FeedError) in
                try engine.notifications(of: user, count: limit, before: after)
            }
            state.reply.arrayHeader(groups.count)
            for group in groups { Self.write(group, into: &state.reply) }
        }
    }

    static let mark = CommandSpec(
        "feed.mark", arity: -3, flags: ["write", "fast"], categories: ["@write", "@fast", "@feed"], firstKey: 1,
        summary:
            "SEEN marks every notification group of the user seen; READ marks the given groups read (ids no longer in the feed are passed over). Returns how many shown groups changed.",
        since: "0.5.0", group: "feed", complexity: "O(G + A) for G groups with A actors",
        arguments: [
            user,
            CommandArgument(
                "what", .oneof,
                children: [
                    CommandArgument("seen", .pureToken, token: "SEEN"),
                    CommandArgument(
                        "read", .block,
                        children: [
                            CommandArgument("read", .pureToken, token: "READ"),
                            CommandArgument("group-id", .string, multiple: true),
                        ]),
                ]),
        ]
    ) { call, state in
        run(&state) { state throws(CommandError) in
            let user = try FeedArguments.user(call, 1)
            let changed: Int
            if call.argument(2, is: "SEEN") {
                guard call.count == 3 else { throw .syntax }
                changed = try call.write(bytes: Self.smallWrite, state: &state) { engine in engine.markNotificationsSeen(user: user, now: WallClock.milliseconds()) }
            } else if call.argument(2, is: "READ") {
                guard call.count > 3 else { throw .syntax }
                var groups: [NotificationKey] = []
                for index in 3..<call.count { groups.append(try Self.groupID(call, index)) }
                let keys = groups
                changed = try call.write(bytes: Self.smallWrite * keys.count, state: &state) { engine in
                    engine.markNotificationsRead(user: user, groups: keys, now: WallClock.milliseconds())
                }
            } else {
                throw .syntax
            }
            state.reply.integer(changed)
        }
    }

    /// A notification group id (`verb:object:day`).
    private static func groupID(_ call: CommandCall, _ index: Int) throws(CommandError) -> NotificationKey {
        guard let text = String(validating: call.arguments[index].readableBytesView, as: UTF8.self),
            let key = NotificationKey(id: text)
        else { throw Self.invalidGroupID }
        return key
    }

    /// A group as a map (RESP3) or field/value pairs (RESP2).
    static func write(_ group: NotificationGroupView, into reply: inout ReplyWriter) {
        reply.mapHeader(8)
        reply.bulk("id")
        reply.bulk(group.id)
        reply.bulk("verb")
        reply.bulk(group.key.verb.name)
        reply.bulk("object")
        if group.key.verb == .follow { reply.null() } else { reply.bulk(decimal: Int64(group.key.object)) }
        reply.bulk("actors")
        reply.arrayHeader(group.actors.count)
        for actor in group.actors { reply.bulk(actor) }
        reply.bulk("actor_count")
        reply.integer(group.actorCount)
        reply.bulk("updated_ms")
        reply.integer(group.updatedMilliseconds)
        reply.bulk("seen")
        reply.boolean(group.seen)
        reply.bulk("read")
        reply.boolean(group.read)
    }
}
