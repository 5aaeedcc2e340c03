import Foundation
import Logging
import PostgresNIO

/// The cluster's membership and slot map in PostgreSQL (migration 0006):
/// what CLUSTER MEET, ADDSLOTS and SET-CONFIG-EPOCH change, and what every
/// node reloads when `cluster_version` moves.
struct ClusterStore: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// A refusal in Redis's words.
    struct Refusal: Error {
        let message: String
    }

    /// This node's row, by its address: the id it had before a restart, or a new one.
    func register(host: String, port: Int) async throws -> ClusterView.Node {
        let id = Self.newID()
        try await self.transaction { connection in
            // One registration at a time, so numbers are given once each.
            try await connection.query("LOCK TABLE cluster_nodes IN EXCLUSIVE MODE", logger: self.logger)
            let inserted = try await connection.query(
                """
                INSERT INTO cluster_nodes (id, host, port, number)
                SELECT \(id), \(host), \(Int32(port)), COALESCE(max(number) + 1, 0) FROM cluster_nodes
                ON CONFLICT (host, port) DO NOTHING RETURNING id
                """, logger: self.logger)
            var new = false
            for try await _ in inserted { new = true }
            if new { try await Self.bump(connection, self.logger) }
        }
        let rows = try await self.client.query(
            "SELECT id, host, port, config_epoch, joined, number FROM cluster_nodes WHERE host = \(host) AND port = \(Int32(port))",
            logger: self.logger)
        for try await (id, host, port, epoch, joined, number) in rows.decode((String, String, Int32, Int64, Bool, Int32).self) {
            return ClusterView.Node(id: id, host: host, port: Int(port), configEpoch: epoch, joined: joined, number: Int(number))
        }
        throw Refusal(message: "ERR could not register this node in PostgreSQL")
    }

    /// The change feed's newest position (0 when empty).
    func newestChange() async throws -> Int64 {
        for try await (position) in try await self.client.query(
            "SELECT COALESCE(max(position), 0)::int8 FROM cluster_changes", logger: self.logger
        ).decode(Int64.self) {
            return position
        }
        return 0
    }

    func version() async throws -> Int64 {
        for try await (version) in try await self.client.query("SELECT version FROM cluster_version", logger: self.logger)
            .decode(Int64.self)
        {
            return version
        }
        return 0
    }

    /// Every registered node, and each slot's owner, with the version they are as of.
    func load() async throws -> (version: Int64, nodes: [ClusterView.Node], owners: [String?]) {
        let version = try await self.version()
        var nodes: [ClusterView.Node] = []
        for try await (id, host, port, epoch, joined, number) in try await self.client.query(
            "SELECT id, host, port, config_epoch, joined, number FROM cluster_nodes ORDER BY number", logger: self.logger
        ).decode((String, String, Int32, Int64, Bool, Int32).self) {
            nodes.append(ClusterView.Node(id: id, host: host, port: Int(port), configEpoch: epoch, joined: joined, number: Int(number)))
        }
        var owners = [String?](repeating: nil, count: HashSlot.count)
        for try await (slot, owner) in try await self.client.query("SELECT slot, node_id FROM cluster_slots", logger: self.logger)
            .decode((Int32, String).self)
        {
            owners[Int(slot)] = owner
        }
        return (version, nodes, owners)
    }

    /// CLUSTER ADDSLOTS: all of them this node's, or none if one is taken.
    func addSlots(_ slots: [Int], to id: String) async throws {
        try await self.transaction { connection in
            let taken = try await connection.query(
                "SELECT slot FROM cluster_slots WHERE slot = ANY(\(slots.map(Int32.init))::int4[]) ORDER BY slot LIMIT 1 FOR UPDATE",
                logger: self.logger)
            for try await (slot) in taken.decode(Int32.self) { throw Refusal(message: "ERR Slot \(slot) is already busy") }
            try await connection.query(
                "INSERT INTO cluster_slots (slot, node_id) SELECT s, \(id) FROM UNNEST(\(slots.map(Int32.init))::int4[]) AS s",
                logger: self.logger)
            try await Self.bump(connection, self.logger)
        }
    }

    /// CLUSTER DELSLOTS: the slots become unassigned (each must be assigned).
    func deleteSlots(_ slots: [Int]) async throws {
        try await self.transaction { connection in
            let deleted = try await connection.query(
                "DELETE FROM cluster_slots WHERE slot = ANY(\(slots.map(Int32.init))::int4[]) RETURNING slot", logger: self.logger)
            var gone = Set<Int>()
            for try await (slot) in deleted.decode(Int32.self) { gone.insert(Int(slot)) }
            if let missing = slots.first(where: { !gone.contains($0) }) {
                throw Refusal(message: "ERR Slot \(missing) is already unassigned")
            }
            try await Self.bump(connection, self.logger)
        }
    }

    /// CLUSTER MEET: this node and the one at `host:port` (which must have
    /// started in cluster mode on this database) are in the cluster.
    func meet(_ id: String, host: String, port: Int) async throws {
        try await self.transaction { connection in
            let updated = try await connection.query(
                """
                UPDATE cluster_nodes SET joined = true
                WHERE id = \(id) OR (host = \(host) AND port = \(Int32(port))) RETURNING id
                """, logger: self.logger)
            var count = 0
            for try await _ in updated { count += 1 }
            guard count == 2 else {
                throw Refusal(message: "ERR no feed-server node in cluster mode is registered at \(host):\(port)")
            }
            try await Self.bump(connection, self.logger)
        }
    }

    func setConfigEpoch(_ id: String, _ epoch: Int64) async throws {
        try await self.transaction { connection in
            try await connection.query("UPDATE cluster_nodes SET config_epoch = \(epoch) WHERE id = \(id)", logger: self.logger)
            try await Self.bump(connection, self.logger)
        }
    }

    /// One transaction; a refusal thrown inside comes out as itself, not
    /// wrapped in PostgresNIO's transaction error.
    private func transaction(_ body: (PostgresConnection) async throws -> Void) async throws {
        do {
            try await self.client.withTransaction(logger: self.logger) { connection in try await body(connection) }
        } catch let failed as PostgresTransactionError {
            if let refusal = failed.closureError as? Refusal { throw refusal }
            throw failed
        }
    }

    private static func bump(_ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query("UPDATE cluster_version SET version = version + 1", logger: logger)
    }

    /// 40 random hex characters.
    static func newID() -> String {
        (0..<40).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
    }
}
