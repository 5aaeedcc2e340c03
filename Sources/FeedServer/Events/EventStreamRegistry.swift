import NIOCore
import Synchronization

/// The browser event streams open now, by the user whose feed each shows.
/// `FeedEvents` publishes to them beside the `feed:<user>` channel, with
/// the same payloads framed as server-sent events.
final class EventStreamRegistry: Sendable {
    private let streams = Mutex<[String: [Int64: EventStreamTarget]]>([:])
    /// Open streams, readable without the lock.
    let count = Atomic<Int>(0)
    /// Changes whenever a stream opens or closes.
    let version = Atomic<Int>(0)
    private let nextID = Atomic<Int64>(1)

    func makeID() -> Int64 { self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue }

    func add(_ target: EventStreamTarget) {
        self.streams.withLock { $0[target.user, default: [:]][target.id] = target }
        self.count.add(1, ordering: .relaxed)
        self.version.add(1, ordering: .releasing)
    }

    func remove(_ target: EventStreamTarget) {
        let removed = self.streams.withLock { streams -> Bool in
            guard streams[target.user]?.removeValue(forKey: target.id) != nil else { return false }
            if streams[target.user]?.isEmpty == true { streams.removeValue(forKey: target.user) }
            return true
        }
        if removed {
            self.count.subtract(1, ordering: .relaxed)
            self.version.add(1, ordering: .releasing)
        }
    }

    /// Every open stream.
    func all() -> [EventStreamTarget] {
        self.streams.withLock { $0.values.flatMap(\.values) }
    }

    /// Whether the user has an open stream.
    func isOpen(for user: String) -> Bool {
        self.streams.withLock { $0[user] != nil }
    }

    /// The users with a stream open.
    func users() -> [String] {
        guard self.count.load(ordering: .relaxed) > 0 else { return [] }
        return self.streams.withLock { Array($0.keys) }
    }

    /// Hands an event to every stream of `user`.
    func publish(user: String, frame: ByteBuffer, postID: UInt64?) {
        guard self.count.load(ordering: .relaxed) > 0 else { return }
        let targets = self.streams.withLock { streams in streams[user].map { Array($0.values) } ?? [] }
        for target in targets { target.deliver(frame, postID: postID) }
    }
}

/// Where events for one open stream go: a handle other threads may hold,
/// which hands each event to the stream's handler on its event loop (always
/// through the loop's queue, so events keep the order they were published in).
final class EventStreamTarget: Sendable {
    let id: Int64
    let user: String
    let eventLoop: any EventLoop
    private let handler: NIOLoopBoundBox<EventStreamHandler?>

    init(id: Int64, user: String, eventLoop: any EventLoop) {
        self.id = id
        self.user = user
        self.eventLoop = eventLoop
        self.handler = NIOLoopBoundBox(nil, eventLoop: eventLoop)
    }

    /// Sets (or clears) the handler that writes the events; on the event loop.
    func attach(_ handler: EventStreamHandler?) {
        self.handler.value = handler
    }

    func deliver(_ frame: ByteBuffer, postID: UInt64?) {
        self.eventLoop.execute { self.handler.value?.live(frame, postID: postID) }
    }

    /// Ends the stream (the server is shutting down).
    func close() {
        self.eventLoop.execute { self.handler.value?.close() }
    }
}

/// Server-sent events framing (the HTML standard's `text/event-stream`).
/// Payloads are one line of JSON, so each is one `data:` field.
enum EventStreamFrame {
    /// A post: `id:` is its id, which the browser sends back as
    /// `Last-Event-ID` when it reconnects.
    static func post(id: UInt64, payload: ByteBuffer) -> ByteBuffer {
        var frame = ByteBuffer()
        frame.reserveCapacity(payload.readableBytes + 40)
        frame.writeStaticString("id: ")
        frame.writeString(String(id))
        frame.writeStaticString("\ndata: ")
        frame.writeImmutableBuffer(payload)
        frame.writeStaticString("\n\n")
        return frame
    }

    /// An event without an id (a delete): the browser's last id stays where it was.
    static func event(payload: ByteBuffer) -> ByteBuffer {
        var frame = ByteBuffer()
        frame.writeStaticString("data: ")
        frame.writeImmutableBuffer(payload)
        frame.writeStaticString("\n\n")
        return frame
    }

    /// The stream's opening: how soon to reconnect, and the id to resume
    /// from should the connection drop before any post arrives (an `id:`
    /// alone sets the browser's last id without dispatching an event).
    static func opening(retryMilliseconds: Int, resumeFrom id: UInt64) -> ByteBuffer {
        ByteBuffer(string: "retry: \(retryMilliseconds)\nid: \(id)\n\n")
    }

    /// A comment, which keeps proxies from closing an idle stream.
    static let keepAlive = ByteBuffer(string: ": keep-alive\n\n")
}
