import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Timeline

/// One connection to the events endpoint: checks the request and its
/// token, then streams the user's feed events as server-sent events.
///
/// A stream listens before it reads: it is registered for live events
/// first, then finds where to start — the id the browser sent back as
/// `Last-Event-ID`, whose newer entries it replays oldest first, or the
/// newest post id made so far. Live events that arrive meanwhile wait, and
/// any post at or below what was already sent is left out, so a reconnect
/// loses nothing and repeats nothing.
final class EventStreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Phase {
        case awaitingRequest
        /// Sending what the browser missed; live events wait in `held`.
        case replaying
        case streaming
        case closed
    }

    /// Entries fetched per replay round trip.
    static let replayPage = 500
    /// How soon a browser reconnects after a drop (the stream's `retry:`).
    static let retryMilliseconds = 2000
    /// A comment this often keeps idle streams open through proxies.
    static let keepAliveInterval = TimeAmount.seconds(15)

    private let server: ServerContext
    private var request: HTTPRequestHead?
    private var phase = Phase.awaitingRequest
    private var context: ChannelHandlerContext?
    private var target: EventStreamTarget?
    private var user = ""
    /// Live events that came during the replay, in order.
    private var held: [(frame: ByteBuffer, postID: UInt64?)] = []
    /// Posts at or below this id have been sent (or the browser had them).
    private var through: UInt64 = 0
    /// Bytes of the held events (the socket's own are read from the channel).
    private var heldBytes = 0
    private var outputLimit = OutputLimitWatch()
    private var keepAlive: RepeatedTask?

    init(server: ServerContext) {
        self.server = server
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.finish()
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head):
            if self.phase == .awaitingRequest { self.request = head }
        case .body:
            break
        case .end:
            guard self.phase == .awaitingRequest, let head = self.request else { return }
            self.request = nil
            self.respond(to: head, context: context)
        }
    }

    /// Ends the stream: the server is shutting down.
    func close() {
        self.context?.close(promise: nil)
    }

    // MARK: The request

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map(String.init) ?? ""
        let query = parts.count > 1 ? String(parts[1]) : ""
        guard path.hasPrefix("/events/"), let user = PercentDecoding.decode(path.dropFirst("/events/".count), plusIsSpace: false),
            !user.isEmpty, user.utf8.count <= self.server.configuration.feed.maxUserIDBytes
        else {
            return self.refuse(.notFound, "Not found: event streams are at /events/<user>?token=<token>\n", head, context)
        }
        if head.method == .OPTIONS {
            // A browser's CORS preflight (a reconnect's Last-Event-ID header may call for one).
            return self.refuse(.noContent, "", head, context)
        }
        guard head.method == .GET else {
            return self.refuse(.methodNotAllowed, "Use GET\n", head, context)
        }
        let token = PercentDecoding.parameter("token", in: query) ?? ""
        switch self.server.eventTokens.verify(token, user: user, now: WallClock.milliseconds() / 1000) {
        case .valid:
            break
        case .expired:
            return self.refuse(.unauthorized, "Token expired: mint a new one with FEED.TOKEN\n", head, context)
        case .invalid:
            return self.refuse(.unauthorized, "Invalid token for this user: mint one with FEED.TOKEN\n", head, context)
        }
        guard self.server.eventStreams.count.load(ordering: .relaxed) < self.server.configuration.maxClients else {
            return self.refuse(.serviceUnavailable, "Too many event streams\n", head, context)
        }
        let lastEventID = head.headers.first(name: "Last-Event-ID").flatMap {
            UInt64(String($0.filter { $0 != " " }))
        }
        self.open(user: user, resumingAfter: lastEventID, head: head, context: context)
    }

    /// A response that is not a stream; the connection closes after it.
    private func refuse(_ status: HTTPResponseStatus, _ text: String, _ head: HTTPRequestHead, _ context: ChannelHandlerContext) {
        var headers = Self.corsHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        headers.add(name: "Connection", value: "close")
        if status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, OPTIONS") }
        if status == .unauthorized { headers.add(name: "WWW-Authenticate", value: #"Bearer realm="feed events""#) }
        context.write(
            Self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if !text.isEmpty { context.write(Self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil) }
        let channel = context.channel
        context.writeAndFlush(Self.wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        self.phase = .closed
    }

    private static func corsHeaders() -> HTTPHeaders {
        // Tokens, not cookies, authorise a stream: any page holding one may read it.
        var headers = HTTPHeaders()
        headers.add(name: "Access-Control-Allow-Origin", value: "*")
        headers.add(name: "Access-Control-Allow-Methods", value: "GET, OPTIONS")
        headers.add(name: "Access-Control-Allow-Headers", value: "Last-Event-ID, Cache-Control")
        headers.add(name: "Access-Control-Max-Age", value: "600")
        return headers
    }

    // MARK: The stream

    private func open(user: String, resumingAfter lastEventID: UInt64?, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = Self.corsHeaders()
        headers.add(name: "Content-Type", value: "text/event-stream; charset=utf-8")
        headers.add(name: "Cache-Control", value: "no-cache")
        headers.add(name: "X-Accel-Buffering", value: "no")
        context.write(
            Self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers))), promise: nil)

        self.user = user
        let target = EventStreamTarget(id: self.server.eventStreams.makeID(), user: user, eventLoop: context.eventLoop)
        target.attach(self)
        self.target = target
        // Listening before reading where to start: nothing falls in between.
        self.server.eventStreams.add(target)
        self.server.logger.debug("Event stream opened", metadata: ["user": "\(user)", "last_event_id": "\(lastEventID.map(String.init) ?? "-")"])

        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.keepAlive = context.eventLoop.scheduleRepeatedTask(
            initialDelay: Self.keepAliveInterval, delay: Self.keepAliveInterval
        ) { _ in
            loopBound.value.send(EventStreamFrame.keepAlive)
        }
        if let lastEventID {
            self.through = lastEventID
            self.phase = .replaying
            self.send(EventStreamFrame.opening(retryMilliseconds: Self.retryMilliseconds, resumeFrom: lastEventID))
            self.replay(after: lastEventID, context: context)
        } else {
            self.through = self.server.feed.withEngine { $0.latestPostID }
            self.phase = .streaming
            self.send(EventStreamFrame.opening(retryMilliseconds: Self.retryMilliseconds, resumeFrom: self.through))
        }
    }

    /// One page of what the browser missed, then the next once the socket
    /// has taken it; then the events held meanwhile, and live from there.
    private func replay(after: UInt64, context: ChannelHandlerContext) {
        let server = self.server
        let user = self.user
        let promise = context.eventLoop.makePromise(of: [FeedEntry].self)
        promise.completeWithTask { try await server.entries(of: user, after: after, count: Self.replayPage) }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { result in
            let handler = loopBound.value
            guard handler.phase == .replaying, let context = handler.context else { return }
            switch result {
            case .failure(let error):
                // The browser reconnects with the same Last-Event-ID and tries again.
                server.logger.warning(
                    "Event stream replay failed; closing it", metadata: ["user": "\(user)", "error": "\(error)"])
                context.close(promise: nil)
            case .success(let entries):
                var written = context.eventLoop.makeSucceededVoidFuture()
                for entry in entries {
                    guard let body = entry.body else { continue }  // deleted meanwhile
                    let payload = FeedEvents.postPayload(id: entry.id, author: entry.author, body: body)
                    written = context.writeAndFlush(
                        Self.wrapOutboundOut(.body(.byteBuffer(EventStreamFrame.post(id: entry.id, payload: payload)))))
                    handler.through = max(handler.through, entry.id)
                }
                guard entries.count == Self.replayPage, let next = entries.last?.id else {
                    return handler.replayed()
                }
                // The next page once the socket has taken this one.
                written.whenComplete { _ in
                    let handler = loopBound.value
                    guard handler.phase == .replaying, let context = handler.context else { return }
                    handler.replay(after: next, context: context)
                }
            }
        }
    }

    private func replayed() {
        self.phase = .streaming
        let held = self.held
        self.held = []
        self.heldBytes = 0
        for event in held { self.live(event.frame, postID: event.postID) }
    }

    /// A live event for this stream (on its event loop).
    func live(_ frame: ByteBuffer, postID: UInt64?) {
        switch self.phase {
        case .awaitingRequest, .closed:
            return
        case .replaying:
            self.held.append((frame, postID))
            self.heldBytes += frame.readableBytes
            self.checkLimits()
        case .streaming:
            if let postID {
                guard postID > self.through else { return }  // sent already, or the browser had it
                self.through = postID
            }
            self.send(frame)
            self.checkLimits()
        }
    }

    private func send(_ frame: ByteBuffer) {
        guard let context = self.context, self.phase != .closed else { return }
        context.writeAndFlush(Self.wrapOutboundOut(.body(.byteBuffer(frame))), promise: nil)
    }

    /// The pubsub output limits apply to streams too: a browser that stops
    /// reading is closed with one log line, and reconnects where it left off.
    private func checkLimits() {
        guard let context = self.context else { return }
        let limit = self.server.configuration.pubsubOutputLimit
        // What the socket has not taken yet (0 where the channel cannot say), and what waits for the replay.
        let unsent = ((try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0) + self.heldBytes
        guard self.outputLimit.isExceeded(unsent: unsent, limit) else { return }
        self.server.stats.outputLimitDisconnections.add(1, ordering: .relaxed)
        self.server.logger.warning(
            "Event stream closed for overcoming of output buffer limits",
            metadata: ["user": "\(self.user)", "unsent_bytes": "\(unsent)", "limit": "\(limit.description)"])
        self.finish()
        context.close(promise: nil)
    }

    /// Stops listening; idempotent.
    private func finish() {
        self.phase = .closed
        self.held = []
        self.keepAlive?.cancel()
        self.keepAlive = nil
        if let target = self.target {
            self.server.eventStreams.remove(target)
            target.attach(nil)
            self.target = nil
        }
    }
}

/// `%XX` escapes in URLs' paths and query strings.
enum PercentDecoding {
    static func decode(_ text: Substring, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The first value of `name` in a query string (`a=1&b=2`).
    static func parameter(_ name: String, in query: String) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.first.flatMap({ Self.decode($0, plusIsSpace: true) }) == name {
                return parts.count > 1 ? Self.decode(parts[1], plusIsSpace: true) : ""
            }
        }
        return nil
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
