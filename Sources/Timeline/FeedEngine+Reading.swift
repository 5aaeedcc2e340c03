import CPrefetch
import DequeModule

extension FeedEngine {
    /// FEED.READ: up to `count` entries, newest first, strictly older than
    /// `before` when given: the reader's timeline merged with the recent posts
    /// of the pulled authors they follow, through the reader's filters
    /// (`ReaderFilter`). A dropped timeline is rebuilt first.
    ///
    /// Memory answers down to the highest floor that applies: the timeline's
    /// and the merged lists', then, below the timeline, the recent lists of
    /// everyone the reader follows. When that runs out before enough entries
    /// and some of those lists do not reach back to the beginning, the result
    /// says where the store must take over; the entries written are then the
    /// candidates (filtered, not collapsed), and whoever completes the read
    /// from the store finishes it with `finishRead`.
    ///
    /// `raw`: write that many candidates, uncollapsed (completing from the store).
    @discardableResult
    public mutating func read<Writer: FeedEntryWriter>(
        user name: String, count: Int, before: UInt64? = nil, now: Int64, into writer: inout Writer, raw: Int? = nil
    ) -> StoreContinuation? {
        guard let user = self.numbers[name] else {
            writer.beginEntries(count: 0)
            return nil
        }
        self.prepareRead(user, now: now)
        var notes = self.takeReadNotes()
        let (live, continuation) = self.shownEntries(user, count: count, before: before, now: now, raw: raw, notes: &notes)
        self.write(live, into: &writer, notes: &notes)
        self.apply(readNotes: &notes)
        return continuation
    }

    /// FEED.READ on a borrowed engine, for readers `readsBorrowed(user:)`
    /// allows: the same entries as `read(user:count:before:now:into:raw:)`,
    /// with what the read changes left in `notes` for `apply(_:)`.
    public func read<Writer: FeedEntryWriter>(
        user name: String, count: Int, before: UInt64? = nil, now: Int64, into writer: inout Writer,
        notes: inout ReadNotes
    ) -> StoreContinuation? {
        precondition(self.readsBorrowed(user: name), "a borrowed read needs the reader's timeline, and fixed celebrities")
        guard let user = self.numbers[name] else {
            writer.beginEntries(count: 0)
            return nil
        }
        let (live, continuation) = self.shownEntries(user, count: count, before: before, now: now, raw: nil, notes: &notes)
        self.write(live, into: &writer, notes: &notes)
        return continuation
    }

    /// What a read changes before it reads: the reader's read rate (auto
    /// celebrities), and a dropped timeline rebuilt.
    mutating func prepareRead(_ user: UInt32, now: Int64) {
        self.noteRead(user, now: now)
        if self.timelines[Int(user)] == nil { self.rebuildTimeline(user) }
    }

    /// Notes for a read on this engine itself, given back with
    /// `apply(readNotes:)` when it ends (their room kept for the next read;
    /// plain calls on `self` between the two, not a closure: one that
    /// borrows the engine copied it whole).
    mutating func takeReadNotes() -> ReadNotes {
        var notes = ReadNotes()
        swap(&notes, &self.readNotes)
        return notes
    }

    /// Applies the notes of `takeReadNotes()` and keeps them for the next read.
    mutating func apply(readNotes notes: inout ReadNotes) {
        self.apply(&notes)
        swap(&notes, &self.readNotes)
    }

