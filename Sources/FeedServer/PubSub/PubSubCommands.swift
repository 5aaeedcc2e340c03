import NIOCore
import RESP
import Synchronization

/// SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH and PUBSUB, as
/// Redis 7 has them: (un)subscribe confirmations are messages (`*3` in RESP2,
/// `>3` pushes in RESP3), each carrying the connection's subscription count.
enum PubSubCommands {
    static let all: [CommandSpec] = [subscribe, unsubscribe, psubscribe, punsubscribe, publish, pubsub]

    /// Commands a RESP2 connection with subscriptions may run (Redis's words).
    static let allowedWhileSubscribed: Set<String> = [
        "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe", "ping", "quit", "reset",
    ]

    /// Redis's refusal of anything else in subscribed mode.
    static func notAllowed(_ command: String) -> String {
        "ERR Can't execute '\(command)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    }

    private static let channel = CommandArgument("channel", .string, multiple: true)
    private static let pattern = CommandArgument("pattern", .pattern, multiple: true)
    private static let flags = ["pubsub", "noscript", "loading", "stale"]

    static let subscribe = CommandSpec(
        "subscribe", arity: -2, flags: flags, categories: ["@pubsub", "@slow"],
        summary: "Listens for messages published to channels (feed:<user>, posts:<author>, or any).",
        since: "2.0.0", group: "pubsub", complexity: "O(N) where N is the number of channels to subscribe to.",
        arguments: [channel]
    ) { call, state in
        guard let target = state.pushTarget else { return }
        for index in 1..<call.count {
            let name = call.string(index)
            if state.subscriptions.subscribe(channel: name) { call.server.pubsub.subscribe(target, channel: name) }
            confirm("subscribe", name, state.subscriptions.count, &state)
        }
        publishCounts(&state)
    }

    static let psubscribe = CommandSpec(
        "psubscribe", arity: -2, flags: flags, categories: ["@pubsub", "@slow"],
        summary: "Listens for messages published to channels matching glob patterns.",
        since: "2.0.0", group: "pubsub", complexity: "O(N) where N is the number of patterns to subscribe to.",
        arguments: [pattern]
    ) { call, state in
        guard let target = state.pushTarget else { return }
        for index in 1..<call.count {
            let name = call.string(index)
            if state.subscriptions.subscribe(pattern: name) { call.server.pubsub.subscribe(target, pattern: name) }
            confirm("psubscribe", name, state.subscriptions.count, &state)
        }
        publishCounts(&state)
    }

    static let unsubscribe = CommandSpec(
        "unsubscribe", arity: -1, flags: flags, categories: ["@pubsub", "@slow"],
        summary: "Stops listening to channels; all of them without arguments.",
        since: "2.0.0", group: "pubsub", complexity: "O(N) where N is the number of channels to unsubscribe.",
        arguments: [CommandArgument("channel", .string, optional: true, multiple: true)]
    ) { call, state in
        let names = call.count > 1 ? (1..<call.count).map { call.string($0) } : state.subscriptions.channels
        guard !names.isEmpty else { return confirm("unsubscribe", nil, state.subscriptions.count, &state) }
        for name in names {
            if state.subscriptions.unsubscribe(channel: name), let target = state.pushTarget {
                call.server.pubsub.unsubscribe(target, channel: name)
            }
            confirm("unsubscribe", name, state.subscriptions.count, &state)
        }
        publishCounts(&state)
    }

    static let punsubscribe = CommandSpec(
        "punsubscribe", arity: -1, flags: flags, categories: ["@pubsub", "@slow"],
        summary: "Stops listening to patterns; all of them without arguments.",
        since: "2.0.0", group: "pubsub", complexity: "O(N) where N is the number of patterns to unsubscribe.",
        arguments: [CommandArgument("pattern", .pattern, optional: true, multiple: true)]
    ) { call, state in
        let names = call.count > 1 ? (1..<call.count).map { call.string($0) } : state.subscriptions.patterns
        guard !names.isEmpty else { return confirm("punsubscribe", nil, state.subscriptions.count, &state) }
        for name in names {
            if state.subscriptions.unsubscribe(pattern: name), let target = state.pushTarget {
                call.server.pubsub.unsubscribe(target, pattern: name)
            }
            confirm("punsubscribe", name, state.subscriptions.count, &state)
        }
        publishCounts(&state)
    }

    static let publish = CommandSpec(
        "publish", arity: 3, flags: ["pubsub", "loading", "stale", "fast"], categories: ["@pubsub", "@fast"],
        summary: "Posts a message to a channel; returns how many received it.",
        since: "2.0.0", group: "pubsub", complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
        arguments: [CommandArgument("channel", .string), CommandArgument("message", .string)]
    ) { call, state in
        state.reply.integer(call.server.pubsub.publish(channel: call.string(1), payload: call.arguments[2]))
    }

    static let pubsub = CommandSpec(
        "pubsub", arity: -2, flags: [], categories: ["@slow"],
        summary: "A container for Pub/Sub commands.", since: "2.8.0", group: "pubsub",
        complexity: "Depends on subcommand.", subcommands: [channels, numsub, numpat, help], handler: nil)

    static let channels = CommandSpec(
        "pubsub|channels", arity: -2, flags: ["pubsub", "loading", "stale"], categories: ["@pubsub", "@slow"],
        summary: "Returns the active channels.", since: "2.8.0", group: "pubsub",
        complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
        arguments: [CommandArgument("pattern", .pattern, optional: true)]
    ) { call, state in
        guard call.count <= 3 else { return state.reply.error(RedisError.wrongArity("pubsub|channels")) }
        let names = call.server.pubsub.channels(matching: call.count == 3 ? call.string(2) : nil)
        state.reply.arrayHeader(names.count)
        for name in names { state.reply.bulk(name) }
    }

    static let numsub = CommandSpec(
        "pubsub|numsub", arity: -2, flags: ["pubsub", "loading", "stale"], categories: ["@pubsub", "@slow"],
        summary: "Returns a count of subscribers to channels.", since: "2.8.0", group: "pubsub",
        complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
        arguments: [CommandArgument("channel", .string, optional: true, multiple: true)]
    ) { call, state in
        let names = (2..<call.count).map { call.string($0) }
        let counts = call.server.pubsub.subscriberCounts(names)
        // A flat array in both protocols, as Redis answers it.
        state.reply.arrayHeader(2 * names.count)
        for (name, count) in zip(names, counts) {
            state.reply.bulk(name)
            state.reply.integer(count)
        }
    }

    static let numpat = CommandSpec(
        "pubsub|numpat", arity: 2, flags: ["pubsub", "loading", "stale"], categories: ["@pubsub", "@slow"],
        summary: "Returns a count of unique pattern subscriptions.", since: "2.8.0", group: "pubsub"
    ) { call, state in
        state.reply.integer(call.server.pubsub.patternCount)
    }

    static let help = HelpCommand.spec(for: "pubsub")

    /// RESET's part: every subscription goes.
    static func unsubscribeAll(_ call: CommandCall, _ state: inout ConnectionState) {
        if let target = state.pushTarget { call.server.pubsub.removeAll(target, state.subscriptions) }
        state.subscriptions = SubscriptionSet()
        publishCounts(&state)
    }

    /// `[kind, name, count]`: a message in RESP2, a push in RESP3; a nil
    /// name when there was nothing to unsubscribe from.
    private static func confirm(_ kind: StaticString, _ name: String?, _ count: Int, _ state: inout ConnectionState) {
        state.reply.buffer.writeRESPPushHeader(3, state.reply.version)
        state.reply.buffer.writeRESPBulkString(kind.description)
        if let name { state.reply.bulk(name) } else { state.reply.null() }
        state.reply.integer(count)
    }

    private static func publishCounts(_ state: inout ConnectionState) {
        state.record.subscribedChannels.store(state.subscriptions.channels.count, ordering: .relaxed)
        state.record.subscribedPatterns.store(state.subscriptions.patterns.count, ordering: .relaxed)
    }
}
