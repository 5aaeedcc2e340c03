import CPrefetch

extension FeedEngine {
    /// FEED.POST: stores the post, adds it to the author's recent posts and own
    /// timeline, and pushes it to the followers' timelines unless the author is
    /// a celebrity, whose posts readers pull instead. Returns the new id.
    /// With `replyTo`, a reply: it goes where a post goes, and reads show it
    /// only to readers who follow (or are) the replied-to author.
    public mutating func post(author name: String, body: String, replyTo: UInt64? = nil, now: Int64) throws(FeedError)
        -> UInt64
    {
        try self.validate(user: name)
        try self.validate(body: body)
        var link: PostLink? = nil
        if let replyTo {
            var target = try self.requirePost(replyTo)
            var repliedTo = replyTo
            if target.kind == .repost {
                // A reply to a repost answers the original.
                repliedTo = target.link
                target = try self.requirePost(repliedTo)
            }
            link = PostLink(kind: .reply, post: repliedTo, author: target.author)
        }
        let author = self.intern(name, now: now)
        return self.publish(author: author, body: body, link: link, now: now)
    }

    /// A live post's record, or why not: `noSuchPost`, or `notInMemory`
    /// when only the store can say.
    func requirePost(_ id: UInt64) throws(FeedError) -> PostRecord {
        if let record = self.posts[id] { return record }
        if self.hasStore && !self.deleted.contains(id) { throw .notInMemory(.post(id)) }
        throw .noSuchPost
    }

    /// Creates a post, reply or repost and delivers it: recent list, the
    /// author's timeline, and the followers' unless the author is pulled.
    /// A repost keeps no body of its own: it shows its original's.
    /// `given`: another node's post (`replayPost`), with the id it made.
    mutating func publish(author: UInt32, body: String, link: PostLink?, now: Int64, given: UInt64? = nil) -> UInt64 {
        let id = given ?? self.ids.next(now: now)
        let celebrity = self.judgeCelebrity(author, now: now)

        let slot = link?.kind == .repost ? -1 : self.storeBody(id, body)
        var record = PostRecord(author: author, likes: 0, bodySlot: slot, pushed: !celebrity, outsideRecent: false)
        if let link {
            record.kind = link.kind
            record.link = link.post
            record.linkAuthor = link.author
        }
        self.posts.insert(record, for: id)
        self.usage.records += 1
        self.users[Int(author)].postCountDelta += 1
        self.counters.posts += 1
        self.record(.postCreated(post: id, author: author, body: link?.kind == .repost ? "" : body, link: link))
        if self.hasStore {
            // Another node's post is in the store already (it came from there).
            if given == nil { self.pendingPosts.append((self.sequence, id)) } else { self.storeHasRemote(id) }
        }
        if let link {
            self.indexLink(id, record)
            self.changeCount(of: link.post, kind: link.kind, by: 1)
            if link.kind == .repost { self.counters.reposts += 1 } else { self.counters.replies += 1 }
            self.noteInteraction(link.kind == .repost ? .repost : .reply, by: author, with: link.author, now: now)
        }
        self.notifyPublished(id, author: author, body: body, link: link, now: now)

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
        let followers = self.followers[Int(author)].sorted
        for position in followers.indices {
            self.prefetchFanOut(followers, ahead: position)
            let follower = followers[position]
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
            if let insertion = self.timelines[index]?.push(id, cap: cap), insertion.inserted {
                delivered += 1
                if !insertion.dropped { added += 1 }
            }
        }
        self.counters.fanoutDeliveries += delivered
        self.usage.timelineEntries += added
    }

    /// A fan-out touches three far-apart places per follower (activity,
    /// timeline slot, the timeline's ring), each a likely cache miss. Asked
    /// for ahead -- the slots 8 followers ahead, the ring 4 ahead (its slot
    /// has arrived by then) -- the misses overlap instead of following one
    /// another. Hints: nothing changes but what is in the cache.
    @inline(__always)
    func prefetchFanOut(_ followers: ContiguousArray<UInt32>, ahead position: Int) {
        if position + 8 < followers.count {
            let index = Int(followers[position + 8])
            self.lastActive.withUnsafeBufferPointer { feed_prefetch($0.baseAddress! + index) }
            self.timelines.withUnsafeBufferPointer { feed_prefetch($0.baseAddress! + index) }
        }
        if position + 4 < followers.count {
            let index = Int(followers[position + 4])
            self.timelines.withUnsafeBufferPointer { CappedPostList.prefetchBuffer(in: $0, at: index) }
        }
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
        try self.requireLinkTarget(record)
        defer { self.answered = nil }
        // Every repost must be in memory to go with it (and be counted gone).
        if self.hasStore && record.kind != .repost && Int(record.reposts) > (self.repostsOf[id]?.count ?? 0)
            && self.answered != .reposts(id)
        {
            throw .notInMemory(.reposts(id))
        }
        self.deleteLive(id, record, now: now)
        // Its reposts go with it, everywhere (the store's too: see PostgresBatchWriter).
        if record.kind != .repost, let reposts = self.repostsOf[id] {
            for repost in reposts {
                if let repostRecord = self.posts[repost] { self.deleteLive(repost, repostRecord, now: now) }
            }
        }
        return true
    }

    /// A reply's or repost's target, in memory when the store still has it,
    /// so that its count can be taken back.
    func requireLinkTarget(_ record: PostRecord) throws(FeedError) {
        guard record.kind != .post, self.posts[record.link] == nil, self.hasStore, !self.deleted.contains(record.link) else {
            return
        }
        throw .notInMemory(.linked(record.link))
    }

    /// Removes a live post and journals that, remembering the delete.
    mutating func deleteLive(_ id: UInt64, _ record: PostRecord, now: Int64) {
        // Journaled first: the count it takes back is stamped with this mutation.
        self.record(.postDeleted(post: id, author: record.author))
        self.removePost(id, record)
        self.notifyDeleted(id, record)
        if self.hasStore {
            self.deleted.insert(id)
            self.deletedQueue.append((id, self.sequence, now))
        }
    }

    /// Takes a live post out of memory: its record, likers, body, recent
    /// list and every timeline that can hold it.
    mutating func removePost(_ id: UInt64, _ record: PostRecord) {
        let author = record.author
        self.posts.removeValue(forKey: id)
        self.usage.records -= 1
        self.dropLikers(id)
        if record.kind != .post {
            self.unindexLink(id, record)
            self.changeCount(of: record.link, kind: record.kind, by: -1)
        }
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
