import DequeModule
import Histogram
import NIOCore
import RESP
import Synchronization

/// Counts shared by every connection, for the live progress line.
final class Progress: Sendable {
    let completed = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
}

/// Latencies in microseconds, 1 µs to an hour, three significant digits.
func makeHistogram() -> Histogram<UInt64> {
    var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    histogram.autoResize = true
    return histogram
}

/// What one connection measured.
struct LoadResult: Sendable {
    var histograms: [Histogram<UInt64>] = RequestKind.allCases.map { _ in makeHistogram() }
    var errors: [Int] = RequestKind.allCases.map { _ in 0 }
    var tryAgain = 0
    var firstError: String?

    mutating func merge(_ other: LoadResult) {
        for index in self.histograms.indices {
            self.histograms[index].add(other.histograms[index])
            self.errors[index] += other.errors[index]
        }
        self.tryAgain += other.tryAgain
        self.firstError = self.firstError ?? other.firstError
    }
}

/// How a load run paces its requests.
enum Pacing: Sendable {
    /// Closed loop: `depth` requests in flight per connection, a new one as
    /// each reply arrives.
    case closed(depth: Int)
    /// Open loop: request k of a connection is due at start + offset + k × interval,
    /// sent then whatever the replies do, and timed from that intended moment
    /// (so a stall counts against every request it delayed: no coordinated omission).
    case open(intervalNanoseconds: UInt64, offsetNanoseconds: UInt64)
}

/// One connection of a load run, on its event loop.
final class LoadHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var source: RequestSource
    private let pacing: Pacing
    private let startNanoseconds: UInt64
    private let stopNanoseconds: UInt64
    private let progress: Progress
    private let done: EventLoopPromise<LoadResult>
    private var inFlight = Deque<(kind: RequestKind, sent: UInt64)>()
    private var result = LoadResult()
    private var unread: ByteBuffer?
    private var sentCount: UInt64 = 0
    /// True once no more requests will be sent (the duration is over).
    private var sendingDone = false
    private var finished = false

    init(
        source: RequestSource, pacing: Pacing, start: UInt64, stop: UInt64, progress: Progress,
        done: EventLoopPromise<LoadResult>
    ) {
        self.source = source
        self.pacing = pacing
        self.startNanoseconds = start
        self.stopNanoseconds = stop
        self.progress = progress
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        switch self.pacing {
        case .closed(let depth):
            var buffer = context.channel.allocator.buffer(capacity: 256 * depth)
            let now = NIODeadline.now().uptimeNanoseconds
            for _ in 0..<depth { self.inFlight.append((self.source.next(into: &buffer), now)) }
            context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
        case .open:
            self.sendDue(context: context)
        }
    }

    /// Open loop: sends every request whose moment has come, then sleeps
    /// until the next one.
    private func sendDue(context: ChannelHandlerContext) {
        guard case .open(let interval, let offset) = self.pacing, !self.finished else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        var buffer = context.channel.allocator.buffer(capacity: 256)
        var due = self.startNanoseconds + offset + self.sentCount * interval
        while due <= now && due < self.stopNanoseconds {
            self.inFlight.append((self.source.next(into: &buffer), due))
            self.sentCount += 1
            due += interval
        }
        if buffer.readableBytes > 0 { context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil) }
        if due < self.stopNanoseconds {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(deadline: NIODeadline.uptimeNanoseconds(due)) {
                let (handler, context) = loopBound.value
                handler.sendDue(context: context)
            }
        } else {
            self.sendingDone = true
            self.finishIfDone(context: context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unread.merging(Self.unwrapInboundIn(data))
        let now = NIODeadline.now().uptimeNanoseconds
        var replies = 0
        do {
            while let reply = try ReplyScanner.next(&bytes) {
                replies += 1
                guard let request = self.inFlight.popFirst() else { break }
                let micros = max(1, (now &- request.sent) / 1000)
                self.result.histograms[request.kind.rawValue].record(micros)
                if case .error(let message) = reply {
                    self.result.errors[request.kind.rawValue] += 1
                    if message.hasPrefix("TRYAGAIN") { self.result.tryAgain += 1 }
                    if self.result.firstError == nil { self.result.firstError = message }
                    self.progress.errors.add(1, ordering: .relaxed)
                }
            }
        } catch {
            self.result.firstError = "unreadable reply: \(error)"
            context.close(promise: nil)
            return
        }
        self.unread = bytes.readableBytes > 0 ? bytes : nil
        if replies > 0 { self.progress.completed.add(replies, ordering: .relaxed) }
        if case .closed = self.pacing, replies > 0 {
            if now >= self.stopNanoseconds {
                self.sendingDone = true
            } else {
                var buffer = context.channel.allocator.buffer(capacity: 256 * replies)
                for _ in 0..<replies { self.inFlight.append((self.source.next(into: &buffer), now)) }
                context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
            }
        }
        self.finishIfDone(context: context)
    }

    private func finishIfDone(context: ChannelHandlerContext) {
        guard !self.finished, self.sendingDone, self.inFlight.isEmpty else { return }
        self.finished = true
        self.done.succeed(self.result)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !self.finished {
            self.finished = true
            if self.result.firstError == nil { self.result.firstError = "the server closed the connection" }
            self.done.succeed(self.result)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.result.firstError == nil { self.result.firstError = "\(error)" }
        context.close(promise: nil)
    }
}
