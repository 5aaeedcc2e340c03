extension FeedEngine {
    /// FEED.FOLLOW: true when new. The followee's recent posts (up to
    /// `backfillCount`) are copied into the follower's timeline; if the
    /// followee has older ones, the timeline's floor rises above them.
    /// `hidingReposts` (NOREPOSTS) sets whether the follow shows the
    /// followee's reposts, for a new follow and an existing one alike.
    public mutating func follow(
        follower followerName: String, followee followeeName: String, hidingReposts: Bool = false, now: Int64
    ) throws(FeedError) -> Bool {
        try self.validate(user: followerName)
        try self.validate(user: followeeName)
        guard followerName != followeeName else { throw .followSelf }
        if let a = self.numbers[followerName], let b = self.numbers[followeeName] {
            if self.blocks[b]?.contains(a) ?? false { throw .blockedByFollowee }
            if self.blocks[a]?.contains(b) ?? false { throw .followeeBlocked }
        }
        let follower = self.intern(followerName, now: now)
        let followee = self.intern(followeeName, now: now)
        guard self.addFollow(follower: follower, followee: followee) else {
            self.setRepostsHidden(follower: follower, followee: followee, hidden: hidingReposts)
            return false
        }
        if self.timelines[Int(follower)] != nil { self.backfill(follower, from: followee) }
        self.record(.followed(follower: follower, followee: followee))
        if hidingReposts { self.setRepostsHidden(follower: follower, followee: followee, hidden: true) }
        self.notify(followee, .follow, object: 0, by: follower, source: 0, now: now)
        return true
    }

    /// Adds the edge both ways, keeping the counts; false if it was there.
    mutating func addFollow(follower: UInt32, followee: UInt32) -> Bool {
        let before = self.following[Int(follower)].estimatedBytes + self.followers[Int(followee)].estimatedBytes
        guard self.following[Int(follower)].insert(followee) else { return false }
        self.followers[Int(followee)].insert(follower)
        self.usage.followGraphBytes +=
            self.following[Int(follower)].estimatedBytes + self.followers[Int(followee)].estimatedBytes - before
        self.followCount += 1
        if !self.configuration.celebrityAuto && self.followers[Int(followee)].count == self.configuration.celebrityThreshold {
            self.celebrityCount += 1
        }
        return true
    }

    /// Copies the followee's newest posts into a resident timeline.
    mutating func backfill(_ follower: UInt32, from followee: UInt32) {
        let list = self.recentPosts[Int(followee)]
        let listFloor = self.recentFloor(followee)
        let copied = list.ascending.suffix(self.configuration.backfillCount)
        let before = self.timelines[Int(follower)]!.count
        let wasFull = before >= self.configuration.timelineCap
        let floorBefore = self.timelineFloor(follower)
        self.timelines[Int(follower)]!.merge(ascending: Array(copied), cap: self.configuration.timelineCap)
        let after = self.timelines[Int(follower)]!
        self.usage.timelineEntries += after.count - before
        // Complete above: what it was, where the merge cut, and where the followee's copied posts end.
        var floor = floorBefore
        if wasFull || after.count >= self.configuration.timelineCap, let oldest = after.oldest { floor = Swift.max(floor, oldest) }
        if copied.count < list.count, let first = copied.first {
            floor = Swift.max(floor, first)
        } else {
            floor = Swift.max(floor, listFloor)
        }
        self.users[Int(follower)].timelineFloor = floorBefore
        self.raiseTimelineFloor(follower, to: floor)
    }

    /// FEED.UNFOLLOW: true when the follow existed. The followee's posts leave
    /// the follower's timeline at once, so no read shows them afterwards.
    public mutating func unfollow(follower followerName: String, followee followeeName: String) throws(FeedError) -> Bool {
        try self.validate(user: followerName)
        try self.validate(user: followeeName)
        guard followerName != followeeName else { throw .followSelf }
        guard let follower = self.numbers[followerName], let followee = self.numbers[followeeName],
            self.following[Int(follower)].contains(followee)
        else { return false }
        let before = self.following[Int(follower)].estimatedBytes + self.followers[Int(followee)].estimatedBytes
        if !self.configuration.celebrityAuto && self.followers[Int(followee)].count == self.configuration.celebrityThreshold {
            self.celebrityCount -= 1
        }
        self.following[Int(follower)].remove(followee)
        self.followers[Int(followee)].remove(follower)
        self.usage.followGraphBytes +=
            self.following[Int(follower)].estimatedBytes + self.followers[Int(followee)].estimatedBytes - before
        self.followCount -= 1
        if let timeline = self.timelines[Int(follower)] {
            // A post memory no longer describes may be the followee's: then
            // the timeline cannot be kept exact, and is rebuilt on the next read.
            let posts = self.posts
            if timeline.ascending.contains(where: { posts[$0] == nil }) {
                self.dropTimelineInternal(follower)
            } else {
                self.users[Int(follower)].timelineFloor = self.timelineFloor(follower)
                let removed = self.timelines[Int(follower)]!.removeAll { posts[$0]?.author == followee }
                self.usage.timelineEntries -= removed
            }
        }
        self.record(.unfollowed(follower: follower, followee: followee))
        self.setRepostsHidden(follower: follower, followee: followee, hidden: false)
        self.unnotify(followee, .follow, object: 0, by: follower, source: 0)
        return true
    }

    /// FEED.FOLLOWERS: up to `count` user ids following `user`, after the user
    /// `after` in the server's user order (the order users first appeared), so
    /// paging is stable while the list changes.
    public func followers(of user: String, count: Int, after: String? = nil) throws(FeedError) -> [String] {
        try self.page(of: user, count: count, after: after) { self.followers[Int($0)] }
    }

    /// FEED.FOLLOWING: as `followers(of:)`, for the users `user` follows.
    public func following(of user: String, count: Int, after: String? = nil) throws(FeedError) -> [String] {
        try self.page(of: user, count: count, after: after) { self.following[Int($0)] }
    }

    /// A page of one of the user's sets (followers, following, mutes, blocks).
    func page(of user: String, count: Int, after: String?, set: (UInt32) -> FollowSet?) throws(FeedError) -> [String] {
        var start: UInt32? = nil
        if let after {
            guard let number = self.numbers[after] else { throw .unknownUser(after) }
            start = number
        }
        guard let number = self.numbers[user], let members = set(number) else { return [] }
        return members.page(after: start, count: count).map { self.names[Int($0)] }
    }

    /// Whether `follower` follows `followee`.
    public func isFollowing(_ follower: String, _ followee: String) -> Bool {
        guard let a = self.numbers[follower], let b = self.numbers[followee] else { return false }
        return self.following[Int(a)].contains(b)
    }
}

