/// One connection's subscriptions: channels and patterns, in the order they
/// were made (UNSUBSCRIBE with no arguments answers in that order).
struct SubscriptionSet: Sendable, Equatable {
    private(set) var channels: [String] = []
    private(set) var patterns: [String] = []

    /// Channels and patterns together: the count Redis's (un)subscribe replies carry.
    var count: Int { self.channels.count + self.patterns.count }
    var isEmpty: Bool { self.channels.isEmpty && self.patterns.isEmpty }

    /// True when it was not subscribed yet.
    mutating func subscribe(channel: String) -> Bool {
        guard !self.channels.contains(channel) else { return false }
        self.channels.append(channel)
        return true
    }

    /// True when it was subscribed.
    mutating func unsubscribe(channel: String) -> Bool {
        guard let index = self.channels.firstIndex(of: channel) else { return false }
        self.channels.remove(at: index)
        return true
    }

    mutating func subscribe(pattern: String) -> Bool {
        guard !self.patterns.contains(pattern) else { return false }
        self.patterns.append(pattern)
        return true
    }

    mutating func unsubscribe(pattern: String) -> Bool {
        guard let index = self.patterns.firstIndex(of: pattern) else { return false }
        self.patterns.remove(at: index)
        return true
    }
}
