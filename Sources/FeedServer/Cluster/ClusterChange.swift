import NIOCore
import Timeline

/// One action another node needs, as the change feed carries it
/// (`cluster_changes`, migration 0007): users by their store id, which
/// every node shares (engine numbers are each process's own).
enum ClusterChange: Equatable, Sendable {
    case post(id: UInt64, author: Int64, body: String, kind: PostKind, link: UInt64, linkAuthor: Int64)
    case delete(id: UInt64, author: Int64)
    case follow(follower: Int64, followee: Int64, on: Bool)
    case hideReposts(follower: Int64, followee: Int64, hidden: Bool)
    case like(user: Int64, post: UInt64, on: Bool)
    case mute(user: Int64, target: Int64, on: Bool)
    case block(user: Int64, target: Int64, on: Bool)
    /// A notification the acting node made (or took back), with its order.
    case notified(user: Int64, group: NotificationKey, actor: Int64, source: NotificationSource, added: Bool)
    case groupRemoved(user: Int64, group: NotificationKey)
    /// FEED.MARK: SEEN (no group) or READ of one group.
    case mark(user: Int64, group: NotificationKey?, order: UInt64)

    /// The change a journaled mutation is for other nodes; nil for what
    /// stays on the node that made it (a reader's affinity, which only
    /// their node ranks with; new users, named by the changes that use them).
    init?(_ mutation: FeedMutation, id: (UInt32) -> Int64) {
        switch mutation {
        case .postCreated(let post, let author, let body, let link):
            self = .post(
                id: post, author: id(author), body: body, kind: link?.kind ?? .post, link: link?.post ?? 0,
                linkAuthor: link.map { id($0.author) } ?? -1)
        case .postDeleted(let post, let author): self = .delete(id: post, author: id(author))
        case .followed(let a, let b): self = .follow(follower: id(a), followee: id(b), on: true)
        case .unfollowed(let a, let b): self = .follow(follower: id(a), followee: id(b), on: false)
        case .repostsHidden(let a, let b, let hidden): self = .hideReposts(follower: id(a), followee: id(b), hidden: hidden)
        case .liked(let user, let post): self = .like(user: id(user), post: post, on: true)
        case .unliked(let user, let post): self = .like(user: id(user), post: post, on: false)
        case .muted(let user, let target): self = .mute(user: id(user), target: id(target), on: true)
        case .unmuted(let user, let target): self = .mute(user: id(user), target: id(target), on: false)
        case .blocked(let user, let target): self = .block(user: id(user), target: id(target), on: true)
        case .unblocked(let user, let target): self = .block(user: id(user), target: id(target), on: false)
        case .notified(let user, let group, let actor, let source, let added):
            self = .notified(user: id(user), group: group, actor: id(actor), source: source, added: added)
        case .notificationGroupRemoved(let user, let group): self = .groupRemoved(user: id(user), group: group)
        case .notificationsSeen(let user, let order): self = .mark(user: id(user), group: nil, order: order)
        case .notificationRead(let user, let group, let order): self = .mark(user: id(user), group: group, order: order)
        case .userCreated, .affinity:
            return nil
        }
    }

    /// The engine numbers of the users a mutation that travels names.
    static func users(of mutation: FeedMutation) -> [UInt32] {
        switch mutation {
        case .postCreated(_, let author, _, let link): return link.map { [author, $0.author] } ?? [author]
        case .postDeleted(_, let author): return [author]
        case .followed(let a, let b), .unfollowed(let a, let b), .repostsHidden(let a, let b, _): return [a, b]
        case .liked(let user, _), .unliked(let user, _): return [user]
        case .muted(let a, let b), .unmuted(let a, let b), .blocked(let a, let b), .unblocked(let a, let b): return [a, b]
        case .notified(let user, _, let actor, _, _): return [user, actor]
        case .notificationGroupRemoved(let user, _), .notificationsSeen(let user, _), .notificationRead(let user, _, _): return [user]
        default: return []
        }
    }

    /// The store ids this change names.
    var users: [Int64] {
        switch self {
        case .post(_, let author, _, _, _, let linkAuthor): return linkAuthor >= 0 ? [author, linkAuthor] : [author]
        case .delete(_, let author): return [author]
        case .follow(let a, let b, _), .hideReposts(let a, let b, _), .mute(let a, let b, _), .block(let a, let b, _): return [a, b]
        case .like(let user, _, _), .groupRemoved(let user, _), .mark(let user, _, _): return [user]
        case .notified(let user, _, let actor, _, _): return [user, actor]
        }
    }

    // MARK: Encoding: a tag byte, then fixed-width integers and length-prefixed UTF-8.