    /// The entries a read shows (`read(user:count:before:now:into:raw:)`),
    /// found but not written: filtered and collapsed, or with `raw` the
    /// candidates, uncollapsed, when the store must go on. The reader's
    /// timeline is resident (`prepareRead`).
    func shownEntries(
        _ user: UInt32, count: Int, before: UInt64?, now: Int64, raw: Int?, notes: inout ReadNotes
    ) -> (live: [(id: UInt64, record: PostRecord?)], continuation: StoreContinuation?) {
        notes.counters.reads += 1
        notes.readers.append((user, now))
        let filter = self.readerFilter(user)
        // Just the page first; a repost on it that needs to see further
        // below it (collapsing) asks for `falloff` more, then twice as many.
        var target = raw ?? count
        while true {
            var live: [(id: UInt64, record: PostRecord?)] = []
            let continuation = self.candidates(user, filter: filter, count: target, before: before, into: &live, notes: &notes)
            if raw != nil || continuation != nil { return (live, continuation) }
            // The common page has no repost: nothing to collapse.
            if filter.falloff == 0 || !live.prefix(count).contains(where: { $0.record?.kind == .repost }) {
                return (live.count > count ? Array(live.prefix(count)) : live, nil)
            }
            let complete = live.count < target
            if let shown = filter.collapse(live.map(Self.collapseKey), count: count, complete: complete) {
                notes.counters.repostsCollapsed += (shown.last.map { $0 + 1 } ?? 0) - shown.count
                return (shown.map { live[$0] }, nil)
            }
            target = target == count ? count + Swift.max(filter.falloff, 1) : target * 2
        }
    }

    /// What collapsing needs of a candidate (an unknown record counts as a
    /// plain post: the store completes such a read anyway).
    static func collapseKey(_ entry: (id: UInt64, record: PostRecord?)) -> (id: UInt64, kind: PostKind, link: UInt64) {
        (entry.id, entry.record?.kind ?? .post, entry.record?.link ?? 0)
    }

    /// Up to `count` of the reader's candidates below `before`, newest first,
    /// each passing the filter (or unknown to memory); where the store must
    /// go on, if memory runs out first.
    private func candidates(
        _ user: UInt32, filter: ReaderFilter, count: Int, before: UInt64?, into live: inout [(id: UInt64, record: PostRecord?)],
        notes: inout ReadNotes
    ) -> StoreContinuation? {
        var floor = self.timelineFloor(user)
        var sources = [self.timelines[Int(user)]!.newestFirst(before: before)]
        let followed = self.following[Int(user)]
        if self.pulledAuthors.count <= followed.count {
            for author in self.pulledAuthors where followed.contains(author) {
                sources.append(self.pulledList(author, before: before, floor: &floor, notes: &notes))
            }
        } else {
            for author in followed.sorted where self.users[Int(author)].unpushedRecent > 0 {
                sources.append(self.pulledList(author, before: before, floor: &floor, notes: &notes))
            }
        }
        if sources.count > 1 {
            notes.counters.readsWithCelebrityMerge += 1
            notes.counters.celebrityListsMerged += sources.count - 1
        }
        live.reserveCapacity(Swift.min(count, 1024))  // a ranked read asks for 500: no regrowing
        self.collect(NewestFirstMerge(sources), count: count, floor: floor, filter: filter, into: &live, notes: &notes)
        guard live.count < count else { return nil }
        // Below the timeline: everyone the reader follows (but the hidden), and the reader.
        var authors = followed.sorted.filter { !filter.hides($0) }
        authors.append(user)
        return self.readBelow(
            Swift.min(before ?? UInt64.max, floor), authors: authors, count: count, filter: filter, into: &live, notes: &notes)
    }

    /// A pulled author's recent posts for a read, lifting the read's floor to the list's.
    private func pulledList(
        _ author: UInt32, before: UInt64?, floor: inout UInt64, notes: inout ReadNotes
    ) -> CappedPostList.NewestFirst {
        if !self.users[Int(author)].recentReferenced { notes.recentReferenced.append(author) }
        floor = Swift.max(floor, self.recentFloor(author))
        return self.recentPosts[Int(author)].newestFirst(before: before)
    }

    /// Goes on below `point` through the authors' recent lists, down to the
    /// highest of their floors; what is left is the store's.
    private func readBelow(
        _ point: UInt64, authors: [UInt32], count: Int, filter: ReaderFilter?,
        into live: inout [(id: UInt64, record: PostRecord?)], notes: inout ReadNotes
    ) -> StoreContinuation? {
        var deepFloor: UInt64 = 0
        for author in authors { deepFloor = Swift.max(deepFloor, self.recentFloor(author)) }
        if point > deepFloor {
            let deep = authors.compactMap { author -> CappedPostList.NewestFirst? in
                let list = self.recentPosts[Int(author)]
                return list.isEmpty ? nil : list.newestFirst(before: point)
            }
            self.collect(NewestFirstMerge(deep), count: count, floor: deepFloor, filter: filter, into: &live, notes: &notes)
        }
        guard live.count < count, deepFloor > 0 else { return nil }
        let storePoint = Swift.min(point, deepFloor)
        return self.continuation(below: storePoint, authors: authors, count: count - live.count, notes: &notes)
    }

