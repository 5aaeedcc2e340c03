import ArgumentParser
import FeedServer
import Logging
import NIOCore
import NIOPosix
import RESP
import ServiceLifecycle
import Timeline
import UnixSignals

/// `feed-server`: reads its settings (ServerSettings: each a flag, an
/// environment variable and a configuration-file line), then runs the
/// server until SIGTERM, SIGINT or SHUTDOWN.
@main
struct FeedServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed-server",
        abstract: "A news-feed server that speaks the Redis protocol.",
        usage: "feed-server [config-file] [--<setting> <value> ...]",
        discussion: """
            Connect with redis-cli or any Redis client and call FEED.* commands.
            Every setting below is a flag (--name value or --name=value), an
            environment variable (FEED_NAME), and a line of a configuration
            file given as the one argument (redis.conf syntax: "name value" per
            line, # comments, include path; ops/feed-server.conf lists every
            setting). The command line wins over the environment, the
            environment over the file. CONFIG GET shows every setting but the
            secrets; CONFIG SET changes maxmemory, slowlog-* and rank-*.

            \(ServerSettings.helpText)
            """
    )

    @Argument(
        parsing: .allUnrecognized,
        help: ArgumentHelp("A configuration file (redis.conf syntax), and --<setting> <value> pairs, listed below.", valueName: "config-file"))
    var arguments: [String] = []

    func run() async throws {
        let configuration = try self.resolve()
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "feed-server")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoopThreads)
        let context = ServerContext(configuration: configuration, logger: logger)
        let services = ServiceGroup(
            configuration: .init(
                services: context.services(group: group).map {
                    .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
                },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            ))
        do {
            try await services.run()
        } catch {
            logger.critical("feed-server stopped: \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode.failure
        }
        try await group.shutdownGracefully()
    }

    /// The command line: `--name value` or `--name=value` pairs, and at
    /// most one configuration file path (Redis's `redis-server path`).
    func commandLine() throws -> (flags: [(name: String, value: String)], configFile: String?) {
        var flags: [(name: String, value: String)] = []
        var configFile: String? = nil
        var index = 0
        while index < self.arguments.count {
            let argument = self.arguments[index]
            guard argument.hasPrefix("--") else {
                guard configFile == nil else { throw ValidationError("Unexpected argument '\(argument)' (one configuration file at most)") }
                configFile = argument
                index += 1
                continue
            }
            var name = String(argument.dropFirst(2))
            var value: String? = nil
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard ServerSettings.named(name) != nil else { throw ValidationError("Unknown option '--\(name)'") }
            if value == nil {
                guard index + 1 < self.arguments.count else { throw ValidationError("Missing value for '\(argument)'") }
                index += 1
                value = self.arguments[index]
            }
            flags.append((name.lowercased(), value!))
            index += 1
        }
        return (flags, configFile)
    }

    /// Flags over environment over the configuration file over defaults, each value checked.
    func resolve() throws -> ServerConfiguration {
        let (flags, configFile) = try self.commandLine()
        do {
            let file = try configFile.map(ConfigFile.read) ?? []
            let configuration = try ServerSettings.configuration(flags: flags, environment: ProcessEnvironment.current, file: file)
            try configuration.validate()
            return configuration
        } catch let error as ConfigFile.Failure {
            throw ValidationError(error.description)
        } catch let error as SettingError {
            throw ValidationError(error.message)
        }
    }
}
