import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL for the default run command: Debian's server
/// programs, data in a project-local directory, listening on a unix socket
/// only, started and stopped with the feed server.
///
/// PostgreSQL refuses to run as root, so when we are root its programs run
/// as the `postgres` system user (runuser), with the data directory and
/// socket directory owned by that user.
///
/// The postmaster runs under a small shell watchdog that stops it (fast
/// shutdown) as soon as the feed server's process is gone, even after
/// `kill -9`, so no instance outlives its server.
final class EmbeddedPostgres: Sendable {
    /// The directory asked for (`--data-dir`), made absolute.
    let requestedDirectory: String
    private let location = Mutex<(data: String, log: String)>(("", ""))
    let socketDirectory: String
    let fsync: Bool
    let logger: Logger
    private let process = Mutex<Process?>(nil)

    /// The role initdb creates, which the server connects as (trust auth on
    /// the unix socket, which only this machine's users can reach).
    static let user = "feed"
    static let database = "postgres"

    init(directory: String, fsync: Bool, logger: Logger) {
        let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
        self.requestedDirectory = absolute
        self.location.withLock { $0 = (absolute + "/postgres", absolute + "/postgres.log") }
        // A unix socket path is limited to 107 bytes, so the socket lives in a
        // short directory named after the data directory.
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in absolute.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        self.socketDirectory = "/tmp/feed-server-pg-\(String(hash, radix: 36))"
        self.fsync = fsync
        self.logger = logger
    }

    /// Where the cluster lives: under `--data-dir`, unless the postgres user
    /// cannot reach it (see `start`).
    var dataDirectory: String { self.location.withLock { $0.data } }
    var logFile: String { self.location.withLock { $0.log } }

    var socketPath: String { self.socketDirectory + "/.s.PGSQL.5432" }

    /// A file in `--data-dir` naming the socket directory.
    var socketFileRecord: String { self.requestedDirectory + "/postgres.socket" }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Initialises the cluster if needed, starts it, and waits until it accepts connections.
    func start() async throws {
        let binaries = try Self.binaryDirectory()
        let asRoot = getuid() == 0
        try FileManager.default.createDirectory(atPath: self.requestedDirectory, withIntermediateDirectories: true)
        if asRoot && (try? Self.run(["/bin/sh", "-c", "cd \(Self.quoted(self.requestedDirectory))"], asPostgres: true, logger: nil)) == nil {
            // A private parent (say /root, mode 0700) keeps the postgres user
            // out. Rather than loosen someone's home directory, keep the data
            // in a place of its own, named after the requested one.
            let fallback = "/var/lib/feed-server/" + self.socketDirectory.split(separator: "-").last!
            self.location.withLock { $0 = (fallback + "/postgres", fallback + "/postgres.log") }
            try FileManager.default.createDirectory(atPath: fallback, withIntermediateDirectories: true)
            self.logger.warning(
                "The postgres user cannot reach \(self.requestedDirectory) (a parent directory is private); keeping the embedded PostgreSQL's data in \(fallback)")
        }
        try FileManager.default.createDirectory(atPath: self.dataDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: self.socketDirectory, withIntermediateDirectories: true)
        if asRoot {
            guard let account = getpwnam("postgres") else {
                throw Failure(description: "running as root needs the postgres system user (apt-get install postgresql)")
            }
            chown(self.dataDirectory, account.pointee.pw_uid, account.pointee.pw_gid)
            chown(self.socketDirectory, account.pointee.pw_uid, account.pointee.pw_gid)
            FileManager.default.createFile(atPath: self.logFile, contents: nil)
            chown(self.logFile, account.pointee.pw_uid, account.pointee.pw_gid)
        }
        chmod(self.dataDirectory, 0o700)
        chmod(self.socketDirectory, 0o700)

        try await self.waitForPreviousInstance(binaries: binaries)

        if !FileManager.default.fileExists(atPath: self.dataDirectory + "/PG_VERSION") {
            self.logger.notice("Creating a PostgreSQL cluster in \(self.dataDirectory)")
            var initdb = [binaries + "/initdb", "-D", self.dataDirectory, "-U", Self.user, "--auth=trust", "-E", "UTF8"]
            if !self.fsync { initdb.append("--no-sync") }
            try Self.run(initdb, asPostgres: asRoot, logger: self.logger)
        }

        let postgres = [
            binaries + "/postgres", "-D", self.dataDirectory, "-k", self.socketDirectory, "-c", "listen_addresses=",
            "-c", "fsync=\(self.fsync ? "on" : "off")", "-c", "max_connections=100", "-c", "shared_buffers=256MB",
        ].map(Self.quoted).joined(separator: " ")
        // The watchdog: stop PostgreSQL when we are gone or asked to stop.
        let script = """
            \(postgres) >> \(Self.quoted(self.logFile)) 2>&1 &
            pg=$!
            trap 'kill -INT $pg 2>/dev/null; wait $pg; exit 0' TERM INT
            while [ -d /proc/\(getpid()) ] && kill -0 $pg 2>/dev/null; do sleep 0.5; done
            kill -INT $pg 2>/dev/null
            wait $pg
            """
        let process = Process()
        if asRoot {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "postgres", "--", "/bin/sh", "-c", script]
        } else {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", script]
        }
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process.withLock { $0 = process }

