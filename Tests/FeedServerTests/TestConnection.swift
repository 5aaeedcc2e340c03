@testable import FeedServer
import Logging
import NIOCore
import NIOEmbedded
import RESP

/// A connection to an in-process server over an `EmbeddedChannel`: bytes in,
/// bytes out, no sockets. Several connections can share one server.
final class TestConnection {
    let server: ServerContext
    let channel: EmbeddedChannel
    /// Outbound writes, one per write the handler made (so a test can see batching).
    private(set) var writes: [ByteBuffer] = []
    private var decoder = RESPValueDecoder()
    private var unread = ByteBuffer()

    static func makeServer(_ configure: (inout ServerConfiguration) -> Void = { _ in }) -> ServerContext {
        var configuration = ServerConfiguration()
        configuration.persistence = .none
        configure(&configuration)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return ServerContext(configuration: configuration, logger: logger)
    }

    init(server: ServerContext, remote: String = "127.0.0.1", port: Int = 40000) throws {
        self.server = server
        self.channel = EmbeddedChannel()
        // An accepted socket knows both ends before its handlers are added.
        let peer = try SocketAddress(ipAddress: remote, port: port)
        self.channel.remoteAddress = peer
        self.channel.localAddress = try SocketAddress(ipAddress: "127.0.0.1", port: 6380)
        try self.channel.pipeline.syncOperations.addHandler(ConnectionHandler(server: server, channel: self.channel))
        try self.channel.connect(to: peer).wait()
    }

    convenience init(_ configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        try self.init(server: Self.makeServer(configure))
    }

    var isOpen: Bool { self.channel.isActive }

    /// Sends raw bytes and returns everything written back since the last call.
    @discardableResult
    func send(_ text: String) throws -> String {
        try self.channel.writeInbound(ByteBuffer(string: text))
        return try self.drain()
    }

    func drain() throws -> String {
        var text = ""
        while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) {
            if buffer.readableBytes > 0 { self.writes.append(buffer) }
            text += String(buffer: buffer)
        }
        return text
    }

    /// Sends a command as a client library would and returns the raw reply text.
    @discardableResult
    func raw(_ arguments: String...) throws -> String {
        var buffer = ByteBuffer()
        RESPValue.encodeCommand(arguments, into: &buffer)
        try self.channel.writeInbound(buffer)
        return try self.drain()
    }

    /// Sends a command and decodes the one reply.
    func call(_ arguments: String...) throws -> RESPValue {
        try self.call(arguments)
    }

    func call(_ arguments: [String]) throws -> RESPValue {
        var buffer = ByteBuffer()
        RESPValue.encodeCommand(arguments, into: &buffer)
        try self.channel.writeInbound(buffer)
        var out = ByteBuffer(string: try self.drain())
        self.unread.writeBuffer(&out)
        guard let value = try self.decoder.next(&self.unread) else { throw TestError.noReply(arguments) }
        return value
    }

    enum TestError: Error { case noReply([String]) }
}

extension RESPValue {
    /// A map's entries by their string keys (RESP3 maps, or RESP2 flat arrays).
    var dictionary: [String: RESPValue] {
        switch self {
        case .map(let entries):
            return Dictionary(entries.map { ($0.key.string ?? "", $0.value) }, uniquingKeysWith: { a, _ in a })
        case .array(let values):
            return Dictionary(
                stride(from: 0, to: values.count - 1, by: 2).map { (values[$0].string ?? "", values[$0 + 1]) },
                uniquingKeysWith: { a, _ in a })
        default:
            return [:]
        }
    }
}
