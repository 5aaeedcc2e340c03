import Timeline
import Logging

/// DBSIZE, TIME, SHUTDOWN.
enum ServerCommands {
    static let dbsize = CommandSpec(
        "dbsize", arity: 1, flags: ["readonly", "fast"], categories: ["@keyspace", "@read", "@fast"],
        summary: "Returns the number of keys: here, the number of known users.", since: "1.0.0", group: "server"
    ) { call, state in
        state.reply.integer(call.server.feed.withEngine { $0.userCount })
    }

    static let time = CommandSpec(
        "time", arity: 1, flags: ["loading", "stale", "fast"], categories: ["@fast"],
        summary: "Returns the server time.", since: "2.6.0", group: "server"
    ) { _, state in
        let now = WallClock.microseconds()
        state.reply.arrayHeader(2)
        state.reply.bulk(decimal: now / 1_000_000)
        state.reply.bulk(decimal: now % 1_000_000)
    }

    static let shutdown = CommandSpec(
        "shutdown", arity: -1, flags: ["admin", "noscript", "loading", "stale", "no_multi", "sentinel", "allow_busy"],
        categories: ["@admin", "@slow", "@dangerous"],
        summary: "Stops accepting clients, finishes in-flight replies and exits.", since: "1.0.0",
        group: "server", complexity: "O(N) when saving, where N is the total number of keys in all databases",
        arguments: [
            CommandArgument(
                "save-selector", .oneof, optional: true,
                children: [
                    CommandArgument("nosave", .pureToken, token: "NOSAVE"),
                    CommandArgument("save", .pureToken, token: "SAVE"),
                ]),
            CommandArgument("now", .pureToken, token: "NOW", optional: true),
            CommandArgument("force", .pureToken, token: "FORCE", optional: true),
            CommandArgument("abort", .pureToken, token: "ABORT", optional: true),
        ]
    ) { call, state in
        var abort = false
        for index in 1..<call.count {
            if call.argument(index, is: "ABORT") {
                abort = true
            } else if !(call.argument(index, is: "NOSAVE") || call.argument(index, is: "SAVE")
                || call.argument(index, is: "NOW") || call.argument(index, is: "FORCE"))
            {
                return state.reply.error(RedisError.syntax)
            }
        }
        if abort {
            // There is nothing to abort: a shutdown here never waits on a save.
            return state.reply.error(RedisError.noShutdownInProgress)
        }
        // Like Redis, no reply: the connection closes as the server drains.
        call.server.logger.notice("User requested shutdown...", metadata: ["client": "\(state.record.address)"])
        call.server.shutdown.request()
    }
}
