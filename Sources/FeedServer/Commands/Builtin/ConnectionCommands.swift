import NIOCore
import RESP
import Synchronization

/// PING, ECHO, SELECT, QUIT, RESET: the connection housekeeping every client sends.
enum ConnectionCommands {
    static let ping = CommandSpec(
        "ping", arity: -1, flags: ["fast", "sentinel"], categories: ["@fast", "@connection"],
        summary: "Returns the server's liveliness response.", group: "connection",
        arguments: [CommandArgument("message", .string, optional: true)]
    ) { call, state in
        guard call.count <= 2 else { return state.reply.error(RedisError.wrongArity("ping")) }
        if state.inSubscribedMode {
            // Subscribed (RESP2), Redis answers as a message: ["pong", message].
            state.reply.arrayHeader(2)
            state.reply.bulk("pong")
            if call.count == 2 { state.reply.bulk(call.arguments[1]) } else { state.reply.bulk("") }
            return
        }
        switch call.count {
        case 1: state.reply.buffer.writeStaticString("+PONG\r\n")
        default: state.reply.bulk(call.arguments[1])
        }
    }

    static let echo = CommandSpec(
        "echo", arity: 2, flags: ["fast"], categories: ["@fast", "@connection"],
        summary: "Returns the given string.", group: "connection",
        arguments: [CommandArgument("message", .string)]
    ) { call, state in
        state.reply.bulk(call.arguments[1])
    }

    static let select = CommandSpec(
        "select", arity: 2, flags: ["loading", "stale", "fast"], categories: ["@fast", "@connection"],
        summary: "Changes the selected database. Only database 0 exists.", since: "1.0.0", group: "connection",
        arguments: [CommandArgument("index", .integer)]
    ) { call, state in
        guard let index = call.integer(1) else { return state.reply.error(RedisError.notAnInteger) }
        if index == 0 { state.reply.ok() } else { state.reply.error(RedisError.dbIndexOutOfRange) }
    }

    static let quit = CommandSpec(
        "quit", arity: -1, flags: ["allow_busy", "noscript", "loading", "stale", "fast", "no_auth"],
        categories: ["@fast", "@connection"],
        summary: "Closes the connection.", group: "connection"
    ) { _, state in
        state.reply.ok()
        state.afterReply = .close
    }

    static let reset = CommandSpec(
        "reset", arity: 1, flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
        categories: ["@fast", "@connection"],
        summary: "Resets the connection: RESP2, no name, no subscriptions, and unauthenticated when a password is set.",
        since: "6.2.0", group: "connection"
    ) { call, state in
        PubSubCommands.unsubscribeAll(call, &state)
        state.setProtocol(.resp2)
        state.record.details.withLock { $0.name = "" }
        state.authenticated = call.server.configuration.requirePass == nil
        state.reply.simple("RESET")
    }
}
