import DequeModule

/// Making room (`--maxmemory`): letting go of what the store can give back.
///
/// In order: records outside the recent lists; then, by a CLOCK over users,
/// the recent lists nobody read since the hand last passed (trimmed from
/// their oldest post, raising their floor) and the timelines nobody read
/// (dropped, rebuilt on their next read); then bodies; then like sets. A
/// second round takes the lists and timelines read once since. Nothing the
/// store does not have yet goes (a post, a like or a delete not yet
/// durable), so without a store nothing goes at all and the server refuses
/// writes instead.
extension FeedEngine {
    /// Evicts about `bytes` (by the engine's estimate); returns what it freed.
    @discardableResult
    public mutating func evict(bytes target: Int, now: Int64) -> Int {
        guard self.hasStore, target > 0 else { return 0 }
        let start = self.estimatedBytes
        func freed(_ engine: FeedEngine) -> Int { start - engine.estimatedBytes }
        self.forgetDeletes(now: now)
        self.evictOutsideRecent()
        for _ in 0..<2 where freed(self) < target {
            self.sweepRecent(until: target - freed(self))
            if freed(self) >= target { break }
            self.sweepTimelines(until: target - freed(self))
            if freed(self) >= target { break }
            self.evictBodies(bytes: target - freed(self))
            if freed(self) >= target { break }
            self.evictLikeSets(until: target - freed(self))
        }
        if freed(self) < target { self.evictions.exhausted += 1 }
        return freed(self)
    }

    /// Drops the durable records at the front of the outside-recent queue
    /// (also called as writes become durable, so the queue stays short).
    mutating func evictOutsideRecent() {
        while let id = self.outsideRecent.first {
            guard let record = self.posts[id], record.outsideRecent else {
                self.outsideRecent.removeFirst()  // deleted, or back in its list
                continue
            }
            guard self.canEvictRecord(id) else { return }
            self.outsideRecent.removeFirst()
            self.evictRecord(id)
        }
    }

    /// Trims recent lists not read since the hand last passed.
    private mutating func sweepRecent(until target: Int) {
        let start = self.estimatedBytes
        var steps = self.users.count
        while steps > 0 && start - self.estimatedBytes < target {
            steps -= 1
            if self.recentHand >= self.users.count { self.recentHand = 0 }
            let author = self.recentHand
            self.recentHand += 1
            guard !self.recentPosts[author].isEmpty else { continue }
            if self.users[author].recentReferenced {
                self.users[author].recentReferenced = false
                continue
            }
            // Only as much as is needed: the next pass goes on from here.
            self.trimRecent(UInt32(author), keep: 0, bytes: target - (start - self.estimatedBytes))
        }
    }

    /// Drops timelines not read since the hand last passed.
    private mutating func sweepTimelines(until target: Int) {
        let start = self.estimatedBytes
        var steps = self.users.count
        while steps > 0 && start - self.estimatedBytes < target {
            steps -= 1
            if self.timelineHand >= self.users.count { self.timelineHand = 0 }
            let user = self.timelineHand
            self.timelineHand += 1
            guard self.timelines[user] != nil else { continue }
            if self.users[user].timelineReferenced {
                self.users[user].timelineReferenced = false
                continue
            }
            self.releaseTimeline(UInt32(user))
            self.evictions.timelines += 1
        }
    }

    /// Bodies of durable posts, least recently read first.
    private mutating func evictBodies(bytes: Int) {
        let before = self.bodies.evictions
        let evicted = self.bodies.evict(
            downTo: Swift.max(0, self.bodies.usedBytes - bytes), evictableThrough: self.durablePostID)
        for (id, _) in evicted { self.posts[id]?.bodySlot = -1 }
        self.evictions.bodies += self.bodies.evictions - before
    }

    /// Like sets the store has: the counts stay with the posts, and the next
    /// LIKE of such a post asks the store who liked it.
    private mutating func evictLikeSets(until target: Int) {
        let start = self.estimatedBytes
        let durable = self.likers.filter { $0.value.sequence <= self.durableSequence }.map(\.key)
        for id in durable where start - self.estimatedBytes < target {
            self.dropLikers(id)
            self.evictions.likeSets += 1
        }
    }
}
