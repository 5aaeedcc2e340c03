/// INFO [section ...]: Redis's text report, verbatim in RESP3 as Redis sends it.
enum InfoCommand {
    static let spec = CommandSpec(
        "info", arity: -1, flags: ["loading", "stale", "sentinel"], categories: ["@slow", "@dangerous"],
        summary: "Returns information and statistics about the server.", since: "1.0.0", group: "server",
        arguments: [CommandArgument("section", .string, optional: true, multiple: true)]
    ) { call, state in
        let sections = (1..<call.count).map { call.string($0) }
        state.reply.verbatim(InfoReport(server: call.server).render(sections))
    }
}
