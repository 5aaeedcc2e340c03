import NIOCore
import RESP
import Timeline

/// CLUSTER, as much of it as cluster clients and `redis-cli --cluster
/// create` / `check` use (docs/adr/0015-cluster.md). Without `--cluster yes`
/// every subcommand answers as a Redis without cluster support does.
enum ClusterCommands {
    static let spec = CommandSpec(
        "cluster", arity: -2, categories: ["@slow"], summary: "A container for Redis Cluster commands.", since: "3.0.0",
        group: "cluster", complexity: "Depends on subcommand.",
        subcommands: [info, myid, nodes, slots, shards, keyslot, countkeysinslot, addslots, addslotsrange, delslots, meet, setConfigEpoch],
        handler: nil)

    static let disabled = "ERR This instance has cluster support disabled"

    /// A subcommand that reads this node's view.
    private static func reading(
        _ name: String, arity: Int, summary: String, arguments: [CommandArgument] = [],
        _ body: @escaping @Sendable (CommandCall, ClusterView, inout ReplyWriter) -> Void
    ) -> CommandSpec {
        CommandSpec(
            "cluster|\(name)", arity: arity, flags: ["stale"], categories: ["@slow"], summary: summary, since: "3.0.0",
            group: "cluster", arguments: arguments
        ) { call, state in
            guard let cluster = call.server.cluster else { return state.reply.error(Self.disabled) }
            guard let view = cluster.view else { return state.reply.error("CLUSTERDOWN The cluster is down") }
            body(call, view, &state.reply)
        }
    }

    /// A subcommand that changes the cluster in PostgreSQL: checked first,
    /// then run, the view reloaded, and `+OK` (or the refusal) sent.
    private static func changing(
        _ name: String, arity: Int, summary: String, arguments: [CommandArgument],
        _ prepare: @escaping @Sendable (CommandCall, ClusterView) throws(CommandError) -> @Sendable (ClusterStore) async throws -> Void
    ) -> CommandSpec {
        CommandSpec(
            "cluster|\(name)", arity: arity, flags: ["admin", "stale"], categories: ["@admin", "@slow", "@dangerous"],
            summary: summary, since: "3.0.0", group: "cluster", arguments: arguments
        ) { call, state in
            guard let cluster = call.server.cluster else { return state.reply.error(Self.disabled) }
            guard let view = cluster.view, let store = cluster.store else {
                return state.reply.error("CLUSTERDOWN The cluster is down")
            }
            let change: @Sendable (ClusterStore) async throws -> Void
            do throws(CommandError) {
                change = try prepare(call, view)
            } catch {
                return state.reply.error(error.message)
            }
            let version = state.reply.version
            let promise = call.eventLoop.makePromise(of: ByteBuffer.self)
            promise.completeWithTask {
                var writer = ReplyWriter(buffer: ByteBuffer(), version: version)
                do {
                    try await change(store)
                    try await cluster.refresh(force: true)
                    writer.ok()
                } catch let refusal as ClusterStore.Refusal {
                    writer.error(refusal.message)
                } catch {
                    writer.error(CommandError.storeUnavailable.message)
                }
                return writer.buffer
            }
            state.deferred = .blocking(promise.futureResult)
        }
    }

    static let info = reading("info", arity: 2, summary: "Returns information about the state of the cluster.") { _, view, reply in
        reply.verbatim(view.infoText)
    }

    static let myid = reading("myid", arity: 2, summary: "Returns this node's id.") { _, view, reply in
        reply.bulk(view.myself.id)
    }

    static let nodes = reading("nodes", arity: 2, summary: "Returns this node's view of the cluster, one line per node.") {
        _, view, reply in
        reply.verbatim(view.nodesText)
    }

    static let slots = reading("slots", arity: 2, summary: "Returns the slot ranges and the node that serves each.") {
        _, view, reply in
        let ranges = view.nodes.flatMap { node in view.ranges(of: node.id).map { (node, $0) } }.sorted { $0.1.lowerBound < $1.1.lowerBound }
        reply.arrayHeader(ranges.count)
        for (node, range) in ranges {
            reply.arrayHeader(3)
            reply.integer(range.lowerBound)
            reply.integer(range.upperBound)
            reply.arrayHeader(4)
            reply.bulk(node.host)
            reply.integer(node.port)
            reply.bulk(node.id)
            reply.arrayHeader(0)
        }
    }

    static let shards = reading("shards", arity: 2, summary: "Returns each shard: its slot ranges and its node.") { _, view, reply in
        reply.arrayHeader(view.nodes.count)
        for node in view.nodes {
            reply.mapHeader(2)
            reply.bulk("slots")
            let ranges = view.ranges(of: node.id)
            reply.arrayHeader(ranges.count * 2)
            for range in ranges {
                reply.integer(range.lowerBound)
                reply.integer(range.upperBound)
            }
            reply.bulk("nodes")
            reply.arrayHeader(1)
            reply.mapHeader(7)
            reply.bulk("id")
            reply.bulk(node.id)
            reply.bulk("port")
            reply.integer(node.port)
            reply.bulk("ip")
            reply.bulk(node.host)
            reply.bulk("endpoint")
            reply.bulk(node.host)
            reply.bulk("role")
            reply.bulk("master")
            reply.bulk("replication-offset")
            reply.integer(0)
            reply.bulk("health")
            reply.bulk("online")
        }
    }