    static func encode(_ changes: [ClusterChange]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for change in changes {
            switch change {
            case .post(let id, let author, let body, let kind, let link, let linkAuthor):
                buffer.writeInteger(UInt8(1))
                buffer.writeInteger(id)
                buffer.writeInteger(author)
                buffer.writeInteger(kind.rawValue)
                buffer.writeInteger(link)
                buffer.writeInteger(linkAuthor)
                buffer.writeInteger(UInt32(body.utf8.count))
                buffer.writeString(body)
            case .delete(let id, let author):
                buffer.writeInteger(UInt8(2))
                buffer.writeInteger(id)
                buffer.writeInteger(author)
            case .follow(let a, let b, let on): Self.pair(3, a, b, on, into: &buffer)
            case .hideReposts(let a, let b, let hidden): Self.pair(4, a, b, hidden, into: &buffer)
            case .like(let user, let post, let on):
                buffer.writeInteger(UInt8(on ? 5 : 6))
                buffer.writeInteger(user)
                buffer.writeInteger(post)
            case .mute(let a, let b, let on): Self.pair(7, a, b, on, into: &buffer)
            case .block(let a, let b, let on): Self.pair(8, a, b, on, into: &buffer)
            case .notified(let user, let group, let actor, let source, let added):
                buffer.writeInteger(UInt8(added ? 9 : 10))
                buffer.writeInteger(user)
                Self.write(group, into: &buffer)
                buffer.writeInteger(actor)
                buffer.writeInteger(source.id)
                buffer.writeInteger(source.at)
                buffer.writeInteger(source.order)
            case .groupRemoved(let user, let group):
                buffer.writeInteger(UInt8(11))
                buffer.writeInteger(user)
                Self.write(group, into: &buffer)
            case .mark(let user, nil, let order):
                buffer.writeInteger(UInt8(12))
                buffer.writeInteger(user)
                buffer.writeInteger(order)
            case .mark(let user, let group?, let order):
                buffer.writeInteger(UInt8(13))
                buffer.writeInteger(user)
                Self.write(group, into: &buffer)
                buffer.writeInteger(order)
            }
        }
        return buffer
    }

    private static func pair(_ tag: UInt8, _ a: Int64, _ b: Int64, _ flag: Bool, into buffer: inout ByteBuffer) {
        buffer.writeInteger(tag)
        buffer.writeInteger(a)
        buffer.writeInteger(b)
        buffer.writeInteger(UInt8(flag ? 1 : 0))
    }

    private static func write(_ group: NotificationKey, into buffer: inout ByteBuffer) {
        buffer.writeInteger(group.verb.rawValue)
        buffer.writeInteger(group.object)
        buffer.writeInteger(group.day)
    }

    struct Malformed: Error, CustomStringConvertible {
        let at: Int
        var description: String { "malformed change feed entry at byte \(self.at)" }
    }

    static func decode(_ bytes: ByteBuffer) throws -> [ClusterChange] {
        var buffer = bytes
        var changes: [ClusterChange] = []
        func integer<T: FixedWidthInteger>(_: T.Type = T.self) throws -> T {
            guard let value = buffer.readInteger(as: T.self) else { throw Malformed(at: buffer.readerIndex) }
            return value
        }
        func pair() throws -> (Int64, Int64, Bool) { (try integer(), try integer(), try integer(UInt8.self) != 0) }
        func group() throws -> NotificationKey {
            guard let verb = NotificationVerb(rawValue: try integer()) else { throw Malformed(at: buffer.readerIndex) }
            return NotificationKey(verb: verb, object: try integer(), day: try integer())
        }
        while buffer.readableBytes > 0 {
            let tag: UInt8 = try integer()
            switch tag {
            case 1:
                let (id, author): (UInt64, Int64) = (try integer(), try integer())
                guard let kind = PostKind(rawValue: try integer()) else { throw Malformed(at: buffer.readerIndex) }
                let (link, linkAuthor): (UInt64, Int64) = (try integer(), try integer())
                let length = Int(try integer(UInt32.self))
                guard let body = buffer.readString(length: length) else { throw Malformed(at: buffer.readerIndex) }
                changes.append(.post(id: id, author: author, body: body, kind: kind, link: link, linkAuthor: linkAuthor))
            case 2: changes.append(.delete(id: try integer(), author: try integer()))
            case 3:
                let (a, b, on) = try pair()
                changes.append(.follow(follower: a, followee: b, on: on))
            case 4:
                let (a, b, hidden) = try pair()
                changes.append(.hideReposts(follower: a, followee: b, hidden: hidden))
            case 5, 6: changes.append(.like(user: try integer(), post: try integer(), on: tag == 5))
            case 7:
                let (a, b, on) = try pair()
                changes.append(.mute(user: a, target: b, on: on))
            case 8:
                let (a, b, on) = try pair()
                changes.append(.block(user: a, target: b, on: on))
            case 9, 10:
                let (user, key, actor): (Int64, NotificationKey, Int64) = (try integer(), try group(), try integer())
                let source = NotificationSource(id: try integer(), at: try integer(), order: try integer())
                changes.append(.notified(user: user, group: key, actor: actor, source: source, added: tag == 9))
            case 11: changes.append(.groupRemoved(user: try integer(), group: try group()))
            case 12: changes.append(.mark(user: try integer(), group: nil, order: try integer()))
            case 13: changes.append(.mark(user: try integer(), group: try group(), order: try integer()))
            default: throw Malformed(at: buffer.readerIndex - 1)
            }
        }
        return changes
    }
}
