import NIOCore
import RESP
import Synchronization

/// CLIENT and its subcommands: naming, introspection and killing connections.
enum ClientCommand {
    /// Redis's rule for client names: printable ASCII, no spaces.
    static func isValidName(_ name: String) -> Bool {
        name.utf8.allSatisfy { $0 > 0x20 && $0 <= 0x7E }
    }

    /// One CLIENT LIST line, in Redis's field order.
    static func describe(_ record: ClientRecord, now: Int64) -> String {
        let details = record.details.withLock { $0 }
        let age = max(0, (now - record.createdAtMilliseconds) / 1000)
        let idle = max(0, (now - record.lastInteractionMilliseconds.load(ordering: .relaxed)) / 1000)
        let command = record.lastCommand.load(ordering: .relaxed)?.takeUnretainedValue().fullName ?? "NULL"
        let channels = record.subscribedChannels.load(ordering: .relaxed)
        let patterns = record.subscribedPatterns.load(ordering: .relaxed)
        let subscribed = channels + patterns > 0
        return "id=\(record.id) addr=\(record.address) laddr=\(record.localAddress) fd=-1 name=\(details.name) "
            + "age=\(age) idle=\(idle) flags=\(subscribed ? "P" : "N") db=0 sub=\(channels) psub=\(patterns) ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 "
            + "multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=\(command) user=default redir=-1 "
            + "resp=\(details.protocolVersion.rawValue) lib-name=\(details.libraryName) lib-ver=\(details.libraryVersion)\n"
    }

    static let spec = CommandSpec(
        "client", arity: -2, flags: [], categories: ["@slow"],
        summary: "A container for client connection commands.", since: "2.4.0", group: "connection",
        complexity: "Depends on subcommand.",
        subcommands: [id, getname, setname, setinfo, list, info, kill, noEvict, noTouch, help],
        handler: nil
    )

    static let id = CommandSpec(
        "client|id", arity: 2, flags: ["noscript", "loading", "stale"], categories: ["@slow", "@connection"],
        summary: "Returns the unique client ID of the connection.", since: "5.0.0", group: "connection"
    ) { _, state in
        state.reply.integer(state.id)
    }

    static let getname = CommandSpec(
        "client|getname", arity: 2, flags: ["noscript", "loading", "stale"], categories: ["@slow", "@connection"],
        summary: "Returns the name of the connection.", since: "2.6.9", group: "connection"
    ) { _, state in
        let name = state.record.details.withLock { $0.name }
        if name.isEmpty { state.reply.null() } else { state.reply.bulk(name) }
    }

    static let setname = CommandSpec(
        "client|setname", arity: 3, flags: ["noscript", "loading", "stale"], categories: ["@slow", "@connection"],
        summary: "Sets the connection name.", since: "2.6.9", group: "connection",
        arguments: [CommandArgument("connection-name", .string)]
    ) { call, state in
        let name = call.string(2)
        guard isValidName(name) else { return state.reply.error(RedisError.invalidClientName) }
        state.record.details.withLock { $0.name = name }
        state.reply.ok()
    }

    static let setinfo = CommandSpec(
        "client|setinfo", arity: 4, flags: ["noscript", "loading", "stale"], categories: ["@slow", "@connection"],
        summary: "Sets information about the client library (LIB-NAME, LIB-VER).", since: "7.2.0",
        group: "connection",
        arguments: [
            CommandArgument(
                "attr", .oneof,
                children: [
                    CommandArgument("libname", .string, token: "LIB-NAME"),
                    CommandArgument("libver", .string, token: "LIB-VER"),
                ])
        ]
    ) { call, state in
        let value = call.string(3)
        let isName = call.argument(2, is: "LIB-NAME")
        guard isName || call.argument(2, is: "LIB-VER") else {
            return state.reply.error("ERR Unrecognized option '\(call.string(2))'")
        }
        guard isValidName(value) || value.isEmpty else {
            return state.reply.error("ERR \(call.string(2)) cannot contain spaces, newlines or special characters.")
        }
        state.record.details.withLock {
            if isName { $0.libraryName = value } else { $0.libraryVersion = value }
        }
        state.reply.ok()
    }

    static let list = CommandSpec(
        "client|list", arity: -2, flags: ["admin", "noscript", "loading", "stale"],
        categories: ["@admin", "@slow", "@dangerous", "@connection"],
        summary: "Lists open connections.", since: "2.4.0", group: "connection",
        complexity: "O(N) where N is the number of client connections",
        arguments: [
            CommandArgument(
                "client-type", .oneof, token: "TYPE", optional: true,
                children: [
                    CommandArgument("normal", .pureToken, token: "NORMAL"),
                    CommandArgument("pubsub", .pureToken, token: "PUBSUB"),
                ]),
            CommandArgument("client-id", .integer, token: "ID", optional: true, multiple: true),
        ]
    ) { call, state in
        var wanted: Set<Int64>? = nil
        var index = 2
        while index < call.count {
            if call.argument(index, is: "TYPE") && index + 1 < call.count {
                let type = call.string(index + 1).lowercased()
                guard ["normal", "master", "replica", "slave", "pubsub"].contains(type) else {
                    return state.reply.error("ERR Unknown client type '\(call.string(index + 1))'")
                }
                if type != "normal" { wanted = [] }
                index += 2
            } else if call.argument(index, is: "ID") && index + 1 < call.count {
                var ids = wanted ?? []
                index += 1
                while index < call.count {
                    guard let id = call.integer(index), id > 0 else {
                        return state.reply.error("ERR Invalid client ID")
                    }
                    ids.insert(id)
                    index += 1
                }
                wanted = ids
            } else {
                return state.reply.error(RedisError.syntax)
            }
        }
        let now = WallClock.milliseconds()
        var text = ""
        for record in call.server.clients.all() where wanted?.contains(record.id) ?? true {
            text += describe(record, now: now)
        }
        state.reply.verbatim(text)
    }

