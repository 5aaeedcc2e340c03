import ArgumentParser
import Foundation
import Histogram
import NIOCore
import NIOPosix
import RESP

/// The real-time workload: N subscriber connections on `feed:<user>`, each
/// user following M authors; posts at a fixed rate; the latency from each
/// FEED.POST reply to each subscriber's message, and every message counted
/// (lost, repeated, out of order). FEED.POST throughput is measured closed
/// loop before the subscribers connect and again while they listen.
struct Subscribe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Subscribers on feed:<user> channels while posts arrive at a fixed rate: delivery latency, messages lost.")

    @OptionGroup var target: TargetOptions
    @Option(help: "Subscriber connections, one per user (sub:N), each on feed:sub:N.") var subscribers = 1000
    @Option(help: "Authors each subscriber's user follows.") var follows = 100
    @Option(help: "Authors posting (user:0 … user:A-1).") var authors = 1000
    @Option(help: "Posts per second in the delivery phase.") var rate = 2000.0
    @Option(help: "Seconds of the delivery phase.") var duration = 30.0
    @Option(help: "Connections posting in the delivery phase.") var postConnections = 4
    @Option(help: "Seconds of each closed-loop FEED.POST throughput phase (0 skips them).") var throughputSeconds = 10.0
    @Option(name: .short, help: "Connections of the throughput phases.") var connections = 8
    @Option(name: .customShort("P"), help: "Requests in flight per connection in the throughput phases.") var pipeline = 16
    @Option(help: "Bytes per post body.") var bodyBytes = 110
    @Option(help: "Seed of the follow graph and the posts.") var seed: UInt64 = 11
    @Flag(help: "Print the report as JSON.") var json = false
    @Flag(
        help:
            "The ceiling: drive a stock redis-server instead, each post being one PUBLISH of the same JSON to each subscribed follower's channel, pipelined (one posting connection; no throughput phases)."
    )
    var redisPublish = false

    func run() async throws {
        guard self.subscribers > 0, self.follows > 0, self.authors >= self.follows, self.rate > 0, self.duration > 0 else {
            throw ValidationError("--subscribers, --follows, --rate and --duration must be positive; --authors at least --follows")
        }
        let target = self.target.target()
        let postConnections = self.redisPublish ? 1 : self.postConnections  // one keeps PUBLISH order = post order
        let throughputSeconds = self.redisPublish ? 0 : self.throughputSeconds
        var report = SubscribeReport(
            subscribers: self.subscribers, follows: self.follows, authors: self.authors, rate: self.rate, seconds: self.duration)

        // The graph: each subscriber's user follows `follows` distinct authors.
        var generator = SeededGenerator(state: self.seed)
        var audience = [Int](repeating: 0, count: self.authors)
        var fanout = [[Int]](repeating: [], count: self.authors)
        var commands: [[String]] = []
        for subscriber in 0..<self.subscribers {
            var chosen = Set<Int>()
            while chosen.count < self.follows { chosen.insert(Int(generator.next() % UInt64(self.authors))) }
            for author in chosen {
                audience[author] += 1
                fanout[author].append(subscriber)
                commands.append(["FEED.FOLLOW", Self.subscriberName(subscriber), SocialGraph.name(author)])
            }
        }
        if !self.redisPublish {
            let loaded = try await target.run(split(commands, into: 8).map(CommandListScript.init), window: 1000)
            if let error = loaded.compactMap(\.firstError).first { throw BenchError("setup failed: \(error)") }
            progress("followed: \(commands.count) follows")
        }

        if throughputSeconds > 0 {
            report.postsPerSecondWithout = try await self.closedLoopPosts(target)
            progress(String(format: "FEED.POST without subscribers: %.0f/s", report.postsPerSecondWithout!))
        }

        // The subscribers, each confirmed before any post is timed.
        var subscribers: [SubscriberRef] = []
        for index in 0..<self.subscribers {
            subscribers.append(try await SubscriberHandler.connect(target, channel: "feed:" + Self.subscriberName(index)))
        }
        progress("subscribed: \(subscribers.count) connections")

        // The delivery phase: posts at a fixed rate from a few connections.
        let start = NIODeadline.now().uptimeNanoseconds + 50_000_000
        let stop = start + UInt64(self.duration * 1e9)
        let interval = UInt64(Double(postConnections) / self.rate * 1e9)
        var posters: [EventLoopFuture<[PostedRecord]>] = []
        for index in 0..<postConnections {
            let plan = PostPlan(
                authors: self.authors, bodyBytes: self.bodyBytes, seed: self.seed &+ UInt64(index) &* 7919, start: start,
                stop: stop, interval: interval, offset: interval * UInt64(index) / UInt64(postConnections),
                fanout: self.redisPublish ? fanout : nil)
            posters.append(try await target.connect { PosterHandler(plan: plan, done: $0) })
        }
        var posted: [PostedRecord] = []
        for poster in posters { posted += try await poster.get() }
        // Messages still on their way: wait until all arrived, or none did for a second.
        let expected = posted.reduce(0) { $0 + audience[$1.author] }
        var arrived = -1
        for _ in 0..<240 {
            var now = 0
            for subscriber in subscribers { now += try await subscriber.arrivedCount() }
            if now >= expected || now == arrived { break }
            arrived = now
            try await Task.sleep(nanoseconds: 1_000_000_000)
        }
        var arrivals: [[Arrival]] = []
        var closedEarly = 0
        for subscriber in subscribers {
            let taken = try await subscriber.take()
            arrivals.append(taken.arrivals)
            if taken.closed { closedEarly += 1 }
        }
        report.measure(posted: posted, arrivals: arrivals, audience: audience, closedEarly: closedEarly)
        progress("delivery phase done")

        if throughputSeconds > 0 {
            // The subscribers go on reading everything, without timing it, so
            // the load tool's CPU goes to posting (the two share the machine).
            for subscriber in subscribers { try await subscriber.countOnly() }
            report.postsPerSecondWith = try await self.closedLoopPosts(target)
            var cutOff = 0
            for subscriber in subscribers {
                if try await subscriber.take().closed { cutOff += 1 }
            }
            report.subscribersCutOffInThroughputPhase = cutOff
        }
        for subscriber in subscribers { subscriber.close() }
        try? await target.group.shutdownGracefully()
        print(self.json ? try report.json() : report.table())
        if report.lost > 0 || report.repeated > 0 || report.outOfOrder > 0 {
            throw BenchError("delivery was not exact: \(report.lost) lost, \(report.repeated) repeated, \(report.outOfOrder) out of order")
        }
    }

    static func subscriberName(_ index: Int) -> String { "sub:\(index)" }

    /// FEED.POST closed loop from `connections` × `pipeline`, posts per second.
    private func closedLoopPosts(_ target: Target) async throws -> Double {
        let start = NIODeadline.now().uptimeNanoseconds + 50_000_000
        let stop = start + UInt64(self.throughputSeconds * 1e9)
        let counter = Progress()
        var futures: [EventLoopFuture<LoadResult>] = []
        for index in 0..<self.connections {
            let source = RequestSource(
                workload: .posts, dialect: .feed, users: self.authors, readRatio: 0, readCount: 1, bodyBytes: self.bodyBytes,
                seed: self.seed &+ 31 &+ UInt64(index) &* 7919)
            futures.append(
                try await target.connect { promise in
                    LoadHandler(
                        source: source, pacing: .closed(depth: self.pipeline), start: start, stop: stop, progress: counter,
                        done: promise)
                })
        }
        var result = LoadResult()
        for future in futures { result.merge(try await future.get()) }
        let replies = result.histograms.map(\.totalCount).reduce(0, +)
        if let error = result.firstError { throw BenchError("FEED.POST failed: \(error)") }
        return Double(replies) / self.throughputSeconds
    }
}

