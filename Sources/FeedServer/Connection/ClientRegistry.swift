import Synchronization

/// Every connected client, by id. It is the single place that knows how many
/// clients there are, so `--maxclients` is enforced here, atomically with
/// registration.
final class ClientRegistry: Sendable {
    private let clients = Mutex<[Int64: ClientRecord]>([:])
    private let lastID = Atomic<Int64>(0)

    /// A new client id: increasing, never reused (CLIENT ID).
    func nextID() -> Int64 {
        self.lastID.add(1, ordering: .relaxed).newValue
    }

    /// Adds `record` unless `maxClients` are already connected.
    func register(_ record: ClientRecord, maxClients: Int) -> Bool {
        self.clients.withLock { clients in
            guard clients.count < maxClients else { return false }
            clients[record.id] = record
            return true
        }
    }

    func unregister(id: Int64) {
        _ = self.clients.withLock { $0.removeValue(forKey: id) }
    }

    var count: Int { self.clients.withLock { $0.count } }

    func record(id: Int64) -> ClientRecord? {
        self.clients.withLock { $0[id] }
    }

    /// All clients, oldest first (CLIENT LIST's order).
    func all() -> [ClientRecord] {
        self.records().sorted { $0.id < $1.id }
    }

    /// All clients, in no particular order.
    func records() -> [ClientRecord] {
        self.clients.withLock { Array($0.values) }
    }
}