    /// Where the store takes over below `point`, with the posts memory holds
    /// there (the store may not have them yet).
    private func continuation(below point: UInt64, authors: [UInt32], count: Int, notes: inout ReadNotes) -> StoreContinuation {
        notes.counters.storeContinuations += 1
        let lists = authors.compactMap { author -> CappedPostList.NewestFirst? in
            let list = self.recentPosts[Int(author)]
            return list.isEmpty ? nil : list.newestFirst(before: point)
        }
        var memory: [FeedEntry] = []
        var merge = NewestFirstMerge(lists)
        while memory.count < count, let id = merge.next() {
            if let record = self.posts[id] { memory.append(self.entry(id, record)) }
        }
        // Posts that left their lists before the store had them. (Without a
        // store every post stays, and a read ends where the lists end.)
        if self.hasStore && !self.outsideRecent.isEmpty {
            let wanted = Set(authors)
            // (Or whose likes or counts the store does not have yet.)
            for id in self.outsideRecent where id < point && !self.canEvictRecord(id) {
                if let record = self.posts[id], record.outsideRecent, wanted.contains(record.author) {
                    memory.append(self.entry(id, record))
                }
            }
            memory.sort { $0.id > $1.id }
        }
        let storeAuthors = authors.filter { self.recentFloor($0) > 0 }
        let deletedBelow = self.deleted.isEmpty ? 0 : self.deleted.reduce(0) { $0 + ($1 < point ? 1 : 0) }
        return StoreContinuation(
            authors: storeAuthors, before: point, count: count, memory: memory, storeLimit: count + deletedBelow)
    }

