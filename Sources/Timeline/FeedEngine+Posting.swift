extension FeedEngine {
    /// FEED.POST: stores the post, adds it to the author's recent posts and own
    /// timeline, and pushes it to the followers' timelines unless the author is
    /// a celebrity, whose posts readers pull instead. Returns the new id.
    public mutating func post(author name: String, body: String, now: Int64) throws(FeedError) -> UInt64 {
        try self.validate(user: name)
        try self.validate(body: body)
        let author = self.intern(name, now: now)
        let id = self.ids.next(now: now)
        let celebrity = self.isCelebrity(author)

        let stored = self.bodies.insert(id, body: body)
        for evicted in stored.evicted { self.posts[evicted.id]?.bodySlot = -1 }
        self.posts[id] = PostRecord(author: author, likes: 0, bodySlot: stored.slot, pushed: !celebrity)
        self.postCounts[Int(author)] += 1
        self.counters.posts += 1
        self.record(.postCreated(post: id, author: author, body: body))

        self.addToRecentPosts(id, author: author, pushed: !celebrity)
        if celebrity {
            self.counters.fanoutsSkippedForCelebrity += 1
        } else {
            self.fanOut(id, author: author, now: now)
        }
        // An author's own posts are in the author's feed, celebrity or not.
        self.timelines[Int(author)]?.insert(id, cap: self.configuration.timelineCap)
        return id
    }

    /// Pushes `id` into every active follower's resident timeline. An inactive
    /// follower's timeline is dropped instead: it would miss this post, so it
    /// is rebuilt, complete, on their next read.
    mutating func fanOut(_ id: UInt64, author: UInt32, now: Int64) {
        let cap = self.configuration.timelineCap
        let inactiveAfter = self.configuration.inactiveAfterMilliseconds
        for follower in self.followers[Int(author)].sorted {
            let index = Int(follower)
            if now - self.lastActive[index] > inactiveAfter {
                self.counters.inactiveFollowersSkipped += 1
                if self.timelines[index] != nil {
                    self.timelines[index] = nil
                    self.counters.timelinesDropped += 1
                }
                continue
            }
            // Optional chaining mutates in place: no copy of the timeline's reference.
            if self.timelines[index]?.insert(id, cap: cap) != nil {
                self.counters.fanoutDeliveries += 1
            }
        }
    }

    mutating func addToRecentPosts(_ id: UInt64, author: UInt32, pushed: Bool) {
        let insertion = self.recentPosts[Int(author)].insert(id, cap: self.configuration.recentPostsCap)
        if !pushed && insertion.inserted { self.changeUnpushed(author, by: 1) }
        if let evicted = insertion.evicted, let record = self.posts[evicted], !record.pushed {
            self.changeUnpushed(author, by: -1)
        }
    }

    mutating func changeUnpushed(_ author: UInt32, by delta: Int32) {
        self.unpushedRecent[Int(author)] += delta
        if self.unpushedRecent[Int(author)] > 0 {
            self.pulledAuthors.insert(author)
        } else {
            self.pulledAuthors.remove(author)
        }
    }

    /// FEED.DELETE: removes the author's post from every feed and from FEED.GET.
    /// False when the post does not exist or is not `author`'s.
    public mutating func delete(author name: String, post id: UInt64) -> Bool {
        guard let author = self.numbers[name], let record = self.posts[id], record.author == author else {
            return false
        }
        self.posts.removeValue(forKey: id)
        self.likers.removeValue(forKey: id)
        if record.bodySlot >= 0 { self.bodies.remove(record.bodySlot) }
        self.postCounts[Int(author)] -= 1
        if self.recentPosts[Int(author)].remove(id) && !record.pushed {
            self.changeUnpushed(author, by: -1)
        }
        // Every timeline that can hold the post: the followers' and the author's own.
        for follower in self.followers[Int(author)].sorted {
            self.timelines[Int(follower)]?.remove(id)
        }
        self.timelines[Int(author)]?.remove(id)
        self.record(.postDeleted(post: id, author: author))
        return true
    }
}
