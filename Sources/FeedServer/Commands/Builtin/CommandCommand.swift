import NIOCore

/// COMMAND: the server's own description of its commands. redis-cli reads
/// COMMAND DOCS to show argument hints as you type.
enum CommandCommand {
    static let spec = CommandSpec(
        "command", arity: -1, flags: ["loading", "stale"], categories: ["@slow", "@connection"],
        summary: "Returns detailed information about all commands.", since: "2.8.13", group: "server",
        complexity: "O(N) where N is the total number of commands",
        subcommands: [count, docs, info, list, help]
    ) { call, state in
        let specs = call.server.commands.topLevel
        state.reply.arrayHeader(specs.count)
        for spec in specs { writeInfo(spec, call: call, reply: &state.reply) }
    }

    static let count = CommandSpec(
        "command|count", arity: 2, flags: ["loading", "stale"], categories: ["@slow", "@connection"],
        summary: "Returns a count of commands.", since: "2.8.13", group: "server"
    ) { call, state in
        state.reply.integer(call.server.commands.topLevel.count)
    }

    static let list = CommandSpec(
        "command|list", arity: -2, flags: ["loading", "stale"], categories: ["@slow", "@connection"],
        summary: "Returns a list of command names.", since: "7.0.0", group: "server",
        complexity: "O(N) where N is the total number of commands"
    ) { call, state in
        let specs = call.server.commands.topLevel
        state.reply.arrayHeader(specs.count)
        for spec in specs { state.reply.bulk(spec.fullName) }
    }

    static let info = CommandSpec(
        "command|info", arity: -2, flags: ["loading", "stale"], categories: ["@slow", "@connection"],
        summary: "Returns information about one, multiple or all commands.", since: "2.8.13", group: "server",
        complexity: "O(N) where N is the number of commands to look up",
        arguments: [CommandArgument("command-name", .string, optional: true, multiple: true)]
    ) { call, state in
        let table = call.server.commands
        let specs: [CommandSpec?] =
            call.count == 2 ? table.topLevel : call.arguments.dropFirst(2).map { table.command(named: String(buffer: $0)) }
        state.reply.arrayHeader(specs.count)
        for spec in specs {
            if let spec { writeInfo(spec, call: call, reply: &state.reply) } else { state.reply.nullArray() }
        }
    }

    static let docs = CommandSpec(
        "command|docs", arity: -2, flags: ["loading", "stale"], categories: ["@slow", "@connection"],
        summary: "Returns documentary information about one, multiple or all commands.", since: "7.0.0",
        group: "server", complexity: "O(N) where N is the number of commands to look up",
        arguments: [CommandArgument("command-name", .string, optional: true, multiple: true)]
    ) { call, state in
        let table = call.server.commands
        let specs = call.count == 2 ? table.topLevel : call.arguments.dropFirst(2).compactMap { table.command(named: String(buffer: $0)) }
        state.reply.mapHeader(specs.count)
        for spec in specs {
            state.reply.bulk(spec.fullName)
            writeDocs(spec, call: call, reply: &state.reply)
        }
    }

    static let help = HelpCommand.spec(for: "command")

    /// COMMAND INFO's ten-element entry.
    static func writeInfo(_ spec: CommandSpec, call: CommandCall, reply: inout ReplyWriter) {
        reply.arrayHeader(10)
        reply.bulk(spec.fullName)
        reply.integer(spec.arity)
        reply.setHeader(spec.flags.count)
        for flag in spec.flags { reply.simple(flag) }
        reply.integer(spec.firstKey)
        reply.integer(spec.firstKey)
        reply.integer(spec.firstKey == 0 ? 0 : 1)
        reply.setHeader(spec.categories.count)
        for category in spec.categories { reply.simple(category) }
        reply.arrayHeader(0)  // tips
        if spec.firstKey > 0 {
            // One key spec: the user id at a fixed position, read-only or read-write.
            reply.arrayHeader(1)
            reply.mapHeader(3)
            reply.bulk("flags")
            reply.setHeader(1)
            reply.simple(spec.flags.contains("write") ? "RW" : "RO")
            reply.bulk("begin_search")
            reply.mapHeader(2)
            reply.bulk("type")
            reply.bulk("index")
            reply.bulk("spec")
            reply.mapHeader(1)
            reply.bulk("index")
            reply.integer(spec.firstKey)
            reply.bulk("find_keys")
            reply.mapHeader(2)
            reply.bulk("type")
            reply.bulk("range")
            reply.bulk("spec")
            reply.mapHeader(3)
            reply.bulk("lastkey")
            reply.integer(0)
            reply.bulk("keystep")
            reply.integer(1)
            reply.bulk("limit")
            reply.integer(0)
        } else {
            reply.arrayHeader(0)
        }
        let subs = call.server.commands.subcommands(of: spec)
        reply.arrayHeader(subs.count)
        for sub in subs { writeInfo(sub, call: call, reply: &reply) }
    }

    /// COMMAND DOCS's map for one command.
    static func writeDocs(_ spec: CommandSpec, call: CommandCall, reply: inout ReplyWriter) {
        let subs = call.server.commands.subcommands(of: spec)
        let fields = 4 + (spec.arguments.isEmpty ? 0 : 1) + (subs.isEmpty ? 0 : 1)
        reply.mapHeader(fields)
        reply.bulk("summary")
        reply.bulk(spec.summary)
        reply.bulk("since")
        reply.bulk(spec.since)
        reply.bulk("group")
        reply.bulk(spec.group)
        reply.bulk("complexity")
        reply.bulk(spec.complexity)
        if !spec.arguments.isEmpty {
            reply.bulk("arguments")
            writeArguments(spec.arguments, reply: &reply)
        }
        if !subs.isEmpty {
            reply.bulk("subcommands")
            reply.mapHeader(subs.count)
            for sub in subs {
                reply.bulk(sub.fullName)
                writeDocs(sub, call: call, reply: &reply)
            }
        }
    }

    static func writeArguments(_ arguments: [CommandArgument], reply: inout ReplyWriter) {
        reply.arrayHeader(arguments.count)
        for argument in arguments {
            var flags: [String] = []
            if argument.optional { flags.append("optional") }
            if argument.multiple { flags.append("multiple") }
            let showsText = argument.kind != .pureToken && argument.kind != .oneof && argument.kind != .block
            let fields =
                2 + (showsText ? 1 : 0) + (argument.token == nil ? 0 : 1) + (flags.isEmpty ? 0 : 1)
                + (argument.children.isEmpty ? 0 : 1)
            reply.mapHeader(fields)
            reply.bulk("name")
            reply.bulk(argument.name)
            reply.bulk("type")
            reply.bulk(argument.kind.rawValue)
            if showsText {
                reply.bulk("display_text")
                reply.bulk(argument.name)
            }
            if let token = argument.token {
                reply.bulk("token")
                reply.bulk(token)
            }
            if !flags.isEmpty {
                reply.bulk("flags")
                reply.setHeader(flags.count)
                for flag in flags { reply.simple(flag) }
            }
            if !argument.children.isEmpty {
                reply.bulk("arguments")
                writeArguments(argument.children, reply: &reply)
            }
        }
    }
}
