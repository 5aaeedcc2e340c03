/// CONFIG GET / SET / RESETSTAT. Settings are fixed at start-up (flags and
/// environment), so CONFIG SET refuses with Redis's words for that.
enum ConfigCommand {
    static let spec = CommandSpec(
        "config", arity: -2, categories: ["@slow"],
        summary: "A container for server configuration commands.", since: "2.0.0", group: "server",
        complexity: "Depends on subcommand.",
        subcommands: [get, set, resetstat, help], handler: nil
    )

    static let get = CommandSpec(
        "config|get", arity: -3, flags: ["admin", "noscript", "loading", "stale"],
        categories: ["@admin", "@slow", "@dangerous"],
        summary: "Returns the effective values of configuration parameters.", since: "2.0.0", group: "server",
        complexity: "O(N) when N is the number of configuration parameters provided",
        arguments: [CommandArgument("parameter", .string, multiple: true)]
    ) { call, state in
        let patterns = (2..<call.count).map { call.string($0) }
        let matches = ConfigParameters.matching(patterns)
        state.reply.mapHeader(matches.count)
        for parameter in matches {
            state.reply.bulk(parameter.name)
            state.reply.bulk(parameter.value(call.server))
        }
    }

    static let set = CommandSpec(
        "config|set", arity: -4, flags: ["admin", "noscript", "loading", "stale"],
        categories: ["@admin", "@slow", "@dangerous"],
        summary: "Sets configuration parameters in-flight (none can be changed here; use flags).",
        since: "2.0.0", group: "server",
        arguments: [
            CommandArgument(
                "data", .block, multiple: true,
                children: [CommandArgument("parameter", .string), CommandArgument("value", .string)])
        ]
    ) { call, state in
        guard call.count % 2 == 0 else { return state.reply.error(RedisError.wrongArity("config|set")) }
        let name = call.string(2)
        if ConfigParameters.all.contains(where: { $0.name == name.lowercased() }) {
            state.reply.error("ERR CONFIG SET failed (possibly related to argument '\(name)') - can't set immutable config")
        } else {
            state.reply.error("ERR Unknown option or number of arguments for CONFIG SET - '\(name)'")
        }
    }

    static let resetstat = CommandSpec(
        "config|resetstat", arity: 2, flags: ["admin", "noscript", "loading", "stale"],
        categories: ["@admin", "@slow", "@dangerous"],
        summary: "Resets the server's statistics.", since: "2.0.0", group: "server"
    ) { call, state in
        call.server.stats.reset(liveClients: call.server.clients.records())
        state.reply.ok()
    }

    static let help = HelpCommand.spec(for: "config")
}