private func progress(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// A message's post id and when it arrived (uptime nanoseconds).
struct Arrival: Sendable {
    var post: UInt64
    var nanoseconds: UInt64
}

/// A post of the delivery phase: its id, author and when its reply arrived.
struct PostedRecord: Sendable {
    var id: UInt64
    var author: Int
    var repliedAt: UInt64
}

struct PostPlan: Sendable {
    var authors: Int
    var bodyBytes: Int
    var seed: UInt64
    var start: UInt64
    var stop: UInt64
    var interval: UInt64
    var offset: UInt64
    /// Redis mode: the subscribers following each author, one PUBLISH each.
    var fanout: [[Int]]?
}

/// Posts on schedule (open loop) and notes each reply's id and time.
final class PosterHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let plan: PostPlan
    private let done: EventLoopPromise<[PostedRecord]>
    private var generator: SeededGenerator
    private var sent = 0
    /// Posts awaiting replies, in order: author, id (Redis mode), replies still due.
    private var pending: [(author: Int, id: UInt64, replies: Int)] = []
    private var lastID: UInt64 = 0
    private var pendingHead = 0
    private var records: [PostedRecord] = []
    private var buffer = ByteBuffer()
    private var decoder = RESPValueDecoder()
    private let body: String
    private var finished = false

    init(plan: PostPlan, done: EventLoopPromise<[PostedRecord]>) {
        self.plan = plan
        self.done = done
        self.generator = SeededGenerator(state: plan.seed)
        self.body = String(repeating: "x", count: plan.bodyBytes)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.schedule(context: context)
    }

    private func schedule(context: ChannelHandlerContext) {
        let due = self.plan.start + self.plan.offset + UInt64(self.sent) * self.plan.interval
        guard due < self.plan.stop else {
            if self.pendingHead == self.pending.count { self.finish(context: context) }
            return
        }
        let now = NIODeadline.now().uptimeNanoseconds
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .nanoseconds(Int64(due > now ? due - now : 0))) {
            let (handler, context) = loopBound.value
            handler.send(context: context)
        }
    }

    private func send(context: ChannelHandlerContext) {
        guard !self.finished else { return }
        let author = Int(self.generator.next() % UInt64(self.plan.authors))
        var out = context.channel.allocator.buffer(capacity: 200)
        self.sent += 1
        if let fanout = self.plan.fanout {
            // What feed-server would publish, as a fan-out worker would publish it to Redis.
            let now = NIODeadline.now().uptimeNanoseconds
            let id = max(self.lastID + 1, now)
            self.lastID = id
            let payload =
                #"{"event":"post","id":""# + String(id) + #"","author":""# + SocialGraph.name(author) + #"","ts":"#
                + String(Int64(Date().timeIntervalSince1970 * 1000)) + #","body":""# + self.body + #""}"#
            for subscriber in fanout[author] {
                RESPValue.encodeCommand(["PUBLISH", "feed:" + Subscribe.subscriberName(subscriber), payload], into: &out)
            }
            guard !fanout[author].isEmpty else {
                self.records.append(PostedRecord(id: id, author: author, repliedAt: now))
                return self.schedule(context: context)
            }
            self.pending.append((author, id, fanout[author].count))
        } else {
            RESPValue.encodeCommand(["FEED.POST", SocialGraph.name(author), self.body], into: &out)
            self.pending.append((author, 0, 1))
        }
        context.writeAndFlush(Self.wrapOutboundOut(out), promise: nil)
        self.schedule(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = Self.unwrapInboundIn(data)
        self.buffer.writeBuffer(&incoming)
        let now = NIODeadline.now().uptimeNanoseconds
        do {
            while let value = try self.decoder.next(&self.buffer) {
                guard self.pendingHead < self.pending.count else { break }
                if self.plan.fanout != nil {
                    guard case .integer = value else { return self.fail(context: context, BenchError("PUBLISH failed: \(value)")) }
                    self.pending[self.pendingHead].replies -= 1
                    guard self.pending[self.pendingHead].replies == 0 else { continue }
                    let post = self.pending[self.pendingHead]
                    self.pendingHead += 1
                    self.records.append(PostedRecord(id: post.id, author: post.author, repliedAt: now))
                    continue
                }
                let author = self.pending[self.pendingHead].author
                self.pendingHead += 1
                guard let id = value.postID else {
                    return self.fail(context: context, BenchError("FEED.POST failed: \(value)"))
                }
                self.records.append(PostedRecord(id: UInt64(id), author: author, repliedAt: now))
            }
        } catch {
            return self.fail(context: context, error)
        }
        let due = self.plan.start + self.plan.offset + UInt64(self.sent) * self.plan.interval
        if due >= self.plan.stop && self.pendingHead == self.pending.count { self.finish(context: context) }
    }

    private func finish(context: ChannelHandlerContext) {
        guard !self.finished else { return }
        self.finished = true
        self.done.succeed(self.records)
        context.close(promise: nil)
    }

    private func fail(context: ChannelHandlerContext, _ error: any Error) {
        guard !self.finished else { return }
        self.finished = true
        self.done.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !self.finished { self.fail(context: context, BenchError("the server closed a posting connection")) }
    }
}

