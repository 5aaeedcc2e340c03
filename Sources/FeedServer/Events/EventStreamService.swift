import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Serves browser event streams on `--events-port`, on the same address as
/// the RESP listener: `GET /events/<user>?token=…` (server-sent events).
/// Nothing else is served there.
final class EventStreamService: Service, Sendable {
    private let context: ServerContext
    private let group: any EventLoopGroup

    init(context: ServerContext, group: any EventLoopGroup) {
        self.context = context
        self.group = group
    }

    struct BindFailed: Error, CustomStringConvertible {
        let description: String
    }

    func run() async throws {
        // Streams replay from the store, so they open once start-up has loaded it.
        try await self.context.persistence?.ready.wait()
        let configuration = self.context.configuration
        let context = self.context
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 511)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(EventStreamHandler(server: context))
                }
            }
        let listener: any Channel
        do {
            listener = try await bootstrap.bind(host: configuration.bindAddress, port: configuration.eventsPort).get()
        } catch {
            throw BindFailed(
                description: "cannot serve event streams on \(configuration.bindAddress):\(configuration.eventsPort) (\(error)); "
                    + "--events-port picks another port, 0 turns event streams off")
        }
        self.context.logger.notice(
            "Serving event streams on http://\(configuration.bindAddress):\(listener.localAddress?.port ?? configuration.eventsPort)/events/<user>?token=…"
        )
        try? await gracefulShutdown()
        try? await listener.close()
        // Open streams end; browsers reconnect (to another node, or this one restarted) and resume.
        for target in self.context.eventStreams.all() { target.close() }
    }
}
