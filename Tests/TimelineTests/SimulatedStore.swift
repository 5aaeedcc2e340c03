@testable import Timeline

/// What PostgreSQL would hold: the engine's mutations, applied once the
/// journal commits them, and the queries the server asks of it. The engine
/// tests drive the engine through it exactly as the server does: commit a
/// prefix of the journal, evict, answer faults and continuations.
struct SimulatedStore {
    struct Post {
        var author: String
        var body: String
        var deleted = false
        /// The store's restart generation in which the delete committed.
        var deletedIn = 0
        var likers: Set<String> = []
        var kind: PostKind = .post
        var link: UInt64 = 0
        var linkAuthor: String? = nil
    }

    var names: [UInt32: String] = [:]
    var posts: [UInt64: Post] = [:]
    var follows: Set<[String]> = []
    var hiddenReposts: Set<[String]> = []
    var mutes: Set<[String]> = []
    var blocks: Set<[String]> = []
    /// Readers' affinity for authors, by [reader, author].
    var affinity: [[String]: AffinityCounts] = [:]
    /// Notification rows as the tables of migration 0005 hold them.
    var notifications: [NotificationRowKey: NotificationSource] = [:]
    var notificationReads: [NotificationGroupKey: UInt64] = [:]
    var notificationSeen: [String: UInt64] = [:]

    struct NotificationGroupKey: Hashable {
        var user: String
        var group: NotificationKey
    }

    struct NotificationRowKey: Hashable {
        var group: NotificationGroupKey
        var actor: String
        var source: UInt64
    }
    /// Users in the order the store first had them.
    var users: [String] = []
    var generation = 0

    mutating func apply(_ mutation: FeedMutation) {
        switch mutation {
        case .userCreated(let user, let name):
            self.names[user] = name
            if !self.users.contains(name) { self.users.append(name) }
        case .postCreated(let post, let author, let body, let link):
            self.posts[post] = Post(
                author: self.names[author]!, body: body, kind: link?.kind ?? .post, link: link?.post ?? 0,
                linkAuthor: link.map { self.names[$0.author]! })
        case .postDeleted(let post, _):
            // A post's reposts go with it, as PostgresBatchWriter does.
            for id in [post] + self.posts.filter({ $0.value.kind == .repost && $0.value.link == post }).keys
            where self.posts[id]?.deleted == false {
                self.posts[id]?.deleted = true
                self.posts[id]?.deletedIn = self.generation
            }
        case .repostsHidden(let follower, let followee, let hidden):
            let pair = [self.names[follower]!, self.names[followee]!]
            if hidden && self.follows.contains(pair) { self.hiddenReposts.insert(pair) } else { self.hiddenReposts.remove(pair) }
        case .muted(let user, let target): self.mutes.insert([self.names[user]!, self.names[target]!])
        case .unmuted(let user, let target): self.mutes.remove([self.names[user]!, self.names[target]!])
        case .blocked(let user, let target): self.blocks.insert([self.names[user]!, self.names[target]!])
        case .unblocked(let user, let target): self.blocks.remove([self.names[user]!, self.names[target]!])
        case .followed(let follower, let followee):
            self.follows.insert([self.names[follower]!, self.names[followee]!])
        case .unfollowed(let follower, let followee):
            self.follows.remove([self.names[follower]!, self.names[followee]!])
            self.hiddenReposts.remove([self.names[follower]!, self.names[followee]!])
        case .affinity(let user, let author, let counts):
            let key = [self.names[user]!, self.names[author]!]
            if let counts { self.affinity[key] = counts } else { self.affinity.removeValue(forKey: key) }
        case .notified(let user, let group, let actor, let source, let added):
            let key = NotificationRowKey(
                group: NotificationGroupKey(user: self.names[user]!, group: group), actor: self.names[actor]!, source: source.id)
            self.notifications[key] = added ? source : nil
        case .notificationGroupRemoved(let user, let group):
            let key = NotificationGroupKey(user: self.names[user]!, group: group)
            self.notifications = self.notifications.filter { $0.key.group != key }
            self.notificationReads[key] = nil
        case .notificationRead(let user, let group, let order):
            self.notificationReads[NotificationGroupKey(user: self.names[user]!, group: group)] = order
        case .notificationsSeen(let user, let order):
            self.notificationSeen[self.names[user]!] = order
        case .liked(let user, let post):
            self.posts[post]?.likers.insert(self.names[user]!)
        case .unliked(let user, let post):
            self.posts[post]?.likers.remove(self.names[user]!)
        }
    }