    /// Appends posts of `ids` at or above `floor` until `live` holds
    /// `count`, leaving out those the filter does not pass.
    private func collect<S: Sequence<UInt64>>(
        _ ids: S, count: Int, floor: UInt64, filter: ReaderFilter?, into live: inout [(id: UInt64, record: PostRecord?)],
        notes: inout ReadNotes
    ) {
        // In batches: every record of a batch is asked for before the
        // first is read, so their cache misses overlap (a ranked read looks
        // up 500; bench/results/hot-paths.md).
        var iterator = ids.makeIterator()
        var exhausted = false
        // The batch on the stack: no allocation per read.
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: Self.lookupBatch) { buffer in
            while !exhausted && live.count < count {
                // No more than the page still needs: `live` never passes `count`.
                let wanted = Swift.min(Self.lookupBatch, count - live.count)
                var filled = 0
                while filled < wanted {
                    guard let id = iterator.next(), id >= floor else {
                        exhausted = true
                        break
                    }
                    buffer[filled] = id
                    filled += 1
                }
                let batch = UnsafeBufferPointer(rebasing: buffer[..<filled])
                self.posts.prefetch(batch)
                for id in batch {
                    let record = self.posts[id]
                    if let filter, let record, !filter.passes(author: record.author, kind: record.kind, linkAuthor: record.linkAuthor) {
                        notes.counters.entriesFiltered += 1
                        continue
                    }
                    live.append((id, record))
                }
            }
        }
    }

    /// How many records `collect` asks for at once.
    static var lookupBatch: Int { 16 }

    /// Finishes a read completed from the store: `entries` are the
    /// candidates (`read(…, raw:)` merged with the store's), newest first;
    /// `complete` says there are no more. The reader's filters, then
    /// collapsing; nil when more candidates are needed to tell.
    public mutating func finishRead(user name: String, entries: [FeedEntry], count: Int, complete: Bool) -> [FeedEntry]? {
        guard let user = self.numbers[name] else { return [] }
        let filter = self.readerFilter(user)
        let passing = entries.filter { entry in
            guard let author = self.numbers[entry.author] else { return false }
            let linkAuthor = entry.meta.linkAuthor.flatMap { self.numbers[$0] } ?? UInt32.max
            return filter.passes(author: author, kind: entry.meta.kind, linkAuthor: linkAuthor)
        }
        let keys = passing.map { (id: $0.id, kind: $0.meta.kind, link: $0.meta.link) }
        guard let shown = filter.collapse(keys, count: count, complete: complete) else { return nil }
        self.counters.repostsCollapsed += (shown.last.map { $0 + 1 } ?? 0) - shown.count
        return shown.map { passing[$0] }
    }

    /// FEED.READ as values (what memory holds; see `read(user:count:before:now:into:raw:)`).
    public mutating func read(user name: String, count: Int, before: UInt64? = nil, now: Int64) -> [FeedEntry] {
        var collector = FeedEntryCollector()
        self.read(user: name, count: count, before: before, now: now, into: &collector)
        return collector.entries.compactMap { $0 }
    }

    /// Rebuilds a timeline from the recent posts of the user and of everyone
    /// they follow: every post at or above the highest of their floors, up
    /// to the cap.
    mutating func rebuildTimeline(_ user: UInt32) {
        var sources: [CappedPostList.NewestFirst] = []
        sources.reserveCapacity(self.following[Int(user)].count + 1)
        var floor: UInt64 = 0
        for author in [user] + self.following[Int(user)].sorted {
            floor = Swift.max(floor, self.recentFloor(author))
            self.users[Int(author)].recentReferenced = true
            if !self.recentPosts[Int(author)].isEmpty { sources.append(self.recentPosts[Int(author)].newestFirst()) }
        }
        var newest: [UInt64] = []
        let cap = self.configuration.timelineCap
        newest.reserveCapacity(Swift.min(cap, 64))
        var merge = NewestFirstMerge(sources)
        while newest.count < cap, let id = merge.next(), id >= floor { newest.append(id) }
        self.setTimeline(user, CappedPostList(ascending: newest.reversed()), floor: floor)
        self.counters.timelineRebuilds += 1
    }

    /// Frees a user's timeline; their next read rebuilds it. Timelines are a
    /// cache, so this is safe at any time (under memory pressure, say).
    @discardableResult
    public mutating func dropTimeline(of name: String) -> Bool {
        guard let user = self.numbers[name], self.timelines[Int(user)] != nil else { return false }
        self.dropTimelineInternal(user)
        return true
    }

    mutating func dropTimelineInternal(_ user: UInt32) {
        guard self.timelines[Int(user)] != nil else { return }
        self.releaseTimeline(user)
        self.counters.timelinesDropped += 1
    }

    /// Drops the timelines of every user inactive at `now`; returns how many.
    @discardableResult
    public mutating func dropInactiveTimelines(now: Int64) -> Int {
        var dropped = 0
        for user in self.timelines.indices where self.timelines[user] != nil && !self.isActive(UInt32(user), now: now) {
            self.releaseTimeline(UInt32(user))
            dropped += 1
        }
        self.counters.timelinesDropped += dropped
        return dropped
    }

    /// FEED.POSTS: the author's own posts, newest first; where the store must
    /// continue when the author has older posts than memory holds.
    @discardableResult
    public mutating func posts<Writer: FeedEntryWriter>(
        author name: String, count: Int, before: UInt64? = nil, into writer: inout Writer
    ) -> StoreContinuation? {
        guard let author = self.numbers[name] else {
            writer.beginEntries(count: 0)
            return nil
        }
        self.users[Int(author)].recentReferenced = true
        var notes = self.takeReadNotes()
        let continuation = self.posts(author, count: count, before: before, into: &writer, notes: &notes)
        self.apply(readNotes: &notes)
        return continuation
    }

    // (Each read's work is in a non-mutating function the mutating one
    // calls once: inlined into a mutating caller, the closures that borrow
    // names and bodies captured a copy of the whole engine.)
    private func posts<Writer: FeedEntryWriter>(
        _ author: UInt32, count: Int, before: UInt64?, into writer: inout Writer, notes: inout ReadNotes
    ) -> StoreContinuation? {
        var live: [(id: UInt64, record: PostRecord?)] = []
        let floor = self.recentFloor(author)
        self.collect(
            self.recentPosts[Int(author)].newestFirst(before: before), count: count, floor: floor, filter: nil, into: &live,
            notes: &notes)
        var continuation: StoreContinuation? = nil
        if live.count < count && floor > 0 {
            continuation = self.continuation(
                below: Swift.min(before ?? UInt64.max, floor), authors: [author], count: count - live.count, notes: &notes)
        }
        self.write(live, into: &writer, notes: &notes)
        return continuation
    }

    /// FEED.POSTS as values.
    public mutating func posts(author name: String, count: Int, before: UInt64? = nil) -> [FeedEntry] {
        var collector = FeedEntryCollector()
        self.posts(author: name, count: count, before: before, into: &collector)
        return collector.entries.compactMap { $0 }
    }

    /// FEED.GET: each post, or a missing entry when it does not exist (or was
    /// deleted); an unresolved one when only the store can say.
    public mutating func get<Writer: FeedEntryWriter>(_ ids: [UInt64], into writer: inout Writer) {
        var notes = self.takeReadNotes()
        self.get(ids, into: &writer, notes: &notes)
        self.apply(readNotes: &notes)
    }

    private func get<Writer: FeedEntryWriter>(_ ids: [UInt64], into writer: inout Writer, notes: inout ReadNotes) {
        writer.beginEntries(count: ids.count)
        for id in ids {
            if let record = self.posts[id] {
                self.write(id, record, into: &writer, notes: &notes)
            } else if self.hasStore && !self.deleted.contains(id) {
                writer.unresolvedEntry(id: id)
            } else {
                writer.missingEntry()
            }
        }
    }

    /// FEED.GET as values.
    public mutating func get(_ ids: [UInt64]) -> [FeedEntry?] {
        var collector = FeedEntryCollector()
        self.get(ids, into: &collector)
        return collector.entries
    }

    /// Writes the given posts. They were found first, so the writer knows
    /// the count before the entries.
    func write<Writer: FeedEntryWriter>(
        _ live: [(id: UInt64, record: PostRecord?)], into writer: inout Writer, notes: inout ReadNotes
    ) {
        writer.beginEntries(count: live.count)
        self.prefetchBytes(of: live.lazy.map(\.record))
        for (id, record) in live {
            if let record {
                self.write(id, record, into: &writer, notes: &notes)
            } else {
                writer.unresolvedEntry(id: id)
            }
        }
    }

    /// Asks for the author names' and bodies' bytes of a page's records
    /// before the first is copied, so that their cache misses overlap
    /// rather than come one by one inside `memmove` (a repost's original is
    /// left to `write`). bench/results/hot-paths.md has the before/after.
    func prefetchBytes(of records: some Collection<PostRecord?>) {
        // First where each name and body lives (the names array's and the
        // body cache's slots), so that the pass after finds the bodies'
        // addresses loaded instead of waiting for them one record at a time.
        // A name of up to 15 bytes (user:123456) is in its slot; a longer
        // one's bytes are not prefetched (they could be, from `nameBytes`:
        // not measured).
        // (No closure here or in `write` refers to `self`: one that did
        // captured a copy of the whole engine, a retain of each of its arrays.)
        self.names.withUnsafeBufferPointer { names in
            for record in records {
                guard let record else { continue }
                feed_prefetch(names.baseAddress! + Int(record.author))
            }
        }
        for record in records {
            guard let record, record.kind != .repost && record.bodySlot >= 0 else { continue }
            self.bodies.prefetchSlot(record.bodySlot)
        }
        for record in records {
            guard let record, record.kind != .repost && record.bodySlot >= 0 else { continue }
            self.bodies.prefetch(record.bodySlot)
        }
    }

    /// One entry, its author and body passed as bytes in place: the body
    /// where the cache keeps it, so writing an entry copies no body and
    /// touches no reference count but the author name's (none for a name of
    /// up to 15 bytes, kept in the string itself). A repost shows its
    /// original's body and counts.
    func write<Writer: FeedEntryWriter>(
        _ id: UInt64, _ record: PostRecord, rank: RankFactors? = nil, into writer: inout Writer, notes: inout ReadNotes
    ) {
        let created = PostID.createdMilliseconds(id)
        var meta = EntryMeta()
        var shown = record
        // A plain post to a writer that shows no meta needs neither (the common read).
        if record.kind != .post || writer.wantsMeta {
            (meta, shown) = self.shown(record)
            meta.rank = rank
        }
        let body = shown.bodySlot >= 0 ? self.bodies.bytes(at: shown.bodySlot, notes: &notes) : nil
        if body == nil { notes.counters.bodyMisses += 1 }
        // A name of up to 15 bytes is copied (no reference to count); a longer one is read in place.
        let name = self.nameBytes.withUnsafeBufferPointer { $0[Int(record.author)] }
        let author: BorrowedBytes = if let buffer = name.buffer { .inPlace(buffer) } else { .small(self.names[Int(record.author)]) }
        author.withBytes { authorBytes in
            guard let body else {
                return writer.entry(id: id, author: authorBytes, createdMilliseconds: created, body: nil, meta: meta)
            }
            body.withBytes { writer.entry(id: id, author: authorBytes, createdMilliseconds: created, body: $0, meta: meta) }
        }
    }

    /// What an entry shows of a record: its links, and the record whose
    /// body and counts it shows (a repost's original; without a body when
    /// memory lost it, for the store to give).
    func shown(_ record: PostRecord) -> (EntryMeta, PostRecord) {
        var meta = EntryMeta()
        var shown = record
        if record.kind != .post {
            meta.kind = record.kind
            meta.link = record.link
            meta.linkAuthor = self.names[Int(record.linkAuthor)]
            if record.kind == .repost {
                guard let original = self.posts[record.link] else {
                    // Body and counts unknown (-1): the store's row for the repost has them.
                    shown.bodySlot = -1
                    meta.likes = -1
                    meta.replies = -1
                    meta.reposts = -1
                    return (meta, shown)
                }
                shown = original
            }
        }
        meta.likes = Int(shown.likes)
        meta.replies = Int(shown.replies)
        meta.reposts = Int(shown.reposts)
        return (meta, shown)
    }

    /// A store row with memory's counts for the post it shows, when memory
    /// holds it (the store may not have its latest likes, replies or reposts).
    public func withMemoryCounts(_ entry: FeedEntry) -> FeedEntry {
        guard let counts = self.counts(of: entry.meta.shown(entry.id)) else { return entry }
        var entry = entry
        entry.meta.likes = Int(counts.likes)
        entry.meta.replies = Int(counts.replies)
        entry.meta.reposts = Int(counts.reposts)
        return entry
    }

    /// The post's counts when memory knows them better than the store may.
    func counts(of id: UInt64) -> (likes: UInt32, replies: UInt32, reposts: UInt32)? {
        if let record = self.posts[id] { return (record.likes, record.replies, record.reposts) }
        return self.leftCounts[id]
    }

    /// One entry as a value.
    func entry(_ id: UInt64, _ record: PostRecord) -> FeedEntry {
        let (meta, shown) = self.shown(record)
        return FeedEntry(
            id: id, author: self.names[Int(record.author)], createdMilliseconds: PostID.createdMilliseconds(id),
            body: shown.bodySlot >= 0 ? self.bodies.peek(shown.bodySlot) : nil, meta: meta)
    }

    /// FEED.STATS. Throws `notInMemory` while the user's post count from
    /// before this process started is only in the store.
    public func stats(of name: String) throws(FeedError) -> UserStats {
        var stats = UserStats()
        guard let user = self.numbers[name] else { return stats }
        let state = self.users[Int(user)]
        guard state.postCountBase >= 0 else { throw .notInMemory(.postCount(user: name)) }
        stats.followers = self.followers[Int(user)].count
        stats.following = self.following[Int(user)].count
        stats.posts = Int(state.postCountBase) + Int(state.postCountDelta)
        stats.timeline = self.timelines[Int(user)]?.count ?? 0
        stats.celebrity = self.isCelebrity(user)
        return stats
    }
}
