import NIOCore
import NIOHTTP1
import NIOPosix

/// The small HTTP listeners beside the RESP port (`/metrics`, event
/// streams): one handler per connection behind NIO's HTTP/1.1 pipeline.
enum HTTPListener {
    struct BindFailed: Error, CustomStringConvertible {
        let description: String
    }

    /// Binds `host:port`, or fails saying which flag moves or turns off
    /// what (`serving`) could not be served.
    static func bind(
        group: any EventLoopGroup, host: String, port: Int, backlog: Int32, serving: String, flag: String,
        handler: @escaping @Sendable () -> any ChannelHandler
    ) async throws -> any Channel {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(handler())
                }
            }
        do {
            return try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw BindFailed(
                description: "cannot serve \(serving) on \(host):\(port) (\(error)); "
                    + "\(flag) picks another port, 0 turns \(serving) off")
        }
    }
}
