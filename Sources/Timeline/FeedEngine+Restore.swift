/// Filling memory from the store: at start-up (users, follows, the newest
/// posts), and whenever a command needs what only the store has. None of
/// these record mutations: the store already has what they add.
extension FeedEngine {
    /// Start-up: the store's history ends at `baseline`. Ids continue above
    /// it, and users restored from here on have their older posts in the
    /// store only, until `installRecent` brings them in.
    public mutating func beginRestore(_ baseline: StoreBaseline) {
        self.restoredBelow = baseline.maxPostID &+ 1
        self.ids.advance(past: baseline.maxPostID)
        self.durablePostID = Swift.max(self.durablePostID, baseline.maxPostID)
    }

    /// A user the store has. Returns their number (this process's own).
    @discardableResult
    public mutating func restoreUser(name: String, now: Int64) -> UInt32 {
        if let number = self.numbers[name] { return number }
        var state = UserState()
        state.recentFloor = self.restoredBelow
        state.postCountBase = self.restoredBelow > 0 ? -1 : 0
        return self.appendUser(name: name, now: now, state: state)
    }

    /// A user a store answer names. One memory does not know yet (another
    /// process created them) is restored, and journaled like a new user, so
    /// that the writer learns their store id before anything names them.
    mutating func userFromStore(_ name: String, now: Int64) -> UInt32 {
        if let number = self.numbers[name] { return number }
        let number = self.restoreUser(name: name, now: now)
        self.record(.userCreated(user: number, name: name))
        return number
    }

    /// Recreates a follow between two restored users.
    public mutating func restoreFollow(follower: UInt32, followee: UInt32) {
        guard Int(follower) < self.names.count, Int(followee) < self.names.count, follower != followee else { return }
        _ = self.addFollow(follower: follower, followee: followee)
    }

    /// Recreates the whole follow graph at once (start-up, before anything
    /// else follows): `following[user]` lists whom each user follows. Each
    /// set is built once from a sorted array rather than edge by edge.
    public mutating func restoreFollowGraph(following lists: [[UInt32]]) {
        var followers = [[UInt32]](repeating: [], count: self.names.count)
        for (follower, followees) in lists.enumerated() where follower < self.names.count {
            var unique = followees.filter { Int($0) < self.names.count && $0 != UInt32(follower) }
            unique.sort()
            var previous: UInt32? = nil
            unique.removeAll { member in
                defer { previous = member }
                return member == previous
            }
            for followee in unique { followers[Int(followee)].append(UInt32(follower)) }
            self.following[follower] = FollowSet(sorted: unique)
            self.followCount += unique.count
        }
        var bytes = 0
        for user in followers.indices {
            // Followers arrive in follower order: already sorted.
            self.followers[user] = FollowSet(sorted: followers[user])
            if !self.configuration.celebrityAuto && followers[user].count >= self.configuration.celebrityThreshold { self.celebrityCount += 1 }
            bytes += self.followers[user].estimatedBytes + self.following[user].estimatedBytes
        }
        self.usage.followGraphBytes = bytes
    }

    /// Adds an author's posts from the store: `posts` are every live post
    /// of theirs with an id in `from..<below`, newest first. Their recent
    /// list then reaches down to `from` (if it still reached `below`: when
    /// eviction trimmed it meanwhile, nothing changes). Returns whether it did.
    @discardableResult
    public mutating func installRecent(
        author name: String, posts: [StoredPost], from: UInt64, below: UInt64, now: Int64
    ) -> Bool {
        guard let author = self.numbers[name] else { return false }
        return self.installRecent(author: author, posts: posts, from: from, below: below, now: now)
    }

    @discardableResult
    public mutating func installRecent(
        author: UInt32, posts: [StoredPost], from: UInt64, below: UInt64, now: Int64
    ) -> Bool {
        guard Int(author) < self.names.count else { return false }
        let floor = self.recentFloor(author)
        guard floor <= below, from < floor else { return false }
        // Those below the list's floor are new to it; the rest it has (or they were deleted).
        let incoming = posts.reversed().filter { $0.id >= from && $0.id < floor && !self.deleted.contains($0.id) }
        let countBefore = self.recentPosts[Int(author)].count
        if !incoming.isEmpty {
            self.recentPosts[Int(author)].merge(ascending: incoming.map(\.id), cap: self.configuration.recentPostsCap)
        }
        self.users[Int(author)].recentFloor = from
        let list = self.recentPosts[Int(author)]
        self.usage.recentEntries += list.count - countBefore
        for post in incoming where list.contains(post.id) {
            if self.posts[post.id] != nil {
                self.posts[post.id]!.outsideRecent = false
                continue
            }
            let slot = post.kind == .repost ? -1 : self.storeBody(post.id, post.body)
            var record = PostRecord(author: author, likes: UInt32(clamping: post.likes), bodySlot: slot, pushed: true, outsideRecent: false)
            self.link(&record, from: post, now: now)
            self.posts.insert(record, for: post.id)
            self.usage.records += 1
            self.indexLink(post.id, record)
        }
        return true
    }

