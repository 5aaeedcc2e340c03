extension FeedEngine {
    /// FEED.LIKE: the post's like count afterwards. Liking twice counts once.
    public mutating func like(user name: String, post id: UInt64, now: Int64) throws(FeedError) -> Int {
        try self.validate(user: name)
        guard self.posts[id] != nil else { throw .noSuchPost }
        let user = self.intern(name, now: now)
        if self.likers[id, default: []].insert(user).inserted {
            self.posts[id]!.likes += 1
            self.record(.liked(user: user, post: id))
        }
        return Int(self.posts[id]!.likes)
    }

    /// FEED.UNLIKE: the post's like count afterwards.
    public mutating func unlike(user name: String, post id: UInt64) throws(FeedError) -> Int {
        try self.validate(user: name)
        guard let record = self.posts[id] else { throw .noSuchPost }
        guard let user = self.numbers[name], self.likers[id]?.remove(user) != nil else { return Int(record.likes) }
        if self.likers[id]!.isEmpty { self.likers.removeValue(forKey: id) }
        self.posts[id]!.likes -= 1
        self.record(.unliked(user: user, post: id))
        return Int(self.posts[id]!.likes)
    }

    /// The post's like count, nil when there is no such post.
    public func likes(of id: UInt64) -> Int? {
        self.posts[id].map { Int($0.likes) }
    }
}
