/// Changing timelines, recent lists and post records, keeping the memory
/// totals and the floors right. Everything that adds or drops one goes
/// through here.
extension FeedEngine {
    // MARK: Timelines

    /// Installs a timeline holding `ascending` with `floor`.
    mutating func setTimeline(_ user: UInt32, _ timeline: CappedPostList, floor: UInt64) {
        self.releaseTimeline(user)
        self.timelines[Int(user)] = timeline
        self.users[Int(user)].timelineFloor = floor
        self.usage.residentTimelines += 1
        self.usage.timelineEntries += timeline.count
    }

    /// Frees a timeline (the caller counts why).
    mutating func releaseTimeline(_ user: UInt32) {
        guard let timeline = self.timelines[Int(user)] else { return }
        self.usage.residentTimelines -= 1
        self.usage.timelineEntries -= timeline.count
        self.timelines[Int(user)] = nil
    }

    /// Inserts `id` into a resident timeline; true when it was inserted.
    @inline(__always)
    mutating func insertIntoTimeline(_ user: UInt32, _ id: UInt64) -> Bool {
        guard let insertion = self.timelines[Int(user)]?.push(id, cap: self.configuration.timelineCap) else { return false }
        if insertion.inserted && !insertion.dropped { self.usage.timelineEntries += 1 }
        return insertion.inserted
    }

    /// Removes `id` from a resident timeline. A full timeline says nothing
    /// below its oldest post; once it is no longer full, its floor says so.
    mutating func removeFromTimeline(_ user: UInt32, _ id: UInt64) {
        guard let timeline = self.timelines[Int(user)], timeline.contains(id) else { return }
        self.users[Int(user)].timelineFloor = self.timelineFloor(user)
        self.timelines[Int(user)]!.remove(id)
        self.usage.timelineEntries -= 1
    }

    /// Raises a timeline's floor and drops what is below it.
    mutating func raiseTimelineFloor(_ user: UInt32, to floor: UInt64) {
        guard self.timelines[Int(user)] != nil else { return }
        let current = self.timelineFloor(user)
        guard floor > current else { return }
        self.users[Int(user)].timelineFloor = floor
        let removed = self.timelines[Int(user)]!.removeAll(below: floor)
        self.usage.timelineEntries -= removed
    }

    // MARK: Recent lists

    /// Adds a new post to its author's recent list. A post pushed out past
    /// the cap leaves memory unless it must stay (not yet durable).
    mutating func addToRecentPosts(_ id: UInt64, author: UInt32, pushed: Bool) {
        let insertion = self.recentPosts[Int(author)].insert(id, cap: self.configuration.recentPostsCap)
        if insertion.inserted && insertion.evicted == nil { self.usage.recentEntries += 1 }
        if !pushed && insertion.inserted { self.changeUnpushed(author, by: 1) }
        if let evicted = insertion.evicted {
            // A full list's floor is its oldest post: keep that when it is full no more.
            self.users[Int(author)].recentFloor = Swift.max(self.users[Int(author)].recentFloor, evicted &+ 1)
            if let record = self.posts[evicted], !record.pushed { self.changeUnpushed(author, by: -1) }
            self.leaveRecent(evicted)
        }
    }

    mutating func changeUnpushed(_ author: UInt32, by delta: Int32) {
        self.users[Int(author)].unpushedRecent += delta
        if self.users[Int(author)].unpushedRecent > 0 {
            self.pulledAuthors.insert(author)
        } else {
            self.pulledAuthors.remove(author)
        }
    }

    /// A post left its author's recent list: its record goes too, unless the
    /// store does not have everything about it yet (or there is no store).
    mutating func leaveRecent(_ id: UInt64) {
        guard self.posts[id] != nil else { return }
        if self.canEvictRecord(id) {
            self.evictRecord(id)
        } else {
            self.posts[id]!.outsideRecent = true
            self.outsideRecent.append(id)
        }
    }

    /// Whether the store can give back everything memory knows of the post.
    func canEvictRecord(_ id: UInt64) -> Bool {
        guard self.hasStore, self.isDurable(post: id) else { return false }
        if let state = self.likers[id], state.sequence > self.durableSequence { return false }
        if let changed = self.countChanges[id], changed > self.durableSequence { return false }
        return true
    }

    /// Drops a post's record, likers and body. The caller has checked
    /// `canEvictRecord` (or the post is gone).
    mutating func evictRecord(_ id: UInt64) {
        guard let record = self.posts.removeValue(forKey: id) else { return }
        self.usage.records -= 1
        if record.bodySlot >= 0 { self.bodies.remove(record.bodySlot) }
        self.dropLikers(id)
        self.unindexLink(id, record)
        if self.countChanges[id] != nil { self.leftCounts[id] = (record.likes, record.replies, record.reposts) }
        self.evictions.posts += 1
    }

    mutating func dropLikers(_ id: UInt64) {
        guard let state = self.likers.removeValue(forKey: id) else { return }
        self.usage.likeSets -= 1
        self.usage.likers -= state.users.count
    }

    /// Trims an author's recent list from its oldest post while the posts
    /// may leave memory, leaving at least `keep`, until about `bytes` are
    /// freed. Returns how many left.
    @discardableResult
    mutating func trimRecent(_ author: UInt32, keep: Int, bytes: Int = Int.max) -> Int {
        var trimmed = 0
        let start = self.estimatedBytes
        while self.recentPosts[Int(author)].count > keep, let oldest = self.recentPosts[Int(author)].oldest,
            start - self.estimatedBytes < bytes
        {
            // An unpushed post may go too, but then its author stays pulled
            // (its count is not taken back): followers' timelines never had
            // it, so readers must keep merging the list, whose floor now
            // sends them to the store below it.
            guard self.posts[oldest] != nil, self.canEvictRecord(oldest) else { break }
            self.recentPosts[Int(author)].removeOldest()
            self.usage.recentEntries -= 1
            self.users[Int(author)].recentFloor = Swift.max(self.users[Int(author)].recentFloor, oldest &+ 1)
            self.evictRecord(oldest)
            trimmed += 1
        }
        return trimmed
    }

    /// Stores a body in the cache, forgetting the slots of what it evicts.
    /// Bodies the store does not have yet are never evicted.
    mutating func storeBody(_ id: UInt64, _ body: String) -> PostBodyCache.Slot {
        let stored = self.bodies.insert(id, body: body, evictableThrough: self.bodyEvictionLimit)
        for evicted in stored.evicted { self.posts[evicted.id]?.bodySlot = -1 }
        return stored.slot
    }

    /// The newest post id whose body the cache may evict: with a store, the
    /// durable ones; without, any (an evicted body then reads as nil).
    var bodyEvictionLimit: UInt64 { self.hasStore ? self.durablePostID : UInt64.max }
}
