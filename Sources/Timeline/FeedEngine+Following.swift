extension FeedEngine {
    /// FEED.FOLLOW: true when new. The followee's recent posts (up to
    /// `backfillCount`) are copied into the follower's timeline.
    public mutating func follow(follower followerName: String, followee followeeName: String, now: Int64) throws(FeedError)
        -> Bool
    {
        try self.validate(user: followerName)
        try self.validate(user: followeeName)
        guard followerName != followeeName else { throw .followSelf }
        let follower = self.intern(followerName, now: now)
        let followee = self.intern(followeeName, now: now)
        guard self.following[Int(follower)].insert(followee) else { return false }
        self.followers[Int(followee)].insert(follower)
        self.followCount += 1
        if self.followers[Int(followee)].count == self.configuration.celebrityThreshold { self.celebrityCount += 1 }
        if self.timelines[Int(follower)] != nil {
            let recent = self.recentPosts[Int(followee)].ascending.suffix(self.configuration.backfillCount)
            self.timelines[Int(follower)]!.merge(ascending: Array(recent), cap: self.configuration.timelineCap)
        }
        self.record(.followed(follower: follower, followee: followee))
        return true
    }

    /// FEED.UNFOLLOW: true when the follow existed. The followee's posts leave
    /// the follower's timeline at once, so no read shows them afterwards.
    public mutating func unfollow(follower followerName: String, followee followeeName: String) throws(FeedError) -> Bool {
        try self.validate(user: followerName)
        try self.validate(user: followeeName)
        guard followerName != followeeName else { throw .followSelf }
        guard let follower = self.numbers[followerName], let followee = self.numbers[followeeName],
            self.following[Int(follower)].remove(followee)
        else { return false }
        if self.followers[Int(followee)].count == self.configuration.celebrityThreshold { self.celebrityCount -= 1 }
        self.followers[Int(followee)].remove(follower)
        self.followCount -= 1
        if self.timelines[Int(follower)] != nil {
            let posts = self.posts
            self.timelines[Int(follower)]!.removeAll { posts[$0]?.author == followee }
        }
        self.record(.unfollowed(follower: follower, followee: followee))
        return true
    }

    /// FEED.FOLLOWERS: up to `count` user ids following `user`, after the user
    /// `after` in the server's user order (the order users first appeared), so
    /// paging is stable while the list changes.
    public func followers(of user: String, count: Int, after: String? = nil) throws(FeedError) -> [String] {
        try self.page(of: user, in: self.followers, count: count, after: after)
    }

    /// FEED.FOLLOWING: as `followers(of:)`, for the users `user` follows.
    public func following(of user: String, count: Int, after: String? = nil) throws(FeedError) -> [String] {
        try self.page(of: user, in: self.following, count: count, after: after)
    }

    private func page(of user: String, in sets: [FollowSet], count: Int, after: String?) throws(FeedError) -> [String] {
        var start: UInt32? = nil
        if let after {
            guard let number = self.numbers[after] else { throw .unknownUser(after) }
            start = number
        }
        guard let number = self.numbers[user] else { return [] }
        return sets[Int(number)].page(after: start, count: count).map { self.names[Int($0)] }
    }

    /// Whether `follower` follows `followee`.
    public func isFollowing(_ follower: String, _ followee: String) -> Bool {
        guard let a = self.numbers[follower], let b = self.numbers[followee] else { return false }
        return self.following[Int(a)].contains(b)
    }
}
