/// Rebuilding the engine from the store at start-up. None of these record
/// mutations: the state already is in the store.
extension FeedEngine {
    /// Recreates the user with dense number `number`. Numbers must come in
    /// ascending order; a gap (which the store should never have) is filled
    /// with placeholder users no name resolves to, so later numbers still
    /// match the store's.
    public mutating func restoreUser(number: UInt32, name: String, now: Int64) {
        precondition(Int(number) >= self.names.count, "users must be restored in ascending order")
        while self.names.count < Int(number) { self.appendUser(name: "", now: now) }
        self.numbers[name] = number
        self.appendUser(name: name, now: now)
    }

    private mutating func appendUser(name: String, now: Int64) {
        self.names.append(name)
        self.following.append(FollowSet())
        self.followers.append(FollowSet())
        self.timelines.append(nil)
        self.recentPosts.append(CappedPostList())
        self.unpushedRecent.append(0)
        self.lastActive.append(now)
        self.postCounts.append(0)
    }

    /// Recreates a follow between two restored users.
    public mutating func restoreFollow(follower: UInt32, followee: UInt32) {
        guard Int(follower) < self.names.count, Int(followee) < self.names.count, follower != followee,
            self.following[Int(follower)].insert(followee)
        else { return }
        self.followers[Int(followee)].insert(follower)
        self.followCount += 1
        if self.followers[Int(followee)].count == self.configuration.celebrityThreshold { self.celebrityCount += 1 }
    }

    /// Recreates a live post's record (every live post has one, so DELETE and
    /// LIKE work for any post); its body is added with `restoreRecentPost`.
    public mutating func restorePost(id: UInt64, author: UInt32) {
        guard Int(author) < self.names.count, self.posts[id] == nil else { return }
        self.posts[id] = PostRecord(author: author, likes: 0, bodySlot: -1, pushed: true)
        self.postCounts[Int(author)] += 1
        self.ids.advance(past: id)
    }

    /// Recreates an author's live posts at once: their records, and their
    /// recent list (a capped insert keeps the newest, whatever the order).
    public mutating func restorePosts(author: UInt32, ids: [UInt64]) {
        guard Int(author) < self.names.count else { return }
        let cap = self.configuration.recentPostsCap
        for id in ids where self.posts[id] == nil {
            self.posts[id] = PostRecord(author: author, likes: 0, bodySlot: -1, pushed: true)
            self.postCounts[Int(author)] += 1
            self.recentPosts[Int(author)].insert(id, cap: cap)
            self.ids.advance(past: id)
        }
    }

    /// Adds a restored post to its author's recent list, with its body cached.
    /// Timelines are rebuilt from these lists on first read, so restored posts
    /// count as pushed.
    public mutating func restoreRecentPost(id: UInt64, body: String) {
        guard let record = self.posts[id] else { return }
        self.recentPosts[Int(record.author)].insert(id, cap: self.configuration.recentPostsCap)
        self.cacheBody(id, body: body)
    }

    /// Recreates a like.
    public mutating func restoreLike(user: UInt32, post: UInt64) {
        guard Int(user) < self.names.count, self.posts[post] != nil else { return }
        if self.likers[post, default: []].insert(user).inserted { self.posts[post]!.likes += 1 }
    }

    /// Puts a body read back from the store into the cache, if the post is
    /// live and its body is not cached. Returns whether it was cached.
    @discardableResult
    public mutating func cacheBody(_ id: UInt64, body: String) -> Bool {
        guard let record = self.posts[id], record.bodySlot < 0 else { return false }
        let stored = self.bodies.insert(id, body: body)
        for evicted in stored.evicted { self.posts[evicted.id]?.bodySlot = -1 }
        self.posts[id]?.bodySlot = stored.slot
        return true
    }
}
