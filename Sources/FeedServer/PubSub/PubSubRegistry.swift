import NIOCore
import RESP
import Synchronization

/// Who listens to what, server-wide: channels and patterns to the
/// connections subscribed, and the delivery of published messages, each
/// formatted once per protocol and handed to every receiver's event loop.
/// A connection's own view of its subscriptions is its `SubscriptionSet`.
final class PubSubRegistry: Sendable {
    private struct State {
        var channels: [String: [Int64: PushTarget]] = [:]
        var patterns: [String: [Int64: PushTarget]] = [:]
    }

    private let state = Mutex(State())
    /// Subscriptions to channels and patterns, readable without the lock:
    /// with none, publishing costs one atomic load.
    let subscriptionCount = Atomic<Int>(0)
    /// Changes whenever a `feed:` channel or any pattern gains or loses a
    /// subscriber: who may listen to feeds is cached until it does.
    let feedListenersVersion = Atomic<Int>(0)
    /// Pattern subscriptions (any could match a feed channel).
    private let patternSubscriptions = Atomic<Int>(0)
    /// Subscriptions to `posts:` channels, and to `feed:` channels.
    private let postsChannelSubscriptions = Atomic<Int>(0)
    private let feedChannelSubscriptions = Atomic<Int>(0)
    /// Subscriptions to `notifications:` channels.
    private let notificationChannelSubscriptions = Atomic<Int>(0)

    func subscribe(_ target: PushTarget, channel: String) {
        self.state.withLock { $0.channels[channel, default: [:]][target.clientID] = target }
        self.subscriptionCount.add(1, ordering: .relaxed)
        if channel.hasPrefix("feed:") {
            self.feedChannelSubscriptions.add(1, ordering: .relaxed)
            self.feedListenersVersion.add(1, ordering: .releasing)
        }
        if channel.hasPrefix("posts:") { self.postsChannelSubscriptions.add(1, ordering: .relaxed) }
        if channel.hasPrefix("notifications:") { self.notificationChannelSubscriptions.add(1, ordering: .relaxed) }
    }

    func unsubscribe(_ target: PushTarget, channel: String) {
        let removed = self.state.withLock { state -> Bool in
            guard state.channels[channel]?.removeValue(forKey: target.clientID) != nil else { return false }
            if state.channels[channel]?.isEmpty == true { state.channels.removeValue(forKey: channel) }
            return true
        }
        if removed {
            self.subscriptionCount.subtract(1, ordering: .relaxed)
            if channel.hasPrefix("feed:") {
                self.feedChannelSubscriptions.subtract(1, ordering: .relaxed)
                self.feedListenersVersion.add(1, ordering: .releasing)
            }
            if channel.hasPrefix("posts:") { self.postsChannelSubscriptions.subtract(1, ordering: .relaxed) }
            if channel.hasPrefix("notifications:") { self.notificationChannelSubscriptions.subtract(1, ordering: .relaxed) }
        }
    }

    func subscribe(_ target: PushTarget, pattern: String) {
        self.state.withLock { $0.patterns[pattern, default: [:]][target.clientID] = target }
        self.subscriptionCount.add(1, ordering: .relaxed)
        self.patternSubscriptions.add(1, ordering: .relaxed)
        self.feedListenersVersion.add(1, ordering: .releasing)
    }

    func unsubscribe(_ target: PushTarget, pattern: String) {
        let removed = self.state.withLock { state -> Bool in
            guard state.patterns[pattern]?.removeValue(forKey: target.clientID) != nil else { return false }
            if state.patterns[pattern]?.isEmpty == true { state.patterns.removeValue(forKey: pattern) }
            return true
        }
        if removed {
            self.subscriptionCount.subtract(1, ordering: .relaxed)
            self.patternSubscriptions.subtract(1, ordering: .relaxed)
            self.feedListenersVersion.add(1, ordering: .releasing)
        }
    }

    /// Removes every subscription of a connection (it closed, or RESET).
    func removeAll(_ target: PushTarget, _ subscriptions: SubscriptionSet) {
        for channel in subscriptions.channels { self.unsubscribe(target, channel: channel) }
        for pattern in subscriptions.patterns { self.unsubscribe(target, pattern: pattern) }
    }