        let isReady = [binaries + "/pg_isready", "-q", "-h", self.socketDirectory, "-U", Self.user, "-d", Self.database]
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if (try? Self.run(isReady, asPostgres: asRoot, logger: nil)) != nil {
                self.logger.notice("Embedded PostgreSQL is up", metadata: ["socket": "\(self.socketPath)"])
                // For psql and the durability audit: `psql -h $(cat <data-dir>/postgres.socket) -U feed postgres`.
                try? self.socketDirectory.write(toFile: self.socketFileRecord, atomically: true, encoding: .utf8)
                return
            }
            guard process.isRunning else {
                throw Failure(description: "PostgreSQL exited at start-up; see \(self.logFile)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw Failure(description: "PostgreSQL did not accept connections within 60 s; see \(self.logFile)")
    }

    /// Stops PostgreSQL (fast shutdown: connections close, data is safe) and
    /// waits; the watchdog then exits by itself.
    func stop() async {
        guard let process = self.process.withLock({ $0 }) else { return }
        if process.isRunning, let binaries = try? Self.binaryDirectory() {
            try? Self.run(
                [binaries + "/pg_ctl", "stop", "-D", self.dataDirectory, "-m", "fast", "-w", "-t", "30"],
                asPostgres: getuid() == 0, logger: self.logger)
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        self.logger.notice("Embedded PostgreSQL stopped")
    }

    /// A previous server killed hard leaves its PostgreSQL stopping (its
    /// watchdog noticed) or, at worst, running: wait for it, then stop it.
    private func waitForPreviousInstance(binaries: String) async throws {
        let pidFile = self.dataDirectory + "/postmaster.pid"
        let deadline = ContinuousClock.now + .seconds(15)
        while let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }), kill(pid, 0) == 0 || errno == EPERM
        {
            if ContinuousClock.now >= deadline {
                self.logger.warning("Stopping a PostgreSQL left running on \(self.dataDirectory)")
                try? Self.run([binaries + "/pg_ctl", "stop", "-D", self.dataDirectory, "-m", "fast"], asPostgres: getuid() == 0, logger: self.logger)
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Debian's server programs: $FEED_PG_BINDIR, `pg_config --bindir`, or
    /// the newest /usr/lib/postgresql/*/bin.
    static func binaryDirectory() throws -> String {
        if let fromEnvironment = ProcessInfo.processInfo.environment["FEED_PG_BINDIR"] { return fromEnvironment }
        if let output = try? self.run(["pg_config", "--bindir"], asPostgres: false, logger: nil),
            FileManager.default.fileExists(atPath: output + "/postgres")
        {
            return output
        }
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        if let newest = versions.compactMap(Int.init).max(), FileManager.default.fileExists(atPath: "\(root)/\(newest)/bin/postgres") {
            return "\(root)/\(newest)/bin"
        }
        throw Failure(description: "no PostgreSQL server programs found (apt-get install postgresql)")
    }

    /// Runs a program to completion; returns its trimmed output, throws on failure.
    @discardableResult
    static func run(_ arguments: [String], asPostgres: Bool, logger: Logger?) throws -> String {
        let process = Process()
        let command = asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments : arguments
        process.executableURL = URL(fileURLWithPath: command[0].hasPrefix("/") ? command[0] : "/usr/bin/env")
        process.arguments = command[0].hasPrefix("/") ? Array(command.dropFirst()) : command
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            logger?.error("\(arguments.first ?? "") failed: \(text)")
            throw Failure(description: "\(arguments.first ?? "") exited with \(process.terminationStatus): \(text)")
        }
        return text
    }

    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