    func stored(_ id: UInt64) -> StoredPost? {
        guard let post = self.posts[id], !post.deleted else { return nil }
        // As PostgresStore reads it: a repost with its original's body and counts.
        let shown = post.kind == .repost ? post.link : id
        let original = self.posts[shown]
        func count(_ kind: PostKind) -> Int {
            self.posts.values.filter { $0.kind == kind && $0.link == shown && !$0.deleted }.count
        }
        return StoredPost(
            id: id, author: post.author, body: original?.body ?? post.body, likes: original?.likers.count ?? 0,
            replies: count(.reply), reposts: count(.repost), kind: post.kind, link: post.link, linkAuthor: post.linkAuthor)
    }

    /// The user's live repost of `original`, if any.
    func repost(by user: String, of original: UInt64) -> StoredPost? {
        self.posts.filter { $0.value.kind == .repost && $0.value.link == original && $0.value.author == user && !$0.value.deleted }
            .keys.first.flatMap { self.stored($0) }
    }

    /// A post's live replies below `before`, newest first.
    func replies(to id: UInt64, below before: UInt64, limit: Int) -> [FeedEntry] {
        self.posts.filter { $0.key < before && $0.value.kind == .reply && $0.value.link == id && !$0.value.deleted }.keys
            .sorted(by: >).prefix(limit).map { self.entry($0) }
    }

    /// An author's live posts below `before`, newest first, at most `limit`.
    func recent(_ author: String, below before: UInt64, limit: Int) -> [StoredPost] {
        Array(
            self.posts.filter { $0.key < before && $0.value.author == author && !$0.value.deleted }.keys.sorted(by: >)
                .prefix(limit).map { self.stored($0)! })
    }

    /// The newest live posts of anyone, at most `limit`.
    func newest(limit: Int) -> [StoredPost] {
        Array(self.posts.filter { !$0.value.deleted }.keys.sorted(by: >).prefix(limit).map { self.stored($0)! })
    }

    /// Live posts by `authors` below `before`, newest first.
    func older(authors: [String], below before: UInt64, limit: Int) -> [FeedEntry] {
        let wanted = Set(authors)
        return self.posts.filter { $0.key < before && wanted.contains($0.value.author) && !$0.value.deleted }.keys
            .sorted(by: >).prefix(limit).map { self.entry($0) }
    }

    func entry(_ id: UInt64) -> FeedEntry {
        let post = self.stored(id) ?? StoredPost(id: id, author: self.posts[id]!.author, body: self.posts[id]!.body, likes: 0)
        return FeedEntry(
            id: id, author: post.author, createdMilliseconds: PostID.createdMilliseconds(id), body: post.body,
            meta: EntryMeta(
                kind: post.kind, link: post.link, linkAuthor: post.linkAuthor, likes: post.likes, replies: post.replies,
                reposts: post.reposts))
    }

    /// The count FEED.STATS needs: live posts up to the baseline, counting
    /// those deleted since the restart as live (memory counts those deletes).
    func postCount(_ author: String, baseline: StoreBaseline) -> Int {
        self.posts.filter { id, post in
            id <= baseline.maxPostID && post.author == author && (!post.deleted || post.deletedIn == self.generation)
        }.count
    }
}

/// An engine with a store behind it, a journal in between, and a clock.
final class StoreBackedFeed {
    /// The engine, its borrowed reads' notes applied first: every use but
    /// a borrowed read goes through here, as every exclusive turn of the
    /// server applies what shared reads noted.
    var engine: FeedEngine {
        get {
            self.storage.apply(&self.notes)
            return self.storage
        }
        _modify {
            self.storage.apply(&self.notes)
            yield &self.storage
        }
    }
    private var storage: FeedEngine
    /// Memory's first answer to a read comes from the engine borrowed, as
    /// the server's shared reads do; notes wait until the next use.
    var borrowsReads = false
    private var notes = ReadNotes(lane: 3, lanes: 4)
    private(set) var borrowedReads = 0
    var store = SimulatedStore()
    var journal: [FeedMutation] = []
    var now: Int64 = 1_795_000_000_000
    var baseline = StoreBaseline(maxPostID: 0)
    let configuration: FeedConfiguration