    /// Lowers every recent list's floor to `from` where it is at most
    /// `below`: the store holds no live post of theirs in between (after
    /// installing the store's newest posts, `from` being the oldest of them).
    public mutating func lowerRecentFloors(to from: UInt64, whereAtMost below: UInt64) {
        for author in self.users.indices {
            let floor = self.recentFloor(UInt32(author))
            if floor <= below && from < floor { self.users[author].recentFloor = from }
        }
    }

    /// Drops the timelines whose floor is above `floor` (built before the
    /// recent lists reached down that far): their next read rebuilds them deeper.
    public mutating func dropTimelines(floorAbove floor: UInt64) {
        for user in self.timelines.indices where self.timelines[user] != nil && self.timelineFloor(UInt32(user)) > floor {
            self.dropTimelineInternal(UInt32(user))
        }
    }

    /// Adds the record of a post memory does not hold, from the store, for
    /// the command that needed it. False if memory holds it or it was deleted.
    @discardableResult
    public mutating func installPost(_ post: StoredPost, now: Int64) -> Bool {
        guard self.posts[post.id] == nil, !self.deleted.contains(post.id) else { return false }
        let author = self.userFromStore(post.author, now: now)
        var record = PostRecord(author: author, likes: UInt32(clamping: post.likes), bodySlot: -1, pushed: true, outsideRecent: true)
        self.link(&record, from: post, now: now)
        self.posts.insert(record, for: post.id)
        self.usage.records += 1
        self.indexLink(post.id, record)
        self.outsideRecent.append(post.id)
        self.counters.storeFaults += 1
        return true
    }

    /// A record's links and counts, from the store's row.
    private mutating func link(_ record: inout PostRecord, from post: StoredPost, now: Int64) {
        record.replies = UInt32(clamping: post.replies)
        record.reposts = UInt32(clamping: post.reposts)
        if let counts = self.leftCounts[post.id] {
            // Counts memory changed lately: the store's row may predate them.
            (record.likes, record.replies, record.reposts) = counts
        }
        guard post.kind != .post, let linkAuthor = post.linkAuthor else { return }
        record.kind = post.kind
        record.link = post.link
        record.linkAuthor = self.userFromStore(linkAuthor, now: now)
    }

    /// Adds who liked a post, from the store, if memory does not know yet.
    /// The count becomes theirs.
    public mutating func installLikers(post id: UInt64, likers: [String], now: Int64) {
        guard self.posts[id] != nil, self.likers[id] == nil else { return }
        var users = Set<UInt32>()
        users.reserveCapacity(likers.count)
        for name in likers { users.insert(self.userFromStore(name, now: now)) }
        self.likers[id] = LikeState(users: users, sequence: 0)
        self.posts[id]!.likes = UInt32(clamping: users.count)
        self.usage.likeSets += 1
        self.usage.likers += users.count
    }

    /// Sets how many live posts the user had in the store when this process
    /// started (what `StoreBaseline` says counts as before).
    public mutating func installPostCount(user name: String, count: Int) {
        guard let user = self.numbers[name], self.users[Int(user)].postCountBase < 0 else { return }
        self.users[Int(user)].postCountBase = Int32(clamping: count)
        self.counters.storeFaults += 1
    }

    /// Puts a body read back from the store into the cache, if the post is
    /// live and its body is not cached. Returns whether it was cached.
    @discardableResult
    public mutating func cacheBody(_ id: UInt64, body: String) -> Bool {
        guard let record = self.posts[id] else { return false }
        if record.kind == .repost { return self.cacheBody(record.link, body: body) }
        guard record.bodySlot < 0 else { return false }
        let slot = self.storeBody(id, body)
        self.posts[id]?.bodySlot = slot
        return true
    }

    /// The store ids of users are not the engine's: the names of users by
    /// number, for a store query.
    public func names(of users: [UInt32]) -> [String] {
        users.filter { Int($0) < self.names.count }.map { self.names[Int($0)] }
    }
}
