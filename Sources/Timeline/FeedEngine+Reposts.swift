import DequeModule

/// Reposts and replies. Both are posts with a link: a repost has its own id
/// (so it sits in timelines and pages like any post, and BEFORE its id
/// continues below it) and shows its original's body; a reply has a body of
/// its own. Memory indexes the replies and reposts it holds records of by the
/// post they point at; the store answers for the rest.
extension FeedEngine {
    /// FEED.REPOST: the repost's id. Reposting a repost reposts its
    /// original; reposting twice returns the first repost's id.
    public mutating func repost(user name: String, post id: UInt64, now: Int64) throws(FeedError) -> UInt64 {
        try self.validate(user: name)
        defer { self.answered = nil }
        var original = id
        var record = try self.requirePost(id)
        if record.kind == .repost {
            original = record.link
            record = try self.requirePost(original)
        }
        if let existing = try self.existingRepost(by: name, of: original) { return existing }
        let user = self.intern(name, now: now)
        return self.publish(author: user, body: "", link: PostLink(kind: .repost, post: original, author: record.author), now: now)
    }

    /// FEED.UNREPOST: true when the user had reposted the post (given by
    /// its id or by a repost's).
    public mutating func unrepost(user name: String, post id: UInt64, now: Int64) throws(FeedError) -> Bool {
        try self.validate(user: name)
        defer { self.answered = nil }
        var original = id
        let record = try self.requirePost(id)
        if record.kind == .repost { original = record.link }
        guard let repost = try self.existingRepost(by: name, of: original), let repostRecord = self.posts[repost] else {
            return false
        }
        try self.requireLinkTarget(repostRecord)
        self.deleteLive(repost, repostRecord, now: now)
        return true
    }

    /// The user's repost of `original`, if any. Memory knows for sure when
    /// the original is at or above the user's recent-list floor (a repost is
    /// newer than its original, so it would be in the list); below that,
    /// the store is asked once.
    func existingRepost(by name: String, of original: UInt64) throws(FeedError) -> UInt64? {
        guard let user = self.numbers[name] else { return nil }
        if let reposts = self.repostsOf[original], let found = reposts.first(where: { self.posts[$0]?.author == user }) {
            return found
        }
        let fault = StoreFault.repost(user: name, post: original)
        if self.hasStore && original < self.recentFloor(user) && self.answered != fault { throw .notInMemory(fault) }
        return nil
    }

    /// The store's answer to whether the user reposted the post: the
    /// repost's record, or that there is none — also when the store's is
    /// one memory deleted already (its delete is not in the store yet).
    /// Good for the command that asked (installed in the same engine call
    /// as its retry).
    public mutating func installRepost(user name: String, post: UInt64, found: StoredPost?, now: Int64) {
        if let found, self.installPost(found, now: now) { return }
        self.answered = .repost(user: name, post: post)
    }

    /// Every live repost of a post, from the store (deleting a post takes its reposts with it).
    public mutating func installReposts(of id: UInt64, _ reposts: [StoredPost], now: Int64) {
        for repost in reposts where repost.kind == .repost && repost.link == id { self.installPost(repost, now: now) }
        self.answered = .reposts(id)
    }

    /// The store no longer has a post a reply or repost pointed at: memory
    /// remembers it as deleted, so nothing waits on it again.
    public mutating func installAbsent(_ id: UInt64, now: Int64) {
        guard self.posts[id] == nil, !self.deleted.contains(id) else { return }
        self.deleted.insert(id)
        self.deletedQueue.append((id, self.sequence, now))
    }

    // MARK: Indexes and counts

    mutating func indexLink(_ id: UInt64, _ record: PostRecord) {
        switch record.kind {
        case .post: return
        case .repost: self.repostsOf[record.link, default: []].append(id)
        case .reply: self.repliesTo[record.link, default: []].append(id)
        }
        self.usage.linkEntries += 1
    }

    mutating func unindexLink(_ id: UInt64, _ record: PostRecord) {
        func drop(_ index: inout [UInt64: [UInt64]]) -> Bool {
            guard let position = index[record.link]?.firstIndex(of: id) else { return false }
            index[record.link]!.remove(at: position)
            if index[record.link]!.isEmpty { index[record.link] = nil }
            return true
        }
        switch record.kind {
        case .post: return
        case .repost: if drop(&self.repostsOf) { self.usage.linkEntries -= 1 }
        case .reply: if drop(&self.repliesTo) { self.usage.linkEntries -= 1 }
        }
    }

    /// Moves a post's reply or repost count, if memory holds it; its record
    /// then stays until the store has the change.
    mutating func changeCount(of id: UInt64, kind: PostKind, by delta: Int32) {
        guard self.posts[id] != nil else { return }
        if kind == .repost {
            self.posts[id]!.reposts = UInt32(clamping: Int64(self.posts[id]!.reposts) + Int64(delta))
        } else {
            self.posts[id]!.replies = UInt32(clamping: Int64(self.posts[id]!.replies) + Int64(delta))
        }
        self.noteCountChange(of: id)
    }

    /// The post's counts just changed (by the latest mutation): its record stays a while.
    mutating func noteCountChange(of id: UInt64) {
        guard self.hasStore else { return }
        self.countChanges[id] = self.sequence
        self.countChangeQueue.append((self.sequence, id, nil))
    }

    /// Forgets count changes the store has had for a while.
    mutating func forgetDurableCountChanges(now: Int64) {
        while let first = self.countChangeQueue.first, first.sequence <= self.durableSequence {
            let durableAt = first.durableAt ?? now
            if first.durableAt == nil { self.countChangeQueue[self.countChangeQueue.startIndex].durableAt = now }
            guard now - durableAt >= Self.deleteMemoryMilliseconds else { return }
            self.countChangeQueue.removeFirst()
            if self.countChanges[first.id] == first.sequence {
                self.countChanges[first.id] = nil
                self.leftCounts[first.id] = nil
            }
        }
    }

    // MARK: Replies

    /// FEED.REPLIES: a post's replies, newest first, below `before`. Memory
    /// holds every reply when there is no store; with one, the store lists
    /// them and memory adds those it may not have yet (the continuation).
    public mutating func replies<Writer: FeedEntryWriter>(
        to id: UInt64, count: Int, before: UInt64? = nil, into writer: inout Writer
    ) -> StoreContinuation? {
        let limit = before ?? UInt64(Int64.max)  // the store's ids are signed
        let known = (self.repliesTo[id] ?? []).filter { $0 < limit }.sorted(by: >)
        if !self.hasStore {
            let ids = known.prefix(count)
            writer.beginEntries(count: ids.count)
            for reply in ids { self.writeEntry(reply, into: &writer) }
            return nil
        }
        writer.beginEntries(count: 0)
        let memory = known.filter { !self.canEvictRecord($0) }.compactMap { self.entryValue($0) }
        self.counters.storeContinuations += 1
        return StoreContinuation(authors: [], before: limit, count: count, memory: Array(memory.prefix(count)), replyTo: id)
    }
}
