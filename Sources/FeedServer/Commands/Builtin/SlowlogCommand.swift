/// SLOWLOG GET / LEN / RESET / HELP, as Redis has them. What counts as slow
/// is `--slowlog-log-slower-than` (microseconds; CONFIG SET changes it).
enum SlowlogCommand {
    static let spec = CommandSpec(
        "slowlog", arity: -2, categories: ["@slow"],
        summary: "A container for slow log commands.", since: "2.2.12", group: "server",
        complexity: "Depends on subcommand.",
        subcommands: [get, len, reset, help], handler: nil
    )

    static let get = CommandSpec(
        "slowlog|get", arity: -2, flags: ["admin", "loading", "stale"], categories: ["@admin", "@slow", "@dangerous"],
        summary: "Returns the slow log's entries (default 10; -1 for all).", since: "2.2.12", group: "server",
        complexity: "O(N) where N is the number of entries returned",
        arguments: [CommandArgument("count", .integer, optional: true)]
    ) { call, state in
        var count: Int? = 10
        if call.count > 3 { return state.reply.error(RedisError.wrongArity("slowlog|get")) }
        if call.count == 3 {
            guard let value = call.integer(2) else { return state.reply.error(RedisError.notAnInteger) }
            guard value >= -1 else { return state.reply.error("ERR count should be greater than or equal to -1") }
            count = value == -1 ? nil : Int(value)
        }
        let entries = call.server.slowlog.newest(count)
        state.reply.arrayHeader(entries.count)
        for entry in entries {
            state.reply.arrayHeader(6)
            state.reply.integer(entry.id)
            state.reply.integer(entry.time)
            state.reply.integer(entry.microseconds)
            state.reply.arrayHeader(entry.arguments.count)
            for argument in entry.arguments { state.reply.bulk(argument) }
            state.reply.bulk(entry.peer)
            state.reply.bulk(entry.clientName)
        }
    }

    static let len = CommandSpec(
        "slowlog|len", arity: 2, flags: ["admin", "loading", "stale"], categories: ["@admin", "@slow", "@dangerous"],
        summary: "Returns the number of entries in the slow log.", since: "2.2.12", group: "server"
    ) { call, state in
        state.reply.integer(call.server.slowlog.count)
    }

    static let reset = CommandSpec(
        "slowlog|reset", arity: 2, flags: ["admin", "loading", "stale"], categories: ["@admin", "@slow", "@dangerous"],
        summary: "Clears all entries from the slow log.", since: "2.2.12", group: "server",
        complexity: "O(N) where N is the number of entries in the slowlog"
    ) { call, state in
        call.server.slowlog.reset()
        state.reply.ok()
    }

    static let help = HelpCommand.spec(for: "slowlog")
}