    static let keyslot = reading(
        "keyslot", arity: 3, summary: "Returns the hash slot of a key (a user id).", arguments: [CommandArgument("key", .string)]
    ) { call, _, reply in
        reply.integer(HashSlot.of(call.arguments[2]))
    }

    static let countkeysinslot = CommandSpec(
        "cluster|countkeysinslot", arity: 3, flags: ["stale"], categories: ["@slow"],
        summary: "Returns how many users this node holds in a hash slot.", since: "3.0.0", group: "cluster",
        complexity: "O(U) for U users", arguments: [CommandArgument("slot", .integer)]
    ) { call, state in
        guard call.server.cluster != nil else { return state.reply.error(Self.disabled) }
        guard let slot = call.integer(2), (0..<Int64(HashSlot.count)).contains(slot) else {
            return state.reply.error("ERR Invalid slot")
        }
        let count = call.server.feed.withEngine { engine in engine.countUsers { HashSlot.of($0) == Int(slot) } }
        state.reply.integer(count)
    }

    /// Slots from arguments `from...`: each 0-16383, none twice.
    private static func slotArguments(_ call: CommandCall, from start: Int, ranges: Bool) throws(CommandError) -> [Int] {
        var slots: [Int] = []
        var seen = Set<Int>()
        var index = start
        while index < call.count {
            guard let first = call.integer(index), (0..<Int64(HashSlot.count)).contains(first) else {
                throw CommandError("ERR Invalid or out of range slot")
            }
            var last = first
            if ranges {
                guard index + 1 < call.count, let end = call.integer(index + 1), (0..<Int64(HashSlot.count)).contains(end) else {
                    throw CommandError("ERR Invalid or out of range slot")
                }
                guard end >= first else {
                    throw CommandError("ERR start slot number \(first) is greater than end slot number \(end)")
                }
                last = end
                index += 1
            }
            for slot in Int(first)...Int(last) {
                guard seen.insert(slot).inserted else { throw CommandError("ERR Slot \(slot) specified multiple times") }
                slots.append(slot)
            }
            index += 1
        }
        return slots
    }

    private static func claim(_ call: CommandCall, _ view: ClusterView, ranges: Bool) throws(CommandError)
        -> @Sendable (ClusterStore) async throws -> Void
    {
        let slots = try Self.slotArguments(call, from: 2, ranges: ranges)
        if let busy = slots.first(where: { view.owners[$0] != nil }) { throw CommandError("ERR Slot \(busy) is already busy") }
        let id = view.myself.id
        return { store in try await store.addSlots(slots, to: id) }
    }

    static let addslots = changing(
        "addslots", arity: -3, summary: "Assigns hash slots to this node.", arguments: [CommandArgument("slot", .integer, multiple: true)]
    ) { (call, view) throws(CommandError) in try Self.claim(call, view, ranges: false) }

    static let addslotsrange = changing(
        "addslotsrange", arity: -4, summary: "Assigns ranges of hash slots to this node.",
        arguments: [
            CommandArgument(
                "range", .block, multiple: true, children: [CommandArgument("start-slot", .integer), CommandArgument("end-slot", .integer)])
        ]
    ) { (call, view) throws(CommandError) in
        guard call.count % 2 == 0 else { throw CommandError(RedisError.wrongArity("cluster|addslotsrange")) }
        return try Self.claim(call, view, ranges: true)
    }

    static let delslots = changing(
        "delslots", arity: -3, summary: "Makes hash slots unassigned.", arguments: [CommandArgument("slot", .integer, multiple: true)]
    ) { (call, view) throws(CommandError) in
        let slots = try Self.slotArguments(call, from: 2, ranges: false)
        if let free = slots.first(where: { view.owners[$0] == nil }) { throw CommandError("ERR Slot \(free) is already unassigned") }
        return { store in try await store.deleteSlots(slots) }
    }

    static let meet = changing(
        "meet", arity: -4, summary: "Joins this node and the node at ip:port (started with --cluster yes on the same PostgreSQL).",
        arguments: [
            CommandArgument("ip", .string), CommandArgument("port", .integer),
            CommandArgument("cluster-bus-port", .integer, optional: true),
        ]
    ) { (call, view) throws(CommandError) in
        guard call.count <= 5 else { throw CommandError(RedisError.wrongArity("cluster|meet")) }
        let host = call.string(2)
        guard let port = call.integer(3), (1...65535).contains(port) else {
            throw CommandError("ERR Invalid base port specified: \(call.string(3))")
        }
        let id = view.myself.id
        return { store in try await store.meet(id, host: host, port: Int(port)) }
    }

    static let setConfigEpoch = changing(
        "set-config-epoch", arity: 3, summary: "Sets this node's config epoch (a new node's, before it meets others).",
        arguments: [CommandArgument("config-epoch", .integer)]
    ) { (call, view) throws(CommandError) in
        guard let epoch = call.integer(2), epoch >= 0 else { throw CommandError("ERR Invalid config epoch specified: \(call.string(2))") }
        guard view.nodes.count == 1 else {
            throw CommandError("ERR The user can assign a config epoch only when the node does not know any other node.")
        }
        guard view.myself.configEpoch == 0 else { throw CommandError("ERR Node config epoch is already non-zero") }
        let id = view.myself.id
        return { store in try await store.setConfigEpoch(id, epoch) }
    }
}
