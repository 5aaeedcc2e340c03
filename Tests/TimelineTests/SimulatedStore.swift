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
    }

    var names: [UInt32: String] = [:]
    var posts: [UInt64: Post] = [:]
    var follows: Set<[String]> = []
    /// Users in the order the store first had them.
    var users: [String] = []
    var generation = 0

    mutating func apply(_ mutation: FeedMutation) {
        switch mutation {
        case .userCreated(let user, let name):
            self.names[user] = name
            if !self.users.contains(name) { self.users.append(name) }
        case .postCreated(let post, let author, let body):
            self.posts[post] = Post(author: self.names[author]!, body: body)
        case .postDeleted(let post, _):
            self.posts[post]?.deleted = true
            self.posts[post]?.deletedIn = self.generation
        case .followed(let follower, let followee):
            self.follows.insert([self.names[follower]!, self.names[followee]!])
        case .unfollowed(let follower, let followee):
            self.follows.remove([self.names[follower]!, self.names[followee]!])
        case .liked(let user, let post):
            self.posts[post]?.likers.insert(self.names[user]!)
        case .unliked(let user, let post):
            self.posts[post]?.likers.remove(self.names[user]!)
        }
    }

    func stored(_ id: UInt64) -> StoredPost? {
        guard let post = self.posts[id], !post.deleted else { return nil }
        return StoredPost(id: id, author: post.author, body: post.body, likes: post.likers.count)
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

    /// Live posts by `authors` newer than `after` and older than `below`, oldest first.
    func newer(authors: [String], after: UInt64, below: UInt64, limit: Int) -> [FeedEntry] {
        let wanted = Set(authors)
        return self.posts.filter { $0.key > after && $0.key < below && wanted.contains($0.value.author) && !$0.value.deleted }
            .keys.sorted().prefix(limit).map { self.entry($0) }
    }

    func entry(_ id: UInt64) -> FeedEntry {
        let post = self.posts[id]!
        return FeedEntry(id: id, author: post.author, createdMilliseconds: PostID.createdMilliseconds(id), body: post.body)
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
    var engine: FeedEngine
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
        self.engine = FeedEngine(configuration: configuration)
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
        // Users the engine numbered differently: mutations name them by the new numbers.
        self.store.names = Dictionary(uniqueKeysWithValues: self.store.users.map { (self.engine.number(of: $0)!, $0) })
        if let warm {
            let newest = self.store.newest(limit: warm)
            let from = newest.count == warm ? newest.last!.id : 0
            for (author, posts) in Dictionary(grouping: newest, by: \.author) {
                self.engine.installRecent(author: author, posts: posts, from: from, below: self.baseline.maxPostID + 1)
            }
            self.engine.lowerRecentFloors(to: from, whereAtMost: self.baseline.maxPostID + 1)
        }
    }

    /// Runs a command, answering its store faults as the server does.
    func faulting<Result>(_ body: (inout FeedEngine) throws(FeedError) -> Result) throws(FeedError) -> Result {
        for _ in 0..<4 {
            do throws(FeedError) {
                let result = try body(&self.engine)
                self.journalMutations()
                return result
            } catch .notInMemory(let fault) {
                self.faults += 1
                switch fault {
                case .post(let id), .likers(let id):
                    guard let post = self.store.stored(id) else { throw .noSuchPost }  // the server's answer for a missing post
                    self.engine.installPost(post, now: self.now)
                    if case .likers = fault {
                        self.engine.installLikers(post: id, likers: Array(self.store.posts[id]!.likers), now: self.now)
                    }
                case .postCount(let user):
                    self.engine.installPostCount(user: user, count: self.store.postCount(user, baseline: self.baseline))
                }
            }
        }
        preconditionFailure("a fault answered three times")
    }

    /// Reads that went on in the store, and store faults answered, in all.
    var continuations = 0
    var faults = 0

    /// A read completed from the store, as the server completes it.
    func complete(_ collector: FeedEntryCollector, _ continuation: StoreContinuation?) -> [FeedEntry] {
        var entries = collector.entries
        for (index, id) in collector.unresolved {
            entries[index] = self.engine.isDeleted(id) ? nil : self.store.stored(id).map { self.store.entry($0.id) }
        }
        var result = entries.compactMap { $0 }.map { entry -> FeedEntry in
            var entry = entry
            if entry.body == nil { entry.body = self.store.posts[entry.id]?.body }
            return entry
        }
        if let continuation {
            self.continuations += 1
            let authors = continuation.authors.map { self.engine.name(of: $0) }
            let older = self.store.older(authors: authors, below: continuation.before, limit: continuation.storeLimit)
            result += continuation.merged(store: older, isDeleted: { self.engine.isDeleted($0) }).map { entry in
                var entry = entry
                if entry.body == nil { entry.body = self.store.posts[entry.id]?.body }
                return entry
            }
        }
        return result
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

    func read(_ user: String, count: Int, before: UInt64? = nil) -> [FeedEntry] {
        var collector = FeedEntryCollector()
        let continuation = self.engine.read(user: user, count: count, before: before, now: self.now, into: &collector)
        return self.complete(collector, continuation)
    }

    /// FEED.READ … AFTER, completed from the store as the server does.
    func readAfter(_ user: String, after: UInt64, count: Int) -> [FeedEntry] {
        let (entries, catchUp) = self.engine.readAfter(user: user, after: after, count: count, now: self.now)
        guard let catchUp else { return self.filled(entries) }
        precondition(entries.isEmpty)
        self.continuations += 1
        let authors = catchUp.authors.map { self.engine.name(of: $0) }
        let rows = self.store.newer(authors: authors, after: catchUp.after, below: catchUp.below, limit: catchUp.storeLimit)
        return self.filled(catchUp.merged(store: rows, isDeleted: { self.engine.isDeleted($0) }))
    }

    private func filled(_ entries: [FeedEntry]) -> [FeedEntry] {
        entries.map { entry in
            var entry = entry
            if entry.body == nil { entry.body = self.store.posts[entry.id]?.body }
            return entry
        }
    }

    func posts(_ author: String, count: Int, before: UInt64? = nil) -> [FeedEntry] {
        var collector = FeedEntryCollector()
        let continuation = self.engine.posts(author: author, count: count, before: before, into: &collector)
        return self.complete(collector, continuation)
    }

    func get(_ ids: [UInt64]) -> [FeedEntry?] {
        var collector = FeedEntryCollector()
        self.engine.get(ids, into: &collector)
        var entries = collector.entries
        for (index, id) in collector.unresolved {
            entries[index] = self.engine.isDeleted(id) ? nil : self.store.stored(id).map { self.store.entry($0.id) }
        }
        return entries.map { entry in
            guard var entry, entry.body == nil else { return entry }
            entry.body = self.store.posts[entry.id]?.body
            return entry
        }
    }
}

/// The engine numbers mutations as the journal does.
func expectJournal(_ engineSequence: UInt64, _ journaled: UInt64) {
    precondition(engineSequence == journaled, "engine sequence \(engineSequence) != journaled \(journaled)")
}
