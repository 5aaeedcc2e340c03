import NIOCore
import RESP

/// A fixed list of requests a connection sends with a window in flight,
/// looking at each reply: graph loading and the celebrity scenario.
protocol ConnectionScript: Sendable {
    associatedtype Outcome: Sendable
    /// Writes the next request, or returns false when there are no more.
    mutating func next(into buffer: inout ByteBuffer) -> Bool
    /// The reply to the oldest request in flight.
    mutating func reply(_ value: RESPValue, at nanoseconds: UInt64)
    /// Whether a reply gave it more to send after `next` said there was no
    /// more (a command to try again).
    var hasMore: Bool { get }
    var outcome: Outcome { get }
}

extension ConnectionScript {
    var hasMore: Bool { false }
}

final class ScriptHandler<Script: ConnectionScript>: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var script: Script
    private let window: Int
    private let done: EventLoopPromise<Script.Outcome>
    private var inFlight = 0
    private var exhausted = false
    private var decoder = RESPValueDecoder()
    private var unread: ByteBuffer?
    private var completed = false

    init(script: Script, window: Int, done: EventLoopPromise<Script.Outcome>) {
        self.script = script
        self.window = window
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        self.fill(context: context)
    }

    private func fill(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 4096)
        while !self.exhausted && self.inFlight < self.window {
            if self.script.next(into: &buffer) { self.inFlight += 1 } else { self.exhausted = true }
        }
        if buffer.readableBytes > 0 { context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil) }
        if self.exhausted && self.inFlight == 0 && !self.completed {
            self.completed = true
            self.done.succeed(self.script.outcome)
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unread.merging(Self.unwrapInboundIn(data))
        let now = NIODeadline.now().uptimeNanoseconds
        do {
            while let value = try self.decoder.next(&bytes) {
                self.inFlight -= 1
                self.script.reply(value, at: now)
            }
            if self.exhausted && self.script.hasMore { self.exhausted = false }
        } catch {
            self.fail(error, context: context)
            return
        }
        self.unread = bytes.readableBytes > 0 ? bytes : nil
        // Refill once half the window is free, so writes go in large batches.
        if self.inFlight <= self.window / 2 || self.exhausted { self.fill(context: context) }
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        if !self.completed {
            self.completed = true
            self.done.fail(error)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.fail(BenchError("the server closed the connection"), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.fail(error, context: context)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Optional where Wrapped == ByteBuffer {
    /// Appends a read to the bytes left over from the last one (a reply split
    /// across reads) and returns what there is to parse, leaving nil behind.
    mutating func merging(_ bytes: ByteBuffer) -> ByteBuffer {
        guard var unread = self.take() else { return bytes }
        var bytes = bytes
        unread.writeBuffer(&bytes)
        return unread
    }
}
