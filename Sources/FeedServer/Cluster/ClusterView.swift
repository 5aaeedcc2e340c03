/// What a node knows of the cluster, as PostgreSQL last said: the nodes that
/// met (or only itself, before any MEET), their addresses and config
/// epochs, and which node owns each of the 16,384 slots. A value: the
/// cluster state swaps in a new one after each refresh.
struct ClusterView: Sendable {
    struct Node: Sendable, Equatable {
        /// 40 hex characters, as Redis's node ids.
        var id: String
        var host: String
        var port: Int
        var configEpoch: Int64
        /// Has met the cluster (CLUSTER MEET, either side).
        var joined: Bool
        /// Its number in post ids.
        var number: Int = 0

        var address: String { "\(self.host):\(self.port)" }
    }

    var myself: Node
    /// Every node this one knows: itself, plus every joined node once it has joined.
    var nodes: [Node]
    /// The id of each slot's owner; nil: unassigned.
    var owners: [String?]

    init(myself: Node, registered: [Node], owners: [String?]) {
        self.myself = registered.first { $0.id == myself.id } ?? myself
        let me = self.myself
        self.nodes = me.joined ? registered.filter { $0.joined || $0.id == me.id } : [me]
        let known = Set(self.nodes.map(\.id))
        self.owners = owners.map { owner in owner.flatMap { known.contains($0) ? $0 : nil } }
    }

    func node(_ id: String) -> Node? { self.nodes.first { $0.id == id } }

    /// Slot ranges owned by `id`, in order.
    func ranges(of id: String) -> [ClosedRange<Int>] {
        var ranges: [ClosedRange<Int>] = []
        var start: Int? = nil
        for slot in 0...HashSlot.count {
            let owned = slot < HashSlot.count && self.owners[slot] == id
            if owned, start == nil { start = slot }
            if !owned, let first = start {
                ranges.append(first...(slot - 1))
                start = nil
            }
        }
        return ranges
    }

    var assignedSlots: Int { self.owners.count { $0 != nil } }

    /// Every slot has an owner.
    var isComplete: Bool { self.assignedSlots == HashSlot.count }

    var currentEpoch: Int64 { self.nodes.map(\.configEpoch).max() ?? 0 }

    /// Nodes that own slots (Redis's cluster_size).
    var size: Int { Set(self.owners.compactMap { $0 }).count }

    /// CLUSTER NODES: one line per node, Redis's format (the bus port is the
    /// port + 10000, as Redis's default; there is no bus).
    var nodesText: String {
        self.nodes.map { node in
            let flags = node.id == self.myself.id ? "myself,master" : "master"
            let slots = self.ranges(of: node.id).map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            return ([node.id, "\(node.address)@\(node.port + 10_000)", flags, "-", "0", "0", String(node.configEpoch), "connected"] + slots)
                .joined(separator: " ")
        }.joined(separator: "\n") + "\n"
    }

    /// CLUSTER INFO's fields.
    var infoText: String {
        let assigned = self.assignedSlots
        return [
            "cluster_state:\(self.isComplete ? "ok" : "fail")",
            "cluster_slots_assigned:\(assigned)",
            "cluster_slots_ok:\(assigned)",
            "cluster_slots_pfail:0",
            "cluster_slots_fail:0",
            "cluster_known_nodes:\(self.nodes.count)",
            "cluster_size:\(self.size)",
            "cluster_current_epoch:\(self.currentEpoch)",
            "cluster_my_epoch:\(self.myself.configEpoch)",
            "cluster_stats_messages_sent:0",
            "cluster_stats_messages_received:0",
            "total_cluster_links_buffer_limit_exceeded:0",
        ].joined(separator: "\r\n") + "\r\n"
    }
}
