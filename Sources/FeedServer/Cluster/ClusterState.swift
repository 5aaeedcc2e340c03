import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// This node's part in a cluster (`--cluster yes`, docs/adr/0015-cluster.md):
/// its identity, the view of the cluster PostgreSQL last gave, and the
/// routing every keyed command goes through. Nodes learn of each other's
/// changes by polling `cluster_version`; there is no bus and no gossip.
final class ClusterState: Sendable {
    private struct Joined: Sendable {
        var store: ClusterStore
        var view: ClusterView
        var version: Int64
    }

    private let state = Mutex<Joined?>(nil)
    /// The other nodes' changes, as this node reads and applies them.
    let changes = ChangeFeed()

    /// The view, once this node has registered (nil before: the cluster is down for it).
    var view: ClusterView? { self.state.withLock { $0?.view } }

    var store: ClusterStore? { self.state.withLock { $0?.store } }

    /// Registers this node by the address clients reach it at, and loads the cluster.
    /// Returns this node's number, for its post ids.
    func start(client: PostgresClient, host: String, port: Int, logger: Logger) async throws -> Int {
        let store = ClusterStore(client: client, logger: logger)
        let myself = try await store.register(host: host, port: port)
        let loaded = try await store.load()
        self.state.withLock {
            $0 = Joined(store: store, view: ClusterView(myself: myself, registered: loaded.nodes, owners: loaded.owners), version: loaded.version)
        }
        logger.notice(
            "Cluster node \(myself.id) at \(myself.address)",
            metadata: ["slots": "\(self.view?.ranges(of: myself.id).reduce(0) { $0 + $1.count } ?? 0)", "number": "\(myself.number)"])
        return myself.number
    }

    /// Reloads the view if PostgreSQL's version moved (or `force`).
    func refresh(force: Bool = false) async throws {
        guard let (store, myself, known) = self.state.withLock({ state in state.map { ($0.store, $0.view.myself, $0.version) } })
        else { return }
        if !force, try await store.version() == known { return }
        let loaded = try await store.load()
        let view = ClusterView(myself: myself, registered: loaded.nodes, owners: loaded.owners)
        self.state.withLock { state in
            guard state != nil, loaded.version >= state!.version else { return }
            state!.view = view
            state!.version = loaded.version
        }
    }

    /// Where a command for `key` must go instead, as the error to reply
    /// with (`MOVED slot host:port`); nil when this node owns its slot.
    func redirect(forKey key: ByteBuffer) -> String? {
        let slot = HashSlot.of(key)
        return self.state.withLock { state -> String? in
            guard let view = state?.view else { return "CLUSTERDOWN The cluster is down" }
            guard let owner = view.owners[slot] else { return "CLUSTERDOWN Hash slot not served" }
            if owner == view.myself.id { return nil }
            guard let node = view.node(owner) else { return "CLUSTERDOWN Hash slot not served" }
            return "MOVED \(slot) \(node.address)"
        }
    }
}
