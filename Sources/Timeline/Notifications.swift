/// What others did to a user, for their notification feed
/// (docs/adr/0014-notifications.md).
public enum NotificationVerb: UInt8, Sendable, CaseIterable, Hashable {
    case like = 0
    case repost = 1
    case reply = 2
    case follow = 3
    case mention = 4

    public var name: String {
        switch self {
        case .like: "like"
        case .repost: "repost"
        case .reply: "reply"
        case .follow: "follow"
        case .mention: "mention"
        }
    }

    public init?(name: String) {
        guard let verb = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = verb
    }
}

/// A notification group: one per verb, object and UTC day. Its id, as
/// clients see it, is `verb:object:day` (object 0 for follows; day counted
/// from 1970-01-01) — derived from the group, so it is the same after a
/// restart and needs no counter of its own.
public struct NotificationKey: Sendable, Hashable, CustomStringConvertible {
    public var verb: NotificationVerb
    /// The post liked, reposted, replied to, or that mentions; 0 for follows.
    public var object: UInt64
    public var day: Int32

    public init(verb: NotificationVerb, object: UInt64, day: Int32) {
        self.verb = verb
        self.object = object
        self.day = day
    }

    public init(verb: NotificationVerb, object: UInt64, at milliseconds: Int64) {
        self.init(verb: verb, object: object, day: Self.day(of: milliseconds))
    }

    static let dayMilliseconds: Int64 = 86_400_000

    /// The UTC day a time falls on.
    public static func day(of milliseconds: Int64) -> Int32 {
        Int32(clamping: milliseconds >= 0 ? milliseconds / dayMilliseconds : (milliseconds + 1) / dayMilliseconds - 1)
    }

    /// The group id clients see and give back.
    public var description: String { "\(self.verb.name):\(self.object):\(self.day)" }

    /// Parses a group id; nil when it is not one.
    public init?(id: String) {
        let parts = id.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let verb = NotificationVerb(name: String(parts[0])), let object = UInt64(parts[1]),
            let day = Int32(parts[2]), (verb == .follow) == (object == 0)
        else { return nil }
        self.init(verb: verb, object: object, day: day)
    }
}

/// One action behind a notification: a like, a follow, a repost, a reply
/// or a mention, with when it happened and its place in the engine's order
/// of notifications (which orders groups and actors, and decides seen and
/// read against the marks).
public struct NotificationSource: Sendable, Equatable {
    /// The repost or reply that notified; 0 for likes, follows and mentions
    /// (one each per actor and group).
    public var id: UInt64
    public var at: Int64
    public var order: UInt64

    public init(id: UInt64, at: Int64, order: UInt64) {
        self.id = id
        self.at = at
        self.order = order
    }
}

/// A group as a reader sees it: actors they mute or block (or who block
/// them) are left out, and a group with none left is not shown.
public struct NotificationGroupView: Sendable, Equatable {
    public var key: NotificationKey
    /// The most recent actors (at most `NotificationFeed.shownActors`), newest first.
    public var actors: [String]
    public var actorCount: Int
    /// When the newest actor joined the group.
    public var updatedMilliseconds: Int64
    public var seen: Bool
    public var read: Bool

    public var id: String { self.key.description }
}

/// One user's groups, and the order up to which they have seen them.
struct NotificationFeed: Sendable {
    var groups: [NotificationKey: NotificationGroup] = [:]
    /// Every group whose newest actor joined before this was seen (FEED.MARK SEEN).
    var seenOrder: UInt64 = 0

    /// Actors a group shows by name.
    static let shownActors = 5

    /// Adds a source to a group, made if need be; true when it is new.
    mutating func add(_ source: NotificationSource, of actor: UInt32, to key: NotificationKey) -> Bool {
        let before = self.groups.count
        self.groups[key, default: NotificationGroup()].add(source, of: actor)
        return self.groups.count != before
    }
}

/// A group's actors, each with the actions that put them there (a user who
/// replies twice to a post is one actor with two sources).
struct NotificationGroup: Sendable {
    var actors: [UInt32: [NotificationSource]] = [:]
    /// The newest actor's first source: orders the group in its feed.
    var newest = NotificationSource(id: 0, at: 0, order: 0)
    /// The group was read after actors that joined before this (FEED.MARK READ).
    var readOrder: UInt64 = 0

    /// Adds an actor's source; a new actor is the newest (orders only grow).
    mutating func add(_ source: NotificationSource, of actor: UInt32) {
        let before = self.actors.count
        self.actors[actor, default: []].append(source)
        if self.actors.count != before && source.order > self.newest.order { self.newest = source }
    }

    /// Takes an actor's source out (the actor, with their last); keeps
    /// `newest` right, walking every actor only when the newest join left.
    mutating func remove(_ id: UInt64, of actor: UInt32) -> NotificationSource {
        let index = self.actors[actor]!.firstIndex { $0.id == id }!
        let source = self.actors[actor]!.remove(at: index)
        if self.actors[actor]!.isEmpty {
            self.actors[actor] = nil
        } else {
            // Their join may move later: past the group's newest, it is the newest.
            let joined = Self.joined(self.actors[actor]!)
            if joined.order > self.newest.order { self.newest = joined }
        }
        if source.order == self.newest.order { self.refreshNewest() }
        return source
    }

    /// When an actor joined: their first source still standing.
    static func joined(_ sources: [NotificationSource]) -> NotificationSource {
        sources.min { $0.order < $1.order }!
    }

    /// Recomputes `newest` after an actor or a source left.
    mutating func refreshNewest() {
        var newest = NotificationSource(id: 0, at: 0, order: 0)
        for sources in self.actors.values {
            let joined = Self.joined(sources)
            if joined.order > newest.order { newest = joined }
        }
        self.newest = newest
    }
}

/// `@name` mentions in a post body: an `@` at the start or after a
/// character that cannot be in a name, then the name — letters, digits,
/// `_`, `-`, `.` and `:` (ASCII, so `@user:42` works), without a trailing
/// `.`, `-` or `:`. Each name once, in order of first appearance.
public enum Mentions {
    public static func names(in body: String) -> [String] {
        var names: [String] = []
        let bytes = Array(body.utf8)
        var index = 0
        while index < bytes.count {
            defer { index += 1 }
            guard bytes[index] == UInt8(ascii: "@"), index == 0 || !isNameByte(bytes[index - 1]) else { continue }
            var end = index + 1
            while end < bytes.count && isNameByte(bytes[end]) { end += 1 }
            var last = end
            while last > index + 1 && [UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: ":")].contains(bytes[last - 1]) {
                last -= 1
            }
            guard last > index + 1 else { continue }
            let name = String(decoding: bytes[(index + 1)..<last], as: UTF8.self)
            if !names.contains(name) { names.append(name) }
            index = end - 1
        }
        return names
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":"): true
        default: false
        }
    }
}