    init(_ configure: (inout FeedConfiguration) -> Void = { _ in }) {
        var configuration = FeedConfiguration()
        configuration.recordsMutations = true
        configure(&configuration)
        self.configuration = configuration
        self.storage = FeedEngine(configuration: configuration)
    }

    /// Moves the engine's new mutations into the journal.
    func journalMutations() {
        self.journal += self.engine.drainMutations()
        expectJournal(self.engine.sequence, self.committed + UInt64(self.journal.count))
    }

    /// Sequence numbers committed so far.
    private(set) var committed: UInt64 = 0

    /// Commits the oldest `count` journal entries (all when nil).
    func commit(_ count: Int? = nil) {
        self.journalMutations()
        let taken = Swift.min(count ?? self.journal.count, self.journal.count)
        for mutation in self.journal.prefix(taken) { self.store.apply(mutation) }
        self.journal.removeFirst(taken)
        self.committed += UInt64(taken)
        self.engine.markDurable(through: self.committed, now: self.now)
    }

    /// Evicts everything memory may let go.
    func evictAll() {
        self.engine.evict(bytes: Int.max / 2, now: self.now)
    }

    /// A graceful restart: the journal commits, and a new engine loads
    /// users, follows and (if `warm`) the store's newest posts.
    func restart(warm: Int?) {
        self.commit()
        self.store.generation += 1
        self.engine = FeedEngine(configuration: self.configuration)
        self.committed = 0
        self.baseline = StoreBaseline(maxPostID: self.store.posts.keys.max() ?? 0)
        self.engine.beginRestore(self.baseline)
        for name in self.store.users { self.engine.restoreUser(name: name, now: self.now) }
        for pair in self.store.follows {
            self.engine.restoreFollow(follower: self.engine.number(of: pair[0])!, followee: self.engine.number(of: pair[1])!)
        }
        func numbers(_ pair: [String]) -> (UInt32, UInt32) { (self.engine.number(of: pair[0])!, self.engine.number(of: pair[1])!) }
        for pair in self.store.mutes.map(numbers) { self.engine.restoreMute(user: pair.0, target: pair.1) }
        for pair in self.store.blocks.map(numbers) { self.engine.restoreBlock(user: pair.0, target: pair.1) }
        for pair in self.store.hiddenReposts.map(numbers) { self.engine.restoreHiddenReposts(follower: pair.0, followee: pair.1) }
        for (pair, counts) in self.store.affinity {
            let (user, author) = numbers(pair)
            self.engine.restoreAffinity(user: user, author: author, counts: counts)
        }
        for (row, source) in self.store.notifications {
            self.engine.restoreNotification(
                user: self.engine.number(of: row.group.user)!, group: row.group.group, actor: self.engine.number(of: row.actor)!,
                source: source)
        }
        for (key, order) in self.store.notificationReads {
            self.engine.restoreNotificationRead(user: self.engine.number(of: key.user)!, group: key.group, order: order)
        }
        for (user, order) in self.store.notificationSeen {
            self.engine.restoreNotificationsSeen(user: self.engine.number(of: user)!, order: order)
        }
        // Users the engine numbered differently: mutations name them by the new numbers.
        self.store.names = Dictionary(uniqueKeysWithValues: self.store.users.map { (self.engine.number(of: $0)!, $0) })
        if let warm {
            let newest = self.store.newest(limit: warm)
            let from = newest.count == warm ? newest.last!.id : 0
            for (author, posts) in Dictionary(grouping: newest, by: \.author) {
                self.engine.installRecent(
                    author: author, posts: posts.sorted { $0.id > $1.id }, from: from, below: self.baseline.maxPostID + 1, now: self.now)
            }
            self.engine.lowerRecentFloors(to: from, whereAtMost: self.baseline.maxPostID + 1)
        }
    }

