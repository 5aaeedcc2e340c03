import NIOCore
import RESP
import Synchronization

/// The state of one connection that commands may change. It lives on the
/// connection's event loop and is passed `inout` to each command, so no
/// command can reach another connection's state.
struct ConnectionState {
    /// The shared record other threads read (CLIENT LIST, CLIENT KILL).
    let record: ClientRecord
    /// False while a password is required and has not been given.
    var authenticated: Bool
    /// The reply buffer, in this connection's protocol version.
    var reply: ReplyWriter
    /// What to do once the replies written so far are flushed.
    var afterReply: AfterReply = .continue
    /// Set by a command whose reply cannot be sent yet.
    var deferred: DeferredReply?
    /// Channels and patterns this connection listens to.
    var subscriptions = SubscriptionSet()
    /// Where published messages reach this connection (set once the
    /// connection is in its pipeline).
    var pushTarget: PushTarget?

    /// How a command's reply waits.
    enum DeferredReply {
        /// The reply just written waits until this LSN has committed
        /// (`--durability sync`).
        case untilCommitted(UInt64)
        /// The reply is this future's bytes (FEED.SYNC).
        case future(EventLoopFuture<ByteBuffer>)
        /// The reply is this future's bytes, and the connection runs no
        /// further command until it is there: a command that needed the
        /// store first (so a client's commands take effect in order).
        case blocking(EventLoopFuture<ByteBuffer>)
    }

    enum AfterReply: Equatable {
        case `continue`
        /// QUIT, CLIENT KILL of oneself: flush, then close.
        case close
    }

    var id: Int64 { self.record.id }

    /// Switches the protocol for the replies that follow (HELLO, RESET).
    mutating func setProtocol(_ version: RESPVersion) {
        self.reply.version = version
        self.pushTarget?.protocolVersion = version
        self.record.details.withLock { $0.protocolVersion = version }
    }

    /// RESP2 clients with subscriptions may only (un)subscribe, PING, QUIT
    /// and RESET, as in Redis; RESP3 clients may run anything.
    var inSubscribedMode: Bool { !self.subscriptions.isEmpty && self.reply.version == .resp2 }
}

/// One command as the table hands it to its handler.
struct CommandCall {
    /// The request, name first.
    let arguments: [ByteBuffer]
    let server: ServerContext
    /// The connection's event loop, where a deferred reply completes.
    let eventLoop: any EventLoop

    var count: Int { self.arguments.count }

    func string(_ index: Int) -> String {
        String(buffer: self.arguments[index])
    }

    /// The argument as an integer with Redis's strict rules, or nil.
    func integer(_ index: Int) -> Int64? {
        self.arguments[index].withUnsafeReadableBytes { RESPDecimal.parse($0) }
    }

    /// True when the argument equals `token` ignoring ASCII case.
    func argument(_ index: Int, is token: StaticString) -> Bool {
        self.arguments[index].equalsIgnoringASCIICase(token)
    }
}

extension ByteBuffer {
    /// Compares the readable bytes to an ASCII token, ignoring case, without
    /// allocating (option words like NOW or COUNT are matched this way).
    func equalsIgnoringASCIICase(_ token: StaticString) -> Bool {
        guard self.readableBytes == token.utf8CodeUnitCount else { return false }
        return self.withUnsafeReadableBytes { bytes in
            token.withUTF8Buffer { expected in
                for index in 0..<expected.count where bytes[index].asciiLowercased != expected[index].asciiLowercased {
                    return false
                }
                return true
            }
        }
    }
}

extension UInt8 {
    /// The byte with A-Z folded to a-z.
    @inline(__always) var asciiLowercased: UInt8 {
        self >= 0x41 && self <= 0x5A ? self | 0x20 : self
    }
}