extension FeedEngine {
    /// Whose feed a post by `author` lands in, among `listeners` (users with
    /// a live listener): the author and every follower among them. Costs
    /// the smaller of the two sets (a celebrity's post with ten listening
    /// followers costs ten lookups, not a walk of its followers).
    public func feedRecipients(of author: String, among listeners: Set<String>) -> [String] {
        guard let number = self.numbers[author] else { return [] }
        let followers = self.followers[Int(number)]
        var recipients: [String] = []
        if listeners.count <= followers.count {
            for name in listeners where name == author || self.numbers[name].map({ followers.contains($0) }) == true {
                recipients.append(name)
            }
            return recipients
        }
        for follower in followers.sorted where listeners.contains(self.names[Int(follower)]) {
            recipients.append(self.names[Int(follower)])
        }
        if listeners.contains(author) { recipients.append(author) }
        return recipients
    }

    /// Those of `readers` whose filters pass the post (a reply, a repost, a
    /// muted author's post are left out where a read would leave them out).
    public func readers(_ readers: [String], thatSee id: UInt64) -> [String] {
        guard let record = self.posts[id] else { return readers }
        return readers.filter { name in
            guard let reader = self.numbers[name] else { return false }
            return self.readerFilter(reader).passes(author: record.author, kind: record.kind, linkAuthor: record.linkAuthor)
        }
    }

    /// Every user whose feed a post by `author` lands in: the author and all
    /// followers (when a pattern subscription may listen to any feed).
    public func allFeedRecipients(of author: String) -> [String] {
        guard let number = self.numbers[author] else { return [] }
        return [author] + self.followers[Int(number)].sorted.map { self.names[Int($0)] }
    }
}
