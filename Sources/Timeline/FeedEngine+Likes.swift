extension FeedEngine {
    /// FEED.LIKE: the post's like count afterwards. Liking twice counts once;
    /// liking a repost likes its original. Throws `notInMemory` when the
    /// post or its likers are only in the store.
    public mutating func like(user name: String, post given: UInt64, now: Int64) throws(FeedError) -> Int {
        try self.validate(user: name)
        let id = try self.liked(given)
        try self.requireLikers(of: id)
        let user = self.intern(name, now: now)
        if self.likers[id]?.users.contains(user) != true {
            self.record(.liked(user: user, post: id))
            self.changeLikers(of: id) { $0.insert(user) }
            self.posts[id]!.likes += 1
            self.noteInteraction(.like, by: user, with: self.posts[id]!.author, now: now)
            self.notify(self.posts[id]!.author, .like, object: id, by: user, source: 0, now: now)
        }
        return Int(self.posts[id]!.likes)
    }

    /// FEED.UNLIKE: the post's like count afterwards.
    public mutating func unlike(user name: String, post given: UInt64) throws(FeedError) -> Int {
        try self.validate(user: name)
        let id = try self.liked(given)
        try self.requireLikers(of: id)
        guard let user = self.numbers[name], self.likers[id]?.users.contains(user) == true else {
            return Int(self.posts[id]!.likes)
        }
        self.record(.unliked(user: user, post: id))
        self.changeLikers(of: id) { $0.remove(user) }
        self.posts[id]!.likes -= 1
        self.unnotify(self.posts[id]!.author, .like, object: id, by: user, source: 0)
        return Int(self.posts[id]!.likes)
    }

    /// The post a like of `id` is for: a repost's original, else itself.
    private func liked(_ id: UInt64) throws(FeedError) -> UInt64 {
        guard let record = self.posts[id] else {
            if self.hasStore && !self.deleted.contains(id) { throw .notInMemory(.likers(id)) }
            throw .noSuchPost
        }
        return record.kind == .repost ? record.link : id
    }

    /// Makes sure memory knows the post and who liked it.
    private func requireLikers(of id: UInt64) throws(FeedError) {
        guard let record = self.posts[id] else {
            if self.hasStore && !self.deleted.contains(id) { throw .notInMemory(.likers(id)) }
            throw .noSuchPost
        }
        // No likes: no likers to know. Likes without a set: the store has them.
        if record.likes > 0 && self.likers[id] == nil { throw .notInMemory(.likers(id)) }
    }

    /// Changes a post's like set; the set stays (even empty) until the store has the change.
    private mutating func changeLikers(of id: UInt64, _ change: (inout Set<UInt32>) -> Void) {
        if self.likers[id] == nil {
            self.likers[id] = LikeState(users: [], sequence: 0)
            self.usage.likeSets += 1
        }
        let before = self.likers[id]!.users.count
        change(&self.likers[id]!.users)
        self.likers[id]!.sequence = self.sequence
        self.noteCountChange(of: id)
        self.usage.likers += self.likers[id]!.users.count - before
    }

    /// The post's like count, nil when memory does not know the post.
    public func likes(of id: UInt64) -> Int? {
        self.posts[id].map { Int($0.likes) }
    }
}
