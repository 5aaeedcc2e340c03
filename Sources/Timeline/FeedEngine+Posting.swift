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

        let slot = self.storeBody(id, body)
        self.posts.insert(PostRecord(author: author, likes: 0, bodySlot: slot, pushed: !celebrity, outsideRecent: false), for: id)
        self.usage.records += 1
        self.users[Int(author)].postCountDelta += 1
        self.counters.posts += 1
        self.record(.postCreated(post: id, author: author, body: body))
        if self.hasStore { self.pendingPosts.append((self.sequence, id)) }

        self.addToRecentPosts(id, author: author, pushed: !celebrity)
        if celebrity {
            self.counters.fanoutsSkippedForCelebrity += 1
        } else {
            self.fanOut(id, author: author, now: now)
        }
        // An author's own posts are in the author's feed, celebrity or not.
        _ = self.insertIntoTimeline(author, id)
        return id
    }

    /// Pushes `id` into every active follower's resident timeline. An inactive
    /// follower's timeline is dropped instead: it would miss this post, so it
    /// is rebuilt, complete, on their next read.
    mutating func fanOut(_ id: UInt64, author: UInt32, now: Int64) {
        let cap = self.configuration.timelineCap
        let inactiveAfter = self.configuration.inactiveAfterMilliseconds
        var delivered = 0
        var added = 0
        for follower in self.followers[Int(author)].sorted {
            let index = Int(follower)
            if now - self.lastActive[index] > inactiveAfter {
                self.counters.inactiveFollowersSkipped += 1
                if self.timelines[index] != nil {
                    self.releaseTimeline(follower)
                    self.counters.timelinesDropped += 1
                }
                continue
            }
            // Optional chaining mutates in place: no copy of the timeline's reference.
            if let insertion = self.timelines[index]?.insert(id, cap: cap), insertion.inserted {
                delivered += 1
                if insertion.evicted == nil { added += 1 }
            }
        }
        self.counters.fanoutDeliveries += delivered
        self.usage.timelineEntries += added
    }

    /// FEED.DELETE: removes the author's post from every feed and from FEED.GET.
    /// False when the post does not exist or is not `author`'s. Throws
    /// `notInMemory` when only the store can say.
    public mutating func delete(author name: String, post id: UInt64, now: Int64) throws(FeedError) -> Bool {
        guard let record = self.posts[id] else {
            if self.hasStore && !self.deleted.contains(id) && self.numbers[name] != nil { throw .notInMemory(.post(id)) }
            return false
        }
        guard let author = self.numbers[name], record.author == author else { return false }
        self.removePost(id, record)
        self.record(.postDeleted(post: id, author: author))
        if self.hasStore {
            self.deleted.insert(id)
            self.deletedQueue.append((id, self.sequence, now))
        }
        return true
    }

    /// Takes a live post out of memory: its record, likers, body, recent
    /// list and every timeline that can hold it.
    mutating func removePost(_ id: UInt64, _ record: PostRecord) {
        let author = record.author
        self.posts.removeValue(forKey: id)
        self.usage.records -= 1
        self.dropLikers(id)
        if record.bodySlot >= 0 { self.bodies.remove(record.bodySlot) }
        self.users[Int(author)].postCountDelta -= 1
        if !record.outsideRecent, self.recentPosts[Int(author)].remove(id) {
            self.usage.recentEntries -= 1
            if !record.pushed { self.changeUnpushed(author, by: -1) }
        }
        // Every timeline that can hold the post: the followers' and the author's own.
        for follower in self.followers[Int(author)].sorted where self.timelines[Int(follower)] != nil {
            self.removeFromTimeline(follower, id)
        }
        self.removeFromTimeline(author, id)
    }
}
