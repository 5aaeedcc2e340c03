import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import Timeline

/// The listening server as a `Service`: it binds, serves until SHUTDOWN or
/// the service group's graceful shutdown (SIGTERM, SIGINT), then stops
/// accepting, lets every connection finish the replies in flight, and returns.
public final class FeedServerService: Service, Sendable {
    public let context: ServerContext
    private let group: any EventLoopGroup
    /// How long connections get to finish their replies at shutdown.
    private let drainTimeout: TimeAmount

    public init(context: ServerContext, group: any EventLoopGroup, drainTimeout: TimeAmount = .seconds(10)) {
        self.context = context
        self.group = group
        self.drainTimeout = drainTimeout
    }

    public func run() async throws {
        let configuration = self.context.configuration
        // Built in code or from flags, the configuration meets the same checks.
        try configuration.validate()
        // Start-up work (migrations, loading) finishes before the listener opens.
        try await self.context.persistence?.ready.wait()
        let listener = try await self.bind()
        let address = listener.localAddress
        self.context.boundPort.store(address?.port ?? configuration.port, ordering: .relaxed)
        let clusterRefresh = try await self.startCluster(port: address?.port ?? configuration.port)
        defer { clusterRefresh?.cancel() }
        self.context.logger.notice(
            "Ready to accept connections on \(configuration.bindAddress):\(address?.port ?? configuration.port)",
            metadata: ["threads": "\(configuration.eventLoopThreads)", "persistence": "\(configuration.persistence)"])

        self.context.memory.sample()
        let stats = self.context.stats
        let clients = self.context.clients
        let context = self.context
        let sampler = self.group.next().scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
            stats.opsPerSecond.sample(
                count: stats.traffic(liveClients: clients.records()).commands, nowMilliseconds: WallClock.milliseconds())
            context.enforceMemoryBound()
        }

        let shutdown = self.context.shutdown
        await withGracefulShutdownHandler {
            await shutdown.wait()
        } onGracefulShutdown: {
            shutdown.request()
        }

        self.context.logger.notice("Shutting down: no new clients; finishing replies in flight")
        sampler.cancel()
        try? await listener.close()
        await self.drainConnections()
        self.context.logger.notice("feed-server is now ready to exit, bye bye...")
    }

    /// In cluster mode: registers this node (by the address clients reach
    /// it at) and loads the slot map, then follows PostgreSQL's changes to
    /// it every 200 ms.
    private func startCluster(port: Int) async throws -> Task<Void, Never>? {
        guard let cluster = self.context.cluster, let store = self.context.persistence?.currentStore else { return nil }
        let host = self.context.configuration.clusterAnnounceIP ?? self.context.configuration.bindAddress
        let number = try await cluster.start(client: store.client, host: host, port: port, logger: self.context.logger)
        // Post ids made on different nodes never collide: each carries its node's number.
        self.context.feed.withEngine { $0.useNode(number) }
        cluster.changes.node.store(number, ordering: .relaxed)
        let logger = self.context.logger
        let applier = ChangeApplier(context: self.context, feed: cluster.changes, client: store.client, logger: logger)
        return Task {
            let applying = Task { await applier.run() }
            defer { applying.cancel() }
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
                do {
                    try await cluster.refresh()
                } catch {
                    logger.warning("Could not reload the cluster's slot map: \(error)")
                }
            }
        }
    }

    private func bind() async throws -> any Channel {
        let context = self.context
        let configuration = context.configuration
        let idleTimeout = configuration.idleTimeoutSeconds
        let limit = max(2, configuration.clientOutputLimit)
        let bootstrap = ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 511)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: limit / 2, high: limit))
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if idleTimeout > 0 {
                        try channel.pipeline.syncOperations.addHandler(
                            IdleStateHandler(readTimeout: .seconds(Int64(idleTimeout))))
                    }
                    try channel.pipeline.syncOperations.addHandler(ConnectionHandler(server: context, channel: channel))
                }
            }
        return try await bootstrap.bind(host: configuration.bindAddress, port: configuration.port).get()
    }

    /// Asks every connection to finish and close, and waits for them (forcing
    /// the stragglers closed after `drainTimeout`).
    private func drainConnections() async {
        let deadline = NIODeadline.now() + self.drainTimeout
        while case let clients = self.context.clients.all(), !clients.isEmpty {
            guard NIODeadline.now() < deadline else {
                self.context.logger.warning("Closing \(clients.count) clients that did not finish in time")
                for client in clients { try? await client.channel.close() }
                return
            }
            for client in clients {
                client.channel.pipeline.fireUserInboundEventTriggered(DrainConnectionEvent())
            }
            let loop = self.group.next()
            let settled = loop.makePromise(of: Void.self)
            EventLoopFuture.andAllComplete(clients.map(\.channel.closeFuture), on: loop).cascade(to: settled)
            let timeout = loop.scheduleTask(deadline: deadline) { settled.succeed() }
            try? await settled.futureResult.get()
            timeout.cancel()
        }
    }
}