    /// Runs a command, answering its store faults as the server does: the
    /// store is read between tries, and memory may be squeezed meanwhile
    /// (`evictBetweenTries`), so each try installs every answer so far.
    func faulting<Result>(_ body: (inout FeedEngine) throws(FeedError) -> Result) throws(FeedError) -> Result {
        var answers: [StoreFault] = []
        for _ in 0..<4 {
            do throws(FeedError) {
                if !answers.isEmpty && self.evictBetweenTries { self.evictAll() }
                for fault in answers { try self.install(fault) }
                let result = try body(&self.engine)
                self.journalMutations()
                return result
            } catch .notInMemory(let fault) {
                self.faults += 1
                answers.append(fault)
            }
        }
        preconditionFailure("a fault answered three times")
    }

    /// Whether tries of a command are apart, with eviction in between.
    var evictBetweenTries = false

    /// Installs the store's answer to a fault.
    private func install(_ fault: StoreFault) throws(FeedError) {
                switch fault {
                case .post(let id), .likers(let id):
                    guard let post = self.store.stored(id) else { throw .noSuchPost }  // the server's answer for a missing post
                    self.engine.installPost(post, now: self.now)
                    if case .likers = fault {
                        self.engine.installLikers(post: id, likers: Array(self.store.posts[id]!.likers), now: self.now)
                    }
                case .postCount(let user):
                    self.engine.installPostCount(user: user, count: self.store.postCount(user, baseline: self.baseline))
                case .repost(let user, let original):
                    self.engine.installRepost(
                        user: user, post: original, found: self.store.repost(by: user, of: original), now: self.now)
                case .reposts(let id):
                    let reposts = self.store.posts.filter { $0.value.kind == .repost && $0.value.link == id && !$0.value.deleted }
                    self.engine.installReposts(of: id, reposts.keys.compactMap { self.store.stored($0) }, now: self.now)
                case .linked(let id):
                    if let post = self.store.stored(id) {
                        self.engine.installPost(post, now: self.now)
                    } else {
                        self.engine.installAbsent(id, now: self.now)
                    }
                }
    }

    /// Reads that went on in the store, and store faults answered, in all.
    var continuations = 0
    var faults = 0

    /// A read completed from the store, as the server completes it; and
    /// whether the store had no more rows than it gave.
    func complete(_ collector: FeedEntryCollector, _ continuation: StoreContinuation?) -> (entries: [FeedEntry], exhausted: Bool) {
        var entries = collector.entries
        for (index, id) in collector.unresolved {
            entries[index] = self.engine.isDeleted(id) ? nil : self.store.stored(id).map { self.store.entry($0.id) }
        }
        var result = entries.compactMap { $0 }.map(self.filled)
        var exhausted = true
        if let continuation {
            self.continuations += 1
            let older =
                continuation.replyTo.map { self.store.replies(to: $0, below: continuation.before, limit: continuation.storeLimit) }
                ?? self.store.older(
                    authors: continuation.authors.map { self.engine.name(of: $0) }, below: continuation.before,
                    limit: continuation.storeLimit)
            let rest = continuation.merged(store: older, isDeleted: { self.engine.isDeleted($0) })
            exhausted = older.count < continuation.storeLimit && rest.count < continuation.count
            result += rest.map(self.filled)
        }
        return (result.map(self.engine.withMemoryCounts), exhausted)
    }

    /// What the store adds to an entry memory lost the body of.
    private func filled(_ entry: FeedEntry) -> FeedEntry {
        let shown = entry.meta.shown(entry.id)
        guard entry.body == nil, self.store.stored(shown) != nil else { return entry }
        return entry.completed(with: self.store.entry(shown))
    }

    /// FEED.DELETE as the server answers it: 0 for a post the store does not have.
    func delete(_ author: String, _ id: UInt64) -> Bool {
        let result = Result { () throws(FeedError) -> Bool in
            try self.faulting { (engine) throws(FeedError) in try engine.delete(author: author, post: id, now: self.now) }
        }
        switch result {
        case .success(let deleted): return deleted
        case .failure(let error):
            precondition(error == .noSuchPost, "unexpected \(error)")
            return false
        }
    }

