/// CONFIG GET / SET / RESETSTAT. Most settings are fixed at start-up (flags
/// and environment), and CONFIG SET refuses them with Redis's words for that;
/// the slow log's two can change while the server runs.
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
        summary: "Sets configuration parameters in-flight (the slow log's; the rest are fixed at start-up).",
        since: "2.0.0", group: "server",
        arguments: [
            CommandArgument(
                "data", .block, multiple: true,
                children: [CommandArgument("parameter", .string), CommandArgument("value", .string)])
        ]
    ) { call, state in
        guard call.count % 2 == 0 else { return state.reply.error(RedisError.wrongArity("config|set")) }
        // Every pair is checked before any is applied, so a bad one changes nothing.
        var changes: [@Sendable (ServerContext) -> Void] = []
        var seen: Set<String> = []
        for index in stride(from: 2, to: call.count, by: 2) {
            let name = call.string(index)
            let key = name.lowercased()
            guard seen.insert(key).inserted else {
                return state.reply.error("ERR CONFIG SET failed (possibly related to argument '\(name)') - duplicate parameter")
            }
            guard let setter = ConfigParameters.settable[key] else {
                if ConfigParameters.all.contains(where: { $0.name == key }) {
                    return state.reply.error(
                        "ERR CONFIG SET failed (possibly related to argument '\(name)') - can't set immutable config")
                }
                return state.reply.error("ERR Unknown option or number of arguments for CONFIG SET - '\(name)'")
            }
            switch setter(call.string(index + 1)) {
            case .success(let apply): changes.append(apply)
            case .failure(let failure):
                return state.reply.error("ERR CONFIG SET failed (possibly related to argument '\(name)') - \(failure.reason)")
            }
        }
        for apply in changes { apply(call.server) }
        state.reply.ok()
    }

    static let resetstat = CommandSpec(
        "config|resetstat", arity: 2, flags: ["admin", "noscript", "loading", "stale"],
        categories: ["@admin", "@slow", "@dangerous"],
        summary: "Resets the server's statistics.", since: "2.0.0", group: "server"
    ) { call, state in
        let server = call.server
        server.metrics.resetStatistics(of: server) {
            server.stats.reset(liveClients: server.clients.records())
            for stats in server.commands.allStats { stats.reset() }
            server.errors.reset()
        }
        state.reply.ok()
    }

    static let help = HelpCommand.spec(for: "config")
}
