import Foundation
import CoreMetrics
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import ServiceLifecycle
import Timeline
import Synchronization

/// PostgreSQL's side of the server, as a `Service`: starts the embedded
/// instance if there is no URL, applies migrations, loads the state, opens
/// the listener (through `Persistence.ready`), then writes the journal in
/// batches until shutdown, when it commits what is left before stopping.
///
/// It runs before the listener in the service group, so at shutdown the
/// listener stops first and this service still commits the last writes.
final class PersistenceService: Service, Sendable {
    let context: ServerContext
    let persistence: Persistence
    let embedded: EmbeddedPostgres?
    private let shuttingDown = Atomic<Bool>(false)

    init(context: ServerContext, persistence: Persistence) {
        self.context = context
        self.persistence = persistence
        let settings = persistence.settings
        self.embedded =
            settings.url == nil
            ? EmbeddedPostgres(directory: settings.dataDirectory, fsync: settings.embeddedFsync, logger: context.logger) : nil
    }

    var logger: Logger { self.context.logger }

    func run() async throws {
        do {
            try await self.runPersistence()
        } catch {
            self.persistence.ready.fail(error)
            await self.embedded?.stop()
            throw error
        }
        await self.embedded?.stop()
    }

    private func runPersistence() async throws {
        let endpoint: PostgresEndpoint
        if let embedded = self.embedded {
            try await embedded.start()
            endpoint = PostgresEndpoint(
                address: .unixSocket(path: embedded.socketPath), user: EmbeddedPostgres.user, password: nil,
                database: EmbeddedPostgres.database)
        } else {
            endpoint = try PostgresEndpoint(url: self.persistence.settings.url!)
        }
        var configuration = endpoint.clientConfiguration
        configuration.options.maximumConnections = 8
        let client = PostgresClient(configuration: configuration)
        // The client's pool must outlive the journal's last commit at shutdown,
        // so it does not share this service's graceful-shutdown signal (a
        // detached task inherits none): it stops when cancelled, after the writer.
        let clientTask = Task.detached { await client.run() }
        defer { clientTask.cancel() }

        try await self.retryingAtStart { try await Migrations.apply(try Migrations.bundled(), client: client, logger: self.logger) }
        let keys = self.persistence.keys
        if let changes = self.context.cluster?.changes {
            // What the state about to load holds; changes after it are applied on top.
            let store = ClusterStore(client: client, logger: self.logger)
            try await self.retryingAtStart { changes.applied.store(try await store.newestChange(), ordering: .relaxed) }
        }
        let summary = try await StateLoader.load(into: self.context.feed, keys: keys, client: client, logger: self.logger)
        self.persistence.loadMilliseconds.store(Int(summary.duration / .milliseconds(1)), ordering: .relaxed)
        let store = PostgresStore(
            client: client, keys: keys, baseline: summary.baseline, startedAt: summary.startedAt, logger: self.logger)
        self.persistence.store.withLock { $0 = store }
        self.persistence.ready.succeed()
        let warmLimit = self.context.configuration.warmPostLimit
        let warming = Task { [context] in
            await StateLoader.warm(
                into: context.feed, client: client, baseline: summary.baseline, limit: warmLimit, logger: self.logger)
        }
        defer { warming.cancel() }

        let writer = JournalConnection(
            configuration: try endpoint.connectionConfiguration(connectTimeout: self.persistence.settings.writeTimeout),
            logger: self.logger)
        let uncommitted = await withGracefulShutdownHandler {
            await self.writeJournal(through: writer)
        } onGracefulShutdown: {
            self.shuttingDown.store(true, ordering: .relaxed)
            self.persistence.journal.wakeWriter()
        }
        self.persistence.store.withLock { $0 = nil }
        await writer.close()
        clientTask.cancel()
        await clientTask.value
        if uncommitted > 0 { throw UncommittedWrites(count: uncommitted) }
    }

    /// Shutdown could not commit everything: the exit status says so.
    struct UncommittedWrites: Error, CustomStringConvertible {
        let count: Int
        var description: String { "\(self.count) acknowledged writes were not committed to PostgreSQL" }
    }