    /// FEED.READ as the server answers it: memory's answer when it holds
    /// the page, else rounds of candidates completed from the store
    /// (`ServerContext.feedPage`).
    func read(_ user: String, count: Int, before: UInt64? = nil) -> [FeedEntry] {
        var collector = FeedEntryCollector()
        let continuation: StoreContinuation?
        if self.borrowsReads && self.storage.readsBorrowed(user: user) {
            continuation = self.storage.read(user: user, count: count, before: before, now: self.now, into: &collector, notes: &self.notes)
            self.borrowedReads += 1
        } else {
            continuation = self.engine.read(user: user, count: count, before: before, now: self.now, into: &collector)
        }
        if continuation == nil && collector.unresolved.isEmpty && !collector.entries.contains(where: { $0?.body == nil }) {
            return collector.entries.compactMap { $0 }
        }
        var raw = count + self.configuration.repostFalloff + 8
        while true {
            var candidates = FeedEntryCollector()
            let continuation = self.engine.read(user: user, count: count, before: before, now: self.now, into: &candidates, raw: raw)
            let completed = self.complete(candidates, continuation)
            let complete = (continuation == nil && candidates.entries.count < raw) || (continuation != nil && completed.exhausted)
            if let page = self.engine.finishRead(user: user, entries: completed.entries, count: count, complete: complete) {
                return page
            }
            raw *= 2
        }
    }

    /// FEED.READ … RANKED as the server answers it: a first page ranked
    /// from memory's candidates, or from the chronological feed read with
    /// the store; a later page's posts filled in from the store.
    func ranked(_ user: String, count: Int, page: String?) throws(FeedError) -> (next: String, entries: [FeedEntry]) {
        // A first page borrowed, as the server ranks one: candidates, then
        // the snapshot kept and the page written, each on the borrowed engine.
        var borrowed: RankedSlice??
        if page == nil && self.borrowsReads && self.storage.readsBorrowed(user: user) {
            let input = self.storage.rankInput(user: user, now: self.now, notes: &self.notes)
            borrowed = .some(input.map { self.storage.keepRanking($0, $0.rank(count: count), count: count, notes: &self.notes) })
            self.borrowedReads += 1
        }
        let found: RankedSlice?
        if let borrowed {
            found = borrowed
        } else {
            found = try self.engine.rankedSlice(user: user, count: count, page: page, now: self.now)
        }
        guard let slice = found else {
            self.continuations += 1
            let entries = self.read(user, count: self.engine.rankWeights.candidates)
            let (slice, page) = self.engine.rank(user: user, entries: entries, count: count, now: self.now)
            return (slice.next, page)
        }
        var collector = FeedEntryCollector()
        if borrowed != nil {
            self.storage.writeRanked(slice, into: &collector, notes: &self.notes)
        } else {
            self.engine.writeRanked(slice, into: &collector)
        }
        let factors = Dictionary(uniqueKeysWithValues: slice.entries.map { ($0.id, $0.factors) })
        let entries = self.complete(collector, nil).entries.map { entry in
            var entry = entry
            entry.meta.rank = factors[entry.id]
            return entry
        }
        return (slice.next, entries)
    }

    /// FEED.READ … AFTER, completed from the store as the server does.
    func readAfter(_ user: String, after: UInt64, count: Int) -> [FeedEntry] {
        if let memory = self.engine.readAfter(user: user, after: after, count: count, now: self.now) { return memory }
        self.continuations += 1
        return FeedPaging.newer(than: after, count: count) { before, size in self.read(user, count: size, before: before) }
    }

    func replies(_ id: UInt64, count: Int, before: UInt64?) -> [FeedEntry] {
        var collector = FeedEntryCollector()
        let continuation = self.engine.replies(to: id, count: count, before: before, into: &collector)
        return self.complete(collector, continuation).entries
    }

    func posts(_ author: String, count: Int, before: UInt64? = nil) -> [FeedEntry] {
        var collector = FeedEntryCollector()
        let continuation = self.engine.posts(author: author, count: count, before: before, into: &collector)
        return self.complete(collector, continuation).entries
    }

    func get(_ ids: [UInt64]) -> [FeedEntry?] {
        var collector = FeedEntryCollector()
        self.engine.get(ids, into: &collector)
        var entries = collector.entries
        for (index, id) in collector.unresolved {
            entries[index] = self.engine.isDeleted(id) ? nil : self.store.stored(id).map { self.store.entry($0.id) }
        }
        return entries.map { $0.map(self.filled).map(self.engine.withMemoryCounts) }
    }
}

/// The engine numbers mutations as the journal does.
func expectJournal(_ engineSequence: UInt64, _ journaled: UInt64) {
    precondition(engineSequence == journaled, "engine sequence \(engineSequence) != journaled \(journaled)")
}