/// A handle on a subscriber connection from outside its event loop.
struct SubscriberRef: Sendable {
    let handler: NIOLoopBound<SubscriberHandler>
    let channel: any Channel

    /// What arrived since the last take, and whether the server closed it.
    func take() async throws -> (arrivals: [Arrival], closed: Bool) {
        let handler = self.handler
        return try await self.channel.eventLoop.submit {
            let arrivals = handler.value.arrivals
            handler.value.arrivals = []
            return (arrivals, handler.value.closed)
        }.get()
    }

    /// Messages arrived since the last take.
    func arrivedCount() async throws -> Int {
        let handler = self.handler
        return try await self.channel.eventLoop.submit { handler.value.arrivals.count }.get()
    }

    /// From now on the subscriber reads and drops what arrives, nothing more.
    func countOnly() async throws {
        let handler = self.handler
        try await self.channel.eventLoop.submit { handler.value.countingOnly = true }.get()
    }

    func close() {
        self.channel.close(promise: nil)
    }
}

/// One subscriber: SUBSCRIBE, then every message's post id and arrival time.
final class SubscriberHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let channelName: String
    var arrivals: [Arrival] = []
    var closed = false
    var countingOnly = false
    private var buffer = ByteBuffer()
    private var confirmed: EventLoopPromise<Void>?

    init(channelName: String, confirmed: EventLoopPromise<Void>) {
        self.channelName = channelName
        self.confirmed = confirmed
    }

    static func connect(_ target: Target, channel name: String) async throws -> SubscriberRef {
        let loop = target.group.next()
        let confirmed = loop.makePromise(of: Void.self)
        let handlerPromise = loop.makePromise(of: NIOLoopBound<SubscriberHandler>.self)
        let channel = try await ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = SubscriberHandler(channelName: name, confirmed: confirmed)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    handlerPromise.succeed(NIOLoopBound(handler, eventLoop: channel.eventLoop))
                }
            }
            .connect(host: target.host, port: target.port).get()
        try await confirmed.futureResult.get()
        return SubscriberRef(handler: try await handlerPromise.futureResult.get(), channel: channel)
    }

    func channelActive(context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: 64)
        RESPValue.encodeCommand(["SUBSCRIBE", self.channelName], into: &out)
        context.writeAndFlush(Self.wrapOutboundOut(out), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = Self.unwrapInboundIn(data)
        if self.countingOnly { return }  // read, and dropped
        self.buffer.writeBuffer(&incoming)
        let now = NIODeadline.now().uptimeNanoseconds
        while true {
            let before = self.buffer  // shares storage: no copy
            guard let reply = try? ReplyScanner.next(&self.buffer) else { break }
            if case .error(let message) = reply {
                self.confirmed?.fail(BenchError("SUBSCRIBE failed: \(message)"))
                self.confirmed = nil
                continue
            }
            let view = before.readableBytesView.prefix(before.readableBytes - self.buffer.readableBytes)
            if let post = Self.postID(in: view) {
                self.arrivals.append(Arrival(post: post, nanoseconds: now))
            } else if let confirmed = self.confirmed {
                confirmed.succeed()  // the subscribe confirmation
                self.confirmed = nil
            }
        }
        self.buffer.discardReadBytes()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.closed = true
        self.confirmed?.fail(BenchError("the server closed a subscriber before it subscribed"))
        self.confirmed = nil
    }

    /// The digits after `"event":"post","id":"` in a message's JSON payload.
    static func postID(in bytes: ByteBufferView.SubSequence) -> UInt64? {
        let marker = Array(#""event":"post","id":""#.utf8)
        guard let found = bytes.firstRange(of: marker) else { return nil }
        var value: UInt64 = 0
        var index = found.upperBound
        while index < bytes.endIndex, (48...57).contains(bytes[index]) {
            value = value * 10 + UInt64(bytes[index] - 48)
            index += 1
        }
        return value
    }
}

