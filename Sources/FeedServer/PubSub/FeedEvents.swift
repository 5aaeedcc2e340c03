import DequeModule
import NIOCore
import Synchronization
import Timeline

/// The feed channels: `feed:<user>` gets an event for each entry that lands
/// in the user's feed (pushed or pulled), and for deletes of posts the user
/// could have seen; `posts:<author>` gets the author's own. Payloads are
/// JSON with post ids as strings (ADR 0010). Browser event streams of a
/// user get what `feed:<user>` gets, framed as server-sent events.
///
/// Events are queued under the engine lock, in engine order, with their
/// recipients already found; they are formatted and published outside it.
/// One thread drains at a time, so each channel gets its events in order,
/// each once. With no subscriber at all, a write pays one atomic load.
final class FeedEvents: Sendable {
    enum Event: Sendable {
        case post(id: UInt64, author: String, body: String, recipients: [String])
        case delete(id: UInt64, author: String, recipients: [String])
        /// A notification group changed (nil: gone, or nothing left to show).
        case notification(user: String, id: String, view: NotificationGroupView?)
    }

    private struct Outbox {
        var events = Deque<Event>()
        var draining = false
    }

    private let outbox = Mutex(Outbox())
    /// Who may listen to feeds, as of the registries' versions it was taken at.
    private let listeners = Mutex<(version: Int, users: Set<String>)>((-1, []))
    let pubsub: PubSubRegistry
    let streams: EventStreamRegistry

    init(pubsub: PubSubRegistry, streams: EventStreamRegistry) {
        self.pubsub = pubsub
        self.streams = streams
    }

    /// Whether anyone listens at all (checked before finding recipients).
    var isListenedTo: Bool {
        self.pubsub.mayListenToFeeds || self.streams.count.load(ordering: .relaxed) > 0
    }

    /// The users whose feed may be listened to (a `feed:` channel or an
    /// event stream), for the engine to intersect with a post's audience;
    /// nil when a pattern could match any. Rebuilt only when a feed
    /// channel, a pattern or a stream came or went.
    func feedListeners() -> Set<String>? {
        guard !self.pubsub.hasPatterns else { return nil }
        // Both counters only grow, so their sum changes whenever either does.
        let version =
            self.pubsub.feedListenersVersion.load(ordering: .acquiring) + self.streams.version.load(ordering: .acquiring)
        return self.listeners.withLock { cached in
            if cached.version != version {
                var users = Set(self.pubsub.channelSuffixes(prefix: "feed:"))
                users.formUnion(self.streams.users())
                cached = (version, users)
            }
            return cached.users
        }
    }

    /// Finds who gets a post and queues it; under the engine lock.
    func postCreated(id: UInt64, author: String, body: String, engine: FeedEngine) {
        guard self.isListenedTo else { return }
        let recipients = engine.readers(
            self.feedListeners().map { engine.feedRecipients(of: author, among: $0) } ?? engine.allFeedRecipients(of: author),
            thatSee: id)
        guard !recipients.isEmpty || self.pubsub.mayListenToPosts else { return }  // nobody to tell
        self.outbox.withLock { $0.events.append(.post(id: id, author: author, body: body, recipients: recipients)) }
    }

    /// Queues a delete for everyone who could have seen the post; under the engine lock.
    func postDeleted(id: UInt64, author: String, engine: FeedEngine) {
        guard self.isListenedTo else { return }
        let recipients =
            self.feedListeners().map { engine.feedRecipients(of: author, among: $0) } ?? engine.allFeedRecipients(of: author)
        guard !recipients.isEmpty || self.pubsub.mayListenToPosts else { return }
        self.outbox.withLock { $0.events.append(.delete(id: id, author: author, recipients: recipients)) }
    }

    /// Queues the notification groups a write changed, for the users whose
    /// `notifications:` channel or event stream may be listened to; under
    /// the engine lock. With nobody listening it only forgets them.
    func notificationsChanged(_ engine: inout FeedEngine) {
        let streams = self.streams.count.load(ordering: .relaxed) > 0
        guard self.pubsub.mayListenToNotifications || streams else { return engine.discardNotificationChanges() }
        let patterns = self.pubsub.hasPatterns
        let changes = engine.drainNotificationChanges { user in
            patterns || self.pubsub.hasSubscribers("notifications:" + user) || (streams && self.streams.isOpen(for: user))
        }
        guard !changes.isEmpty else { return }
        self.outbox.withLock { outbox in
            for change in changes { outbox.events.append(.notification(user: change.user, id: change.id, view: change.view)) }
        }
    }

    /// Publishes what is queued, in order; after the engine lock is released.
    func drain() {
        while true {
            let batch = self.outbox.withLock { outbox -> [Event]? in
                guard !outbox.draining, !outbox.events.isEmpty else { return nil }
                outbox.draining = true
                defer { outbox.events.removeAll() }
                return Array(outbox.events)
            }
            guard let batch else { return }
            for event in batch { self.publish(event) }
            self.outbox.withLock { $0.draining = false }
        }
    }