    static let info = CommandSpec(
        "client|info", arity: 2, flags: ["noscript", "loading", "stale"], categories: ["@slow", "@connection"],
        summary: "Returns information about the connection.", since: "6.2.0", group: "connection"
    ) { call, state in
        state.reply.verbatim(describe(state.record, now: WallClock.milliseconds()))
    }

    static let kill = CommandSpec(
        "client|kill", arity: -3, flags: ["admin", "noscript", "loading", "stale"],
        categories: ["@admin", "@slow", "@dangerous", "@connection"],
        summary: "Terminates open connections.", since: "2.4.0", group: "connection",
        complexity: "O(N) where N is the number of client connections",
        arguments: [
            CommandArgument(
                "filter", .oneof,
                children: [
                    CommandArgument("old-format", .string),
                    CommandArgument(
                        "new-format", .oneof, multiple: true,
                        children: [
                            CommandArgument("client-id", .integer, token: "ID", optional: true),
                            CommandArgument("ip:port", .string, token: "ADDR", optional: true),
                            CommandArgument("ip:port", .string, token: "LADDR", optional: true),
                            CommandArgument("username", .string, token: "USER", optional: true),
                            CommandArgument("yes/no", .string, token: "SKIPME", optional: true),
                        ]),
                ])
        ]
    ) { call, state in
        let clients = call.server.clients
        if call.count == 3 {
            // The old form, CLIENT KILL ip:port, replies OK or an error.
            let address = call.string(2)
            guard let victim = clients.all().first(where: { $0.address == address }) else {
                return state.reply.error(RedisError.noSuchClient)
            }
            state.reply.ok()
            close(victim, state: &state)
            return
        }
        var id: Int64?
        var address: String?
        var localAddress: String?
        var skipMe = true
        var index = 2
        while index < call.count {
            guard index + 1 < call.count else { return state.reply.error(RedisError.syntax) }
            let value = call.string(index + 1)
            if call.argument(index, is: "ID") {
                guard let parsed = call.integer(index + 1), parsed > 0 else {
                    return state.reply.error("ERR client-id should be greater than 0")
                }
                id = parsed
            } else if call.argument(index, is: "ADDR") {
                address = value
            } else if call.argument(index, is: "LADDR") {
                localAddress = value
            } else if call.argument(index, is: "USER") {
                guard value == "default" else { return state.reply.error("ERR No such user '\(value)'") }
            } else if call.argument(index, is: "TYPE") {
                guard ["normal", "master", "replica", "slave", "pubsub"].contains(value.lowercased()) else {
                    return state.reply.error("ERR Unknown client type '\(value)'")
                }
            } else if call.argument(index, is: "SKIPME") {
                if call.argument(index + 1, is: "yes") {
                    skipMe = true
                } else if call.argument(index + 1, is: "no") {
                    skipMe = false
                } else {
                    return state.reply.error(RedisError.syntax)
                }
            } else if call.argument(index, is: "MAXAGE") {
                guard call.integer(index + 1) != nil else { return state.reply.error(RedisError.notAnInteger) }
            } else {
                return state.reply.error(RedisError.syntax)
            }
            index += 2
        }
        let victims = clients.all().filter { record in
            (id == nil || record.id == id)
                && (address == nil || record.address == address)
                && (localAddress == nil || record.localAddress == localAddress)
                && !(skipMe && record.id == state.id)
        }
        state.reply.integer(victims.count)
        for victim in victims { close(victim, state: &state) }
    }

    /// Closes another connection now, or this one once its reply is out.
    private static func close(_ victim: ClientRecord, state: inout ConnectionState) {
        if victim.id == state.id {
            state.afterReply = .close
        } else {
            victim.channel.close(promise: nil)
        }
    }

    static let noEvict = CommandSpec(
        "client|no-evict", arity: 3, flags: ["admin", "noscript", "loading", "stale"],
        categories: ["@admin", "@slow", "@dangerous", "@connection"],
        summary: "Accepted for compatibility; clients are never evicted.", since: "7.0.0", group: "connection",
        arguments: [
            CommandArgument(
                "enabled", .oneof,
                children: [CommandArgument("on", .pureToken, token: "ON"), CommandArgument("off", .pureToken, token: "OFF")])
        ]
    ) { call, state in
        guard call.argument(2, is: "ON") || call.argument(2, is: "OFF") else { return state.reply.error(RedisError.syntax) }
        state.reply.ok()
    }

    static let noTouch = CommandSpec(
        "client|no-touch", arity: 3, flags: ["noscript", "loading", "stale"], categories: ["@slow", "@connection"],
        summary: "Accepted for compatibility; there is no key LRU to touch.", since: "7.2.0", group: "connection",
        arguments: [
            CommandArgument(
                "enabled", .oneof,
                children: [CommandArgument("on", .pureToken, token: "ON"), CommandArgument("off", .pureToken, token: "OFF")])
        ]
    ) { call, state in
        guard call.argument(2, is: "ON") || call.argument(2, is: "OFF") else { return state.reply.error(RedisError.syntax) }
        state.reply.ok()
    }

    static let help = HelpCommand.spec(for: "client")
}