    /// At start-up PostgreSQL may still be coming up: retry for a while.
    private func retryingAtStart(_ body: () async throws -> Void) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            do {
                return try await body()
            } catch {
                guard ContinuousClock.now < deadline else { throw error }
                self.logger.notice("Waiting for PostgreSQL: \(String(reflecting: error))")
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// The writer: one batch at a time, in order, each in one transaction,
    /// retried with backoff until it commits. Returns, at shutdown, how many
    /// journaled writes it could not commit (0 normally).
    private func writeJournal(through writer: JournalConnection) async -> Int {
        let journal = self.persistence.journal
        let settings = self.persistence.settings
        var backoff = Duration.milliseconds(50)
        var shutdownDeadline: ContinuousClock.Instant?
        while true {
            let stopping = self.shuttingDown.load(ordering: .relaxed)
            if stopping && shutdownDeadline == nil {
                shutdownDeadline = .now + settings.shutdownFlushTimeout
                let backlog = journal.backlog
                if backlog.entries > 0 { self.logger.notice("Committing \(backlog.entries) journaled writes before exit") }
            }
            let pending = journal.pending
            if pending.count == 0 {
                if stopping { return 0 }
                await journal.waitForWork()
                continue
            }
            // Async writes wait up to the flush interval to travel in a bigger
            // batch, unless someone waits for them (sync mode, FEED.SYNC).
            if !stopping && !self.persistence.isSync && pending.waiters == 0 && pending.count < settings.batchSize
                && pending.oldestAge < settings.flushInterval
            {
                try? await Task.sleep(for: settings.flushInterval - pending.oldestAge)
                continue
            }
            let batch = journal.batch(limit: settings.batchSize)
            let started = ContinuousClock.now
            do {
                let mutations = batch.map(\.mutation)
                // In cluster mode the batch carries what the other nodes need, in the same transaction.
                let changes = self.context.cluster.map { cluster in
                    ChangeFeedEntry(node: cluster.changes.node.load(ordering: .relaxed), at: WallClock.milliseconds(), mutations: mutations)
                }
                try await writer.write(
                    MutationBatch(mutations), keys: self.persistence.keys, changes: changes, timeout: settings.writeTimeout)
                let lsn = batch.last!.lsn
                journal.commit(through: lsn)
                // What the batch made may now leave memory.
                let now = WallClock.milliseconds()
                self.context.feed.withEngine { $0.markDurable(through: lsn, now: now) }
                self.recordCommitted(batch.count, took: .now - started)
                backoff = .milliseconds(50)
            } catch {
                self.persistence.writeErrors.add(1, ordering: .relaxed)
                if !self.persistence.isDown.exchange(true, ordering: .relaxed) {
                    self.logger.error(
                        "PostgreSQL write failed; retrying with backoff, acknowledged writes stay journaled",
                        metadata: ["error": "\(String(reflecting: error))", "journaled": "\(journal.backlog.entries)"])
                }
                if let deadline = shutdownDeadline, ContinuousClock.now >= deadline {
                    let left = journal.backlog.entries
                    self.logger.critical("Giving up at shutdown: \(left) acknowledged writes were not committed to PostgreSQL")
                    return left
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(2))
            }
        }
    }

    private func recordCommitted(_ entries: Int, took duration: Duration) {
        let persistence = self.persistence
        persistence.batchesWritten.add(1, ordering: .relaxed)
        persistence.entriesWritten.add(entries, ordering: .relaxed)
        persistence.lastBatchEntries.store(entries, ordering: .relaxed)
        persistence.lastBatchMicroseconds.store(Int(duration / .microseconds(1)), ordering: .relaxed)
        self.context.metrics.flushDuration.recordNanoseconds(Int64(duration / .nanoseconds(1)))
        self.context.metrics.flushBatchEntries.record(entries)
        if persistence.isDown.exchange(false, ordering: .relaxed) {
            self.logger.notice(
                "PostgreSQL is reachable again; committing the journal", metadata: ["journaled": "\(persistence.journal.backlog.entries)"])
        }
        if persistence.isBacklogFull.load(ordering: .relaxed) {
            let journal = persistence.journal
            // Accept writes again once a tenth of the backlog is free.
            let backlog = journal.backlog
            if backlog.entries < journal.maxEntries * 9 / 10 && backlog.bytes < journal.maxBytes * 9 / 10,
                persistence.isBacklogFull.exchange(false, ordering: .relaxed)
            {
                self.logger.notice("Persistence backlog has room again: accepting writes", metadata: ["journaled": "\(backlog.entries)"])
            }
        }
    }
}

/// Where PostgreSQL is and how to log in, from which both the pool's and the
/// writer's own connection are configured.
///
/// `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`,
/// or `postgres:///database?host=/socket/dir&user=name` for a unix socket.
struct PostgresEndpoint: Sendable {
    enum Address: Sendable {
        case tcp(host: String, port: Int, tls: TLSMode)
        case unixSocket(path: String)
    }

    enum TLSMode: Sendable {
        case disable, prefer, require
    }

    var address: Address
    var user: String
    var password: String?
    var database: String?

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    init(address: Address, user: String, password: String?, database: String?) {
        self.address = address
        self.user = user
        self.password = password
        self.database = database
    }

    init(url text: String) throws {
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? "") else {
            throw Invalid(description: "not a postgres:// URL: \(text)")
        }
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        self.user = url.user ?? query["user"] ?? "postgres"
        self.password = url.password
        self.database = url.path.isEmpty || url.path == "/" ? query["dbname"] : String(url.path.dropFirst())
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            let port = url.port ?? Int(query["port"] ?? "") ?? 5432
            self.address = .unixSocket(path: "\(socketDirectory)/.s.PGSQL.\(port)")
            return
        }
        guard let host = url.host, !host.isEmpty else { throw Invalid(description: "no host in \(text)") }
        let tls: TLSMode
        switch query["sslmode"] ?? "disable" {
        case "disable", "allow": tls = .disable
        case "prefer": tls = .prefer
        default: tls = .require
        }
        self.address = .tcp(host: host, port: url.port ?? 5432, tls: tls)
    }

    /// For the pool that serves reads (and migrations, loading).
    var clientConfiguration: PostgresClient.Configuration {
        switch self.address {
        case .unixSocket(let path):
            return .init(unixSocketPath: path, username: self.user, password: self.password, database: self.database)
        case .tcp(let host, let port, let tls):
            let mode: PostgresClient.Configuration.TLS
            switch tls {
            case .disable: mode = .disable
            case .prefer: mode = .prefer(.makeClientConfiguration())
            case .require: mode = .require(.makeClientConfiguration())
            }
            return .init(host: host, port: port, username: self.user, password: self.password, database: self.database, tls: mode)
        }
    }

    /// For the writer's own connection.
    func connectionConfiguration(connectTimeout: Duration) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch self.address {
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: self.user, password: self.password, database: self.database)
        case .tcp(let host, let port, let tls):
            let mode: PostgresConnection.Configuration.TLS
            switch tls {
            case .disable: mode = .disable
            case .prefer: mode = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: mode = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            configuration = .init(host: host, port: port, username: self.user, password: self.password, database: self.database, tls: mode)
        }
        configuration.options.connectTimeout = .milliseconds(Int64(connectTimeout / .milliseconds(1)))
        return configuration
    }
}
