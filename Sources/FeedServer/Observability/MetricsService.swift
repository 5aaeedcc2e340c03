import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Serves the Prometheus text format at `GET /metrics` on `--metrics-port`,
/// on the same address as the RESP listener. Anything else gets 404.
final class MetricsService: Service, Sendable {
    private let context: ServerContext
    private let group: any EventLoopGroup

    init(context: ServerContext, group: any EventLoopGroup) {
        self.context = context
        self.group = group
    }

    func run() async throws {
        let configuration = self.context.configuration
        let context = self.context
        let listener = try await HTTPListener.bind(
            group: self.group, host: configuration.bindAddress, port: configuration.metricsPort, backlog: 64,
            serving: "metrics", flag: "--metrics-port"
        ) { MetricsHTTPHandler(server: context) }
        self.context.logger.notice(
            "Serving Prometheus metrics on http://\(configuration.bindAddress):\(listener.localAddress?.port ?? configuration.metricsPort)/metrics")
        try? await gracefulShutdown()
        try? await listener.close()
    }
}

/// One HTTP connection to the metrics endpoint.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: ServerContext
    private var request: HTTPRequestHead?

    init(server: ServerContext) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            self.request = head
        case .body:
            break
        case .end:
            guard let head = self.request else { return }
            self.request = nil
            self.respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let status: HTTPResponseStatus
        var body = context.channel.allocator.buffer(capacity: 0)
        var headers = HTTPHeaders()
        if path == "/metrics" && (head.method == .GET || head.method == .HEAD) {
            status = .ok
            let text = self.server.metrics.exposition(of: self.server)
            if head.method == .GET { body.writeBytes(text) }
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            headers.add(name: "Content-Length", value: String(text.count))
        } else {
            status = path == "/metrics" ? .methodNotAllowed : .notFound
            body.writeString(status == .notFound ? "Not found: metrics are at /metrics\n" : "Use GET\n")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
            headers.add(name: "Content-Length", value: String(body.readableBytes))
        }
        let keepAlive = head.isKeepAlive
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if body.readableBytes > 0 { context.write(Self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}
