/// `CLIENT HELP`, `COMMAND HELP`, `CONFIG HELP`: a container's subcommands
/// and their usage, as Redis lists them.
enum HelpCommand {
    static func spec(for container: String) -> CommandSpec {
        CommandSpec(
            "\(container)|help", arity: 2, flags: ["loading", "stale"], categories: ["@slow"],
            summary: "Returns helpful text about the different subcommands.", since: "5.0.0",
            group: container == "client" ? "connection" : "server"
        ) { call, state in
            guard let parent = call.server.commands.command(named: container) else { return state.reply.arrayHeader(0) }
            var lines = ["\(container.uppercased()) <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"]
            for sub in call.server.commands.subcommands(of: parent) where sub.shortName != "help" {
                let usage = ([sub.shortName.uppercased()] + sub.arguments.map(\.usage)).joined(separator: " ")
                lines.append(usage)
                lines.append("    \(sub.summary)")
            }
            lines.append("HELP")
            lines.append("    Print this help.")
            state.reply.arrayHeader(lines.count)
            for line in lines { state.reply.simple(line) }
        }
    }
}