    /// Publishes `payload` on `channel`: a `message` to each subscriber of
    /// the channel and a `pmessage` to each of every matching pattern.
    /// Returns how many received it, as PUBLISH does. The payload's bytes
    /// are shared, not copied; each receiver formats what it got on its own
    /// event loop, in one buffer per batch.
    @discardableResult
    func publish(channel: String, payload: ByteBuffer) -> Int {
        guard self.subscriptionCount.load(ordering: .relaxed) > 0 else { return 0 }
        return self.state.withLock { state -> Int in
            var count = 0
            if let targets = state.channels[channel] {
                for target in targets.values { target.deliver(PushMessage(pattern: nil, channel: channel, payload: payload)) }
                count += targets.count
            }
            for (pattern, targets) in state.patterns where GlobPattern.matches(pattern, channel) {
                for target in targets.values {
                    target.deliver(PushMessage(pattern: pattern, channel: channel, payload: payload))
                }
                count += targets.count
            }
            return count
        }
    }

    /// The channels with subscribers whose names start with `prefix`, as
    /// the rest of their names (`feed:` → the users whose feed is listened to).
    func channelSuffixes(prefix: String) -> [String] {
        self.state.withLock { state in
            state.channels.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
        }
    }

    /// Whether any pattern subscription exists (patterns can match any feed channel).
    var hasPatterns: Bool { self.patternSubscriptions.load(ordering: .relaxed) > 0 }

    /// Whether any feed channel (`feed:` or `posts:`) may have a listener:
    /// subscriptions to other channels cost a post nothing.
    var mayListenToFeeds: Bool {
        self.feedChannelSubscriptions.load(ordering: .relaxed) > 0 || self.mayListenToPosts
    }

    /// Whether an author's `posts:` channel may have a listener (some
    /// `posts:` channel or any pattern does).
    var mayListenToPosts: Bool {
        self.postsChannelSubscriptions.load(ordering: .relaxed) > 0 || self.hasPatterns
    }

    /// Whether a `notifications:` channel may have a listener (some such channel or any pattern).
    var mayListenToNotifications: Bool {
        self.notificationChannelSubscriptions.load(ordering: .relaxed) > 0 || self.hasPatterns
    }

    // MARK: PUBSUB

    func channels(matching pattern: String?) -> [String] {
        self.state.withLock { state in
            state.channels.keys.filter { pattern == nil || GlobPattern.matches(pattern!, $0) }.sorted()
        }
    }

    /// Whether the channel has a subscriber (patterns aside).
    func hasSubscribers(_ channel: String) -> Bool {
        self.state.withLock { $0.channels[channel] != nil }
    }

    func subscriberCounts(_ channels: [String]) -> [Int] {
        self.state.withLock { state in channels.map { state.channels[$0]?.count ?? 0 } }
    }

    /// Channels with at least one subscriber.
    var channelCount: Int { self.state.withLock { $0.channels.count } }

    /// Pattern subscriptions, as Redis counts NUMPAT (unique patterns).
    var patternCount: Int { self.state.withLock { $0.patterns.count } }
}

/// A published message on its way to one receiver, not yet formatted.
struct PushMessage: Sendable {
    /// The pattern that matched (`pmessage`), or nil (`message`).
    var pattern: String?
    var channel: String
    var payload: ByteBuffer

    /// Bytes it takes, about: for reserving a batch's buffer.
    var estimatedSize: Int { self.payload.readableBytes + self.channel.utf8.count + (self.pattern?.utf8.count ?? 0) + 48 }

    func write(into buffer: inout ByteBuffer, version: RESPVersion) {
        if let pattern = self.pattern {
            buffer.writeRESPPushHeader(4, version)
            buffer.writeRESPBulkString("pmessage")
            buffer.writeRESPBulkString(pattern)
        } else {
            buffer.writeRESPPushHeader(3, version)
            buffer.writeRESPBulkString("message")
        }
        buffer.writeRESPBulkString(self.channel)
        buffer.writeRESPBulkString(self.payload)
    }
}
