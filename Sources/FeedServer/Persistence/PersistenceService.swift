import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
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
        let configuration: PostgresClient.Configuration
        if let embedded = self.embedded {
            try await embedded.start()
            configuration = PostgresClient.Configuration(
                unixSocketPath: embedded.socketPath, username: EmbeddedPostgres.user, password: nil,
                database: EmbeddedPostgres.database)
        } else {
            configuration = try PostgresURL.configuration(self.persistence.settings.url!)
        }
        var options = configuration
        options.options.maximumConnections = 8
        let client = PostgresClient(configuration: options)
        // The client's pool must outlive the journal's last commit at shutdown,
        // so it does not share this service's graceful-shutdown signal (a
        // detached task inherits none): it stops when cancelled, after the writer.
        let clientTask = Task.detached { await client.run() }
        defer { clientTask.cancel() }

        try await self.retryingAtStart { try await Migrations.apply(try Migrations.bundled(), client: client, logger: self.logger) }
        let summary = try await StateLoader.load(into: self.context.feed, client: client, logger: self.logger)
        self.persistence.loadMilliseconds.store(Int(summary.duration / .milliseconds(1)), ordering: .relaxed)
        self.persistence.store.withLock { $0 = PostgresStore(client: client, logger: self.logger) }
        self.persistence.ready.succeed()
        let warming = Task { [context] in await StateLoader.warmBodies(into: context.feed, client: client, logger: self.logger) }
        defer { warming.cancel() }

        let uncommitted = await withGracefulShutdownHandler {
            await self.writeJournal(client: client)
        } onGracefulShutdown: {
            self.shuttingDown.store(true, ordering: .relaxed)
            self.persistence.journal.wakeWriter()
        }
        self.persistence.store.withLock { $0 = nil }
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
    private func writeJournal(client: PostgresClient) async -> Int {
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
                // A batch that neither commits nor fails in time (PostgreSQL gone,
                // no connection to lease) counts as failed; retrying is safe
                // because every batch is idempotent, even one that did commit.
                let mutations = MutationBatch(batch.map(\.mutation))
                let logger = self.logger
                try await Self.within(settings.writeTimeout) {
                    try await PostgresBatchWriter.write(mutations, client: client, logger: logger)
                }
                journal.commit(through: batch.last!.lsn)
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

    struct Timeout: Error, CustomStringConvertible {
        let after: Duration
        var description: String { "no answer from PostgreSQL within \(self.after)" }
    }

    /// Runs `body`, failing with `Timeout` when it takes longer than `limit`.
    static func within(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw Timeout(after: limit)
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func recordCommitted(_ entries: Int, took duration: Duration) {
        let persistence = self.persistence
        persistence.batchesWritten.add(1, ordering: .relaxed)
        persistence.entriesWritten.add(entries, ordering: .relaxed)
        persistence.lastBatchEntries.store(entries, ordering: .relaxed)
        persistence.lastBatchMicroseconds.store(Int(duration / .microseconds(1)), ordering: .relaxed)
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

/// `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`,
/// or `postgres:///database?host=/socket/dir&user=name` for a unix socket.
enum PostgresURL {
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    static func configuration(_ text: String) throws -> PostgresClient.Configuration {
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? "") else {
            throw Invalid(description: "not a postgres:// URL: \(text)")
        }
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let user = url.user ?? query["user"] ?? "postgres"
        let database = url.path.isEmpty || url.path == "/" ? query["dbname"] : String(url.path.dropFirst())
        if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
            let port = url.port ?? Int(query["port"] ?? "") ?? 5432
            return PostgresClient.Configuration(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: url.password, database: database)
        }
        guard let host = url.host, !host.isEmpty else { throw Invalid(description: "no host in \(text)") }
        let tls: PostgresClient.Configuration.TLS
        switch query["sslmode"] ?? "disable" {
        case "disable", "allow": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        default: tls = .require(.makeClientConfiguration())
        }
        return PostgresClient.Configuration(
            host: host, port: url.port ?? 5432, username: user, password: url.password, database: database, tls: tls)
    }
}
