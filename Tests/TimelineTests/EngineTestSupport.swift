@testable import Timeline

/// An engine with a hand-driven clock, for step-by-step tests. A class, so
/// its operations can be called inside `#expect`.
final class TestFeed {
    var engine: FeedEngine
    var now: Int64 = 1_795_000_000_000

    init(_ configure: (inout FeedConfiguration) -> Void = { _ in }) {
        var configuration = FeedConfiguration()
        configure(&configuration)
        self.engine = FeedEngine(configuration: configuration)
    }

    func tick(_ milliseconds: Int64 = 1) { self.now += milliseconds }

    @discardableResult
    func post(_ author: String, _ body: String = "hello") -> UInt64 {
        self.tick()
        return try! self.engine.post(author: author, body: body, now: self.now)
    }

    @discardableResult
    func follow(_ follower: String, _ followee: String) -> Bool {
        self.tick()
        return try! self.engine.follow(follower: follower, followee: followee, now: self.now)
    }

    @discardableResult
    func unfollow(_ follower: String, _ followee: String) -> Bool {
        try! self.engine.unfollow(follower: follower, followee: followee)
    }

    /// The ids of a read, newest first.
    func feed(_ user: String, count: Int = 500, before: UInt64? = nil) -> [UInt64] {
        self.tick()
        return self.engine.read(user: user, count: count, before: before, now: self.now).map(\.id)
    }

    /// Every id of the user's feed, by paging with BEFORE.
    func pagedFeed(_ user: String, pageSize: Int) -> [UInt64] {
        var all: [UInt64] = []
        var before: UInt64? = nil
        while true {
            let page = self.feed(user, count: pageSize, before: before)
            all += page
            guard page.count == pageSize, let last = page.last else { return all }
            before = last
        }
    }
}

extension TestFeed {
    func delete(_ author: String, _ id: UInt64) -> Bool { try! self.engine.delete(author: author, post: id, now: self.now) }
    func stats(_ user: String) -> UserStats { try! self.engine.stats(of: user) }
    func like(_ user: String, _ id: UInt64) throws -> Int { try self.engine.like(user: user, post: id, now: self.now) }
    func unlike(_ user: String, _ id: UInt64) throws -> Int { try self.engine.unlike(user: user, post: id) }
    func get(_ ids: [UInt64]) -> [FeedEntry?] { self.engine.get(ids) }
    func posts(_ author: String, count: Int = 500) -> [FeedEntry] { self.engine.posts(author: author, count: count) }
    func read(_ user: String, count: Int = 500) -> [FeedEntry] {
        self.engine.read(user: user, count: count, now: self.now)
    }
}