    private func publish(_ event: Event) {
        switch event {
        case .post(let id, let author, let body, let recipients):
            let payload = Self.postPayload(id: id, author: author, body: body)
            var frame: ByteBuffer?
            for user in recipients {
                self.pubsub.publish(channel: "feed:" + user, payload: payload)
                self.publishToStreams(user: user, frame: &frame, postID: id) { EventStreamFrame.post(id: id, payload: payload) }
            }
            if self.pubsub.mayListenToPosts { self.pubsub.publish(channel: "posts:" + author, payload: payload) }
        case .delete(let id, let author, let recipients):
            let payload = Self.deletePayload(id: id)
            var frame: ByteBuffer?
            for user in recipients {
                self.pubsub.publish(channel: "feed:" + user, payload: payload)
                self.publishToStreams(user: user, frame: &frame, postID: nil) { EventStreamFrame.event(payload: payload) }
            }
            if self.pubsub.mayListenToPosts { self.pubsub.publish(channel: "posts:" + author, payload: payload) }
        case .notification(let user, let id, let view):
            let payload = Self.notificationPayload(id: id, view: view)
            self.pubsub.publish(channel: "notifications:" + user, payload: payload)
            var frame: ByteBuffer?
            self.publishToStreams(user: user, frame: &frame, postID: nil) { EventStreamFrame.event(payload: payload) }
        }
    }

    /// The event framed for the browser once, for the first stream that gets it.
    private func publishToStreams(
        user: String, frame: inout ByteBuffer?, postID: UInt64?, _ make: () -> ByteBuffer
    ) {
        guard self.streams.count.load(ordering: .relaxed) > 0 else { return }
        if frame == nil { frame = make() }
        self.streams.publish(user: user, frame: frame!, postID: postID)
    }

    /// `{"event":"post","id":"…","author":"…","ts":…,"body":"…"}`.
    static func postPayload(id: UInt64, author: String, body: String) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(body.utf8.count + author.utf8.count + 80)
        buffer.writeStaticString(#"{"event":"post","id":""#)
        buffer.writeString(String(id))
        buffer.writeStaticString(#"","author":"#)
        JSONText.writeString(author, into: &buffer)
        buffer.writeStaticString(#","ts":"#)
        buffer.writeString(String(PostID.createdMilliseconds(id)))
        buffer.writeStaticString(#","body":"#)
        JSONText.writeString(body, into: &buffer)
        buffer.writeStaticString("}")
        return buffer
    }

    /// `{"event":"notification","id":"like:…:…","verb":"like","object":"…","actors":[…],"actor_count":n,
    /// "updated_ms":…,"seen":false,"read":false}`; a group that went has
    /// `"actor_count":0` and no actors. Object ids are strings, as post ids are (ADR 0010).
    static func notificationPayload(id: String, view: NotificationGroupView?) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeStaticString(#"{"event":"notification","id":"#)
        JSONText.writeString(id, into: &buffer)
        guard let view else {
            buffer.writeStaticString(#","actors":[],"actor_count":0}"#)
            return buffer
        }
        buffer.writeStaticString(#","verb":""#)
        buffer.writeString(view.key.verb.name)
        buffer.writeStaticString(#"","object":"#)
        if view.key.verb == .follow { buffer.writeStaticString("null") } else { buffer.writeString("\"\(view.key.object)\"") }
        buffer.writeStaticString(#","actors":["#)
        for (index, actor) in view.actors.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            JSONText.writeString(actor, into: &buffer)
        }
        buffer.writeString("],\"actor_count\":\(view.actorCount),\"updated_ms\":\(view.updatedMilliseconds)")
        buffer.writeString(",\"seen\":\(view.seen),\"read\":\(view.read)}")
        return buffer
    }

    /// `{"event":"delete","id":"…"}`.
    static func deletePayload(id: UInt64) -> ByteBuffer {
        ByteBuffer(string: #"{"event":"delete","id":""# + String(id) + #""}"#)
    }
}

/// JSON strings from any UTF-8 text: quotes, backslashes and control
/// characters escaped, everything else as it is (JSON is UTF-8), copied in
/// runs rather than byte by byte.
enum JSONText {
    static func writeString(_ text: String, into buffer: inout ByteBuffer) {
        var text = text
        buffer.writeInteger(UInt8(ascii: "\""))
        text.withUTF8 { bytes in
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[runStart..<index]))
                Self.writeEscape(byte, into: &buffer)
                runStart = index + 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[runStart..<bytes.count]))
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    private static func writeEscape(_ byte: UInt8, into buffer: inout ByteBuffer) {
        switch byte {
        case UInt8(ascii: "\""): buffer.writeStaticString(#"\""#)
        case UInt8(ascii: "\\"): buffer.writeStaticString(#"\\"#)
        case 0x0A: buffer.writeStaticString(#"\n"#)
        case 0x0D: buffer.writeStaticString(#"\r"#)
        case 0x09: buffer.writeStaticString(#"\t"#)
        default:
            let hex = Array("0123456789abcdef".utf8)
            buffer.writeStaticString(#"\u00"#)
            buffer.writeInteger(hex[Int(byte >> 4)])
            buffer.writeInteger(hex[Int(byte & 0xF)])
        }
    }
}