/// What the subscribe workload measured.
struct SubscribeReport: Codable, Sendable {
    var subscribers: Int
    var follows: Int
    var authors: Int
    var rate: Double
    var seconds: Double
    var posts = 0
    var expectedMessages = 0
    var delivered = 0
    var lost = 0
    var repeated = 0
    var outOfOrder = 0
    var subscribersClosed = 0
    var latency: KindReport?
    var postsPerSecondWithout: Double?
    var postsPerSecondWith: Double?
    var subscribersCutOffInThroughputPhase: Int?

    /// Joins the messages with the posts: latency from each post's reply,
    /// clamped at 0 (a message may overtake the reply it follows).
    mutating func measure(posted: [PostedRecord], arrivals: [[Arrival]], audience: [Int], closedEarly: Int) {
        var replied: [UInt64: PostedRecord] = [:]
        replied.reserveCapacity(posted.count)
        for post in posted { replied[post.id] = post }
        self.posts = posted.count
        self.expectedMessages = posted.reduce(0) { $0 + audience[$1.author] }
        self.subscribersClosed = closedEarly
        var histogram = makeHistogram()
        var perPost: [UInt64: Int] = [:]
        for stream in arrivals {
            var last: UInt64 = 0
            var seen = Set<UInt64>()
            for arrival in stream {
                guard let post = replied[arrival.post] else { continue }  // a post of another phase
                if !seen.insert(arrival.post).inserted { self.repeated += 1; continue }
                if arrival.post < last { self.outOfOrder += 1 }
                last = max(last, arrival.post)
                perPost[arrival.post, default: 0] += 1
                let micros = arrival.nanoseconds > post.repliedAt ? (arrival.nanoseconds - post.repliedAt) / 1000 : 0
                histogram.record(max(micros, 1))
                self.delivered += 1
            }
        }
        self.lost = self.expectedMessages - self.delivered
        self.latency = KindReport(histogram, errors: 0, seconds: self.seconds)
    }

    func table() -> String {
        var lines = [
            "\(self.subscribers) subscribers following \(self.follows) of \(self.authors) authors each; "
                + String(format: "%.0f posts/s for %.0f s", self.rate, self.seconds),
            "posts \(self.posts), messages expected \(self.expectedMessages), delivered \(self.delivered), lost \(self.lost), "
                + "repeated \(self.repeated), out of order \(self.outOfOrder), subscribers closed \(self.subscribersClosed)",
        ]
        if let latency = self.latency {
            lines.append(
                String(
                    format: "delivery latency from the FEED.POST reply: p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms",
                    latency.p50, latency.p99, latency.p999, latency.max))
        }
        if let without = self.postsPerSecondWithout, let with = self.postsPerSecondWith {
            lines.append(
                String(format: "FEED.POST closed loop: %.0f/s without subscribers, %.0f/s with them", without, with)
                    + " (\(self.subscribersCutOffInThroughputPhase ?? 0) subscribers cut off)")
        }
        return lines.joined(separator: "\n")
    }

    func json() throws -> String { try prettyJSON(self) }
}
