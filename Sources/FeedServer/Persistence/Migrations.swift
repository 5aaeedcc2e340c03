import Foundation
import Logging
import PostgresNIO

/// The schema's numbered SQL files (Persistence/Migrations/NNNN_name.sql),
/// applied in order at start-up, each in its own transaction together with
/// its row in `schema_migrations`, so a file is applied entirely or not at
/// all, and a second start applies nothing.
///
/// PostgresNIO sends one statement per query, so a file is split into
/// statements at semicolons that end a line; statements must not contain
/// such a semicolon themselves (no function bodies).
enum Migrations {
    struct Migration: Equatable {
        let version: Int
        let name: String
        let statements: [String]
    }

    /// The migrations shipped with the server, in version order.
    static func bundled() throws -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw MigrationError.missing("the Migrations resource directory")
        }
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
        return try files.map { file in
            let base = file.deletingPathExtension().lastPathComponent
            guard let underscore = base.firstIndex(of: "_"), let version = Int(base[..<underscore]) else {
                throw MigrationError.badName(file.lastPathComponent)
            }
            let sql = try String(contentsOf: file, encoding: .utf8)
            return Migration(version: version, name: String(base[base.index(after: underscore)...]), statements: self.statements(in: sql))
        }.sorted { $0.version < $1.version }
    }

    /// The statements of a file: comments dropped, split at line-ending semicolons.
    static func statements(in sql: String) -> [String] {
        var statements: [String] = []
        var current: [Substring] = []
        for rawLine in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.prefix { _ in true }
            let code = line.range(of: "--").map { line[..<$0.lowerBound] } ?? line
            let trimmed = code.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            if trimmed.hasSuffix(";") {
                current.append(Substring(trimmed.dropLast()))
                statements.append(current.joined(separator: "\n"))
                current = []
            } else {
                current.append(Substring(trimmed))
            }
        }
        if !current.isEmpty { statements.append(current.joined(separator: "\n")) }
        return statements
    }

    /// Applies every migration not yet recorded; returns the versions applied.
    @discardableResult
    static func apply(_ migrations: [Migration], client: PostgresClient, logger: Logger) async throws -> [Int] {
        try await client.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        var applied: Set<Int> = []
        for try await version in try await client.query("SELECT version FROM schema_migrations", logger: logger)
            .decode(Int32.self)
        {
            applied.insert(Int(version))
        }
        var newlyApplied: [Int] = []
        for migration in migrations where !applied.contains(migration.version) {
            try await client.withTransaction(logger: logger) { connection in
                // Another server starting at the same moment applies it once: the
                // row below conflicts and this transaction rolls back.
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(Int32(migration.version)), \(migration.name))",
                    logger: logger)
            }
            logger.notice("Applied migration \(migration.version) \(migration.name)")
            newlyApplied.append(migration.version)
        }
        return newlyApplied
    }

    enum MigrationError: Error, CustomStringConvertible {
        case missing(String)
        case badName(String)

        var description: String {
            switch self {
            case .missing(let what): return "migrations: \(what) is missing"
            case .badName(let name): return "migrations: \(name) is not named NNNN_name.sql"
            }
        }
    }
}
