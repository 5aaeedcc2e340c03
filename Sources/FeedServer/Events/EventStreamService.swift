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

    func run() async throws {
        // Streams replay from the store, so they open once start-up has loaded it.
        try await self.context.persistence?.ready.wait()
        let configuration = self.context.configuration
        let context = self.context
        let listener = try await HTTPListener.bind(
            group: self.group, host: configuration.bindAddress, port: configuration.eventsPort, backlog: 511,
            serving: "event streams", flag: "--events-port"
        ) { EventStreamHandler(server: context) }
        self.context.logger.notice(
            "Serving event streams on http://\(configuration.bindAddress):\(listener.localAddress?.port ?? configuration.eventsPort)/events/<user>?token=…"
        )
        try? await gracefulShutdown()
        try? await listener.close()
        // Open streams end; browsers reconnect (to another node, or this one restarted) and resume.
        for target in self.context.eventStreams.all() { target.close() }
    }
}
