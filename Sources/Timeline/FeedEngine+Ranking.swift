import DequeModule

/// The ranking a reader's first ranked page took (ordered as far as pages
/// have read it). PAGE tokens walk it, so pages neither repeat nor skip
/// while likes and posts arrive.
struct RankedSnapshot: Sendable {
    var generation: UInt64
    var takenAt: Int64
    var ranking: Ranking
}

/// What a first ranked page ranks (`FeedEngine.rankInput`), and the
/// weights and time it is ranked with: the candidates as memory had them,
/// and copies of what the reader's affinity needs (whom they follow, their
/// interactions), so that numbering the authors and weighing affinity run
/// outside the engine's lock with the scoring. A class: it is handed
/// from the lock to the ranking and back whole, each a reference (as a
/// struct every hand-off copied its arrays' and sets' references one by one).
public final class RankInput: Sendable {
    /// Nil for a reader memory does not know: an empty page.
    let user: UInt32?
    let candidates: [RawCandidate]
    let following: FollowSet
    let interactions: [UInt32: AffinityCounts]?
    let weights: RankWeights
    let now: Int64

    init(
        user: UInt32?, candidates: [RawCandidate], following: FollowSet, interactions: [UInt32: AffinityCounts]?,
        weights: RankWeights, now: Int64
    ) {
        self.user = user
        self.candidates = candidates
        self.following = following
        self.interactions = interactions
        self.weights = weights
        self.now = now
    }

    /// A candidate as the engine's lock copies it out: its author as the
    /// engine numbers users, the counts of the post it shows.
    struct RawCandidate: Sendable {
        var id: UInt64
        var author: UInt32
        var likes: UInt32
        var replies: UInt32
        var reposts: UInt32
    }

    /// The candidates with their authors numbered 0… (as `Ranker` wants
    /// them) and each author's affinity, weighed once per author.
    func scored() -> (candidates: [RankCandidate], authors: Int) {
        guard let user = self.user else { return ([], 0) }
        var authors = AuthorSlots(expected: Swift.min(self.candidates.count, 256))
        var ranked: [RankCandidate] = []
        ranked.reserveCapacity(self.candidates.count)
        for candidate in self.candidates {
            let slot = authors.slot(candidate.author) {
                FeedEngine.affinity(
                    user, candidate.author, following: self.following, interactions: self.interactions, weights: self.weights,
                    now: self.now)
            }
            ranked.append(
                RankCandidate(
                    id: candidate.id, author: slot.number, createdMilliseconds: PostID.createdMilliseconds(candidate.id),
                    affinity: slot.affinity, likes: Int(candidate.likes), replies: Int(candidate.replies),
                    reposts: Int(candidate.reposts)))
        }
        return (ranked, authors.count)
    }

    /// The ranking, ordered through the first page of `count`; pure, so
    /// it needs no lock.
    public func rank(count: Int) -> Ranking {
        let (candidates, authors) = self.scored()
        var ranking = Ranker.ranking(candidates, authors: authors, weights: self.weights, now: self.now)
        ranking.order(through: count)
        return ranking
    }
}

/// One ranked page: its entries' ids with their factors, and the next
/// page's token ("0" when there is none).
public struct RankedSlice: Sendable {
    public var next: String
    public var entries: [(id: UInt64, factors: RankFactors)]

    public init(next: String, entries: [(id: UInt64, factors: RankFactors)]) {
        self.next = next
        self.entries = entries
    }
}

/// The ranked feed (docs/adr/0013-ranked-feed.md): the newest
/// `rankWeights.candidates` entries of the chronological feed, scored by
/// `Ranker`, with the reader's affinity for each author kept here.
extension FeedEngine {
    // MARK: Affinity

    /// The reader's affinity for an author at `now`: the follow base when
    /// the reader follows the author (or is the author), plus their decayed
    /// interactions with the author's posts.
    func affinity(_ reader: UInt32, _ author: UInt32, now: Int64) -> Double {
        Self.affinity(
            reader, author, following: self.following[Int(reader)], interactions: self.affinities[reader],
            weights: self.rankWeights, now: now)
    }

    /// The same with whom the reader follows and their interactions looked
    /// up already (once per read, not once per author): a first ranked
    /// page weighs it outside the lock, from copies.
    @inline(__always)
    static func affinity(
        _ reader: UInt32, _ author: UInt32, following: FollowSet, interactions: [UInt32: AffinityCounts]?,
        weights: RankWeights, now: Int64
    ) -> Double {
        var value = 0.0
        if author == reader || following.contains(author) { value += weights.followAffinity }
        if let interactions, !interactions.isEmpty, let counts = interactions[author] {
            value += counts.weighted(weights, now: now)
        }
        return value
    }

    /// The same by name (tests, INFO); 0 for unknown users.
    public func affinity(of reader: String, for author: String, now: Int64) -> Double {
        guard let reader = self.numbers[reader], let author = self.numbers[author] else { return 0 }
        return self.affinity(reader, author, now: now)
    }

    /// What memory holds of a reader's interest in an author.
    public func affinityCounts(of reader: String, for author: String) -> AffinityCounts? {
        guard let reader = self.numbers[reader], let author = self.numbers[author] else { return nil }
        return self.affinities[reader]?[author]
    }

    /// The reader liked, replied to or reposted a post of the author's
    /// (one of their own: nothing). A table at `affinityAuthors` first
    /// forgets its weakest author at `now` (ties: the name that sorts first).
    mutating func noteInteraction(_ kind: Interaction, by user: UInt32, with author: UInt32, now: Int64) {
        guard user != author else { return }
        let weights = self.rankWeights
        let halfLife = weights.affinityHalfLifeMilliseconds
        var counts = self.affinities[user]?[author]?.decayed(to: now, halfLife: halfLife) ?? AffinityCounts(at: now)
        if self.affinities[user]?[author] == nil {
            while let table = self.affinities[user], table.count >= Swift.max(weights.affinityAuthors, 1) {
                let weakest = table.min { a, b in
                    let (x, y) = (a.value.weighted(weights, now: now), b.value.weighted(weights, now: now))
                    return x != y ? x < y : self.names[Int(a.key)] < self.names[Int(b.key)]
                }!.key
                self.affinities[user]![weakest] = nil
                self.usage.affinityEntries -= 1
                self.record(.affinity(user: user, author: weakest, counts: nil))
            }
            self.usage.affinityEntries += 1
        }
        switch kind {
        case .like: counts.likes += 1
        case .reply: counts.replies += 1
        case .repost: counts.reposts += 1
        }
        self.affinities[user, default: [:]][author] = counts
        self.record(.affinity(user: user, author: author, counts: counts))
    }

    /// Start-up: a reader's interest in an author, as the store has it.
    public mutating func restoreAffinity(user: UInt32, author: UInt32, counts: AffinityCounts) {
        guard Int(user) < self.names.count, Int(author) < self.names.count, user != author else { return }
        if self.affinities[user]?[author] == nil { self.usage.affinityEntries += 1 }
        self.affinities[user, default: [:]][author] = counts
    }

    // MARK: Ranked reads

    /// FEED.READ … RANKED. Without `page`, ranks the reader's newest
    /// candidates and keeps that ranking for the pages after it; nil when
    /// memory cannot tell the candidates (older ones are the store's, or a
    /// record was evicted): the caller reads them with the store and hands
    /// them to `rank(user:entries:count:now:)`. With `page`, the next page
    /// of the ranking a token names.
    public mutating func rankedSlice(user name: String, count: Int, page token: String?, now: Int64) throws(FeedError)
        -> RankedSlice?
    {
        if let token {
            self.expireRankedSnapshots(now: now)
            let (generation, offset) = try Self.parsePageToken(token)
            guard let user = self.numbers[name], let snapshot = self.rankedSnapshots[user], snapshot.generation == generation,
                offset <= snapshot.ranking.count
            else { throw .pageTokenExpired }
            self.counters.rankedPages += 1
            return self.slice(user, from: offset, count: count)
        }
        guard let input = self.rankInput(user: name, now: now) else { return nil }
        return self.keepRanking(input, input.rank(count: count), count: count)
    }

    /// A first ranked page in three steps, so that the ranking itself can
    /// run outside the engine's lock (the server does): what it ranks,
    /// from memory (nil when memory cannot tell: see `rankedSlice`); then
    /// `RankInput.rank(count:)`, pure; then `keepRanking`, which keeps it
    /// as the reader's snapshot. What changes in between (likes, posts)
    /// the snapshot does not see, as it would not after its first page.
    public mutating func rankInput(user name: String, now: Int64) -> RankInput? {
        if let user = self.numbers[name] { self.prepareRead(user, now: now) }
        var notes = self.takeReadNotes()
        let input = self.rankInput(name, now: now, notes: &notes)
        self.apply(readNotes: &notes)
        return input
    }

    /// `rankInput(user:now:)` on a borrowed engine, for readers
    /// `readsBorrowed(user:)` allows, with what the read changes left in
    /// `notes` for `apply(_:)`.
    public func rankInput(user name: String, now: Int64, notes: inout ReadNotes) -> RankInput? {
        precondition(self.readsBorrowed(user: name), "a borrowed read needs the reader's timeline, and fixed celebrities")
        return self.rankInput(name, now: now, notes: &notes)
    }

    private func rankInput(_ name: String, now: Int64, notes: inout ReadNotes) -> RankInput? {
        guard let user = self.numbers[name] else {
            return RankInput(user: nil, candidates: [], following: FollowSet(), interactions: nil, weights: self.rankWeights, now: now)
        }
        guard let candidates = self.rankCandidates(user, now: now, notes: &notes) else { return nil }
        return RankInput(
            user: user, candidates: candidates, following: self.following[Int(user)], interactions: self.affinities[user],
            weights: self.rankWeights, now: now)
    }

    /// Keeps `ranking` (of `input`) as the reader's snapshot: its first page.
    public mutating func keepRanking(_ input: RankInput, _ ranking: consuming Ranking, count: Int) -> RankedSlice {
        guard let user = input.user else { return RankedSlice(next: "0", entries: []) }
        return self.takeSnapshot(user, ranking, count: count, now: input.now)
    }

    /// `keepRanking` on a borrowed engine: the snapshot waits in `notes`
    /// until `apply(_:)` keeps it (before any page after this one can be
    /// asked for: pages are read exclusively).
    public func keepRanking(_ input: RankInput, _ ranking: consuming Ranking, count: Int, notes: inout ReadNotes) -> RankedSlice {
        guard let user = input.user else { return RankedSlice(next: "0", entries: []) }
        return self.snapshot(user, ranking, count: count, now: input.now, notes: &notes)
    }

    /// What a first ranked page ranks: the candidates, each with the
    /// counts of the post it shows (a repost's original); nil when memory
    /// cannot tell them (see `rankedSlice`).
    func rankCandidates(_ user: UInt32, now: Int64, notes: inout ReadNotes) -> [RankInput.RawCandidate]? {
        let (live, continuation) = self.shownEntries(
            user, count: self.rankWeights.candidates, before: nil, now: now, raw: nil, notes: &notes)
        guard continuation == nil else { return nil }
        var candidates: [RankInput.RawCandidate] = []
        candidates.reserveCapacity(live.count)
        for (id, record) in live {
            guard let record else { return nil }
            var shown = record
            if record.kind == .repost {
                guard let original = self.posts[record.link] else { return nil }
                shown = original
            }
            candidates.append(
                RankInput.RawCandidate(
                    id: id, author: record.author, likes: shown.likes, replies: shown.replies, reposts: shown.reposts))
        }
        return candidates
    }

    /// A first ranked page from candidates the store helped find (the
    /// chronological feed's newest `rankWeights.candidates` entries): the
    /// slice, and its entries with their factors.
    public mutating func rank(user name: String, entries: [FeedEntry], count: Int, now: Int64) -> (RankedSlice, [FeedEntry]) {
        guard let user = self.numbers[name] else { return (RankedSlice(next: "0", entries: []), []) }
        var authors = AuthorSlots(expected: Swift.min(entries.count, 256))
        var unknown: [String: UInt32] = [:]
        let candidates = entries.map { entry in
            let number = self.numbers[entry.author]
            let slot: (number: UInt32, affinity: Double)
            if let number {
                slot = authors.slot(number) { self.affinity(user, number, now: now) }
            } else {
                // Not a user memory knows (cannot happen for a feed's authors): no affinity.
                let key = unknown[entry.author] ?? UInt32.max - UInt32(unknown.count)
                unknown[entry.author] = key
                slot = authors.slot(key) { 0 }
            }
            return RankCandidate(
                id: entry.id, author: slot.number, createdMilliseconds: entry.createdMilliseconds, affinity: slot.affinity,
                likes: entry.meta.likes, replies: entry.meta.replies, reposts: entry.meta.reposts)
        }
        let ranking = Ranker.ranking(candidates, authors: authors.count, weights: self.rankWeights, now: now)
        let slice = self.takeSnapshot(user, consume ranking, count: count, now: now)
        let byID = Dictionary(entries.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let page = slice.entries.map { ranked in
            var entry = byID[ranked.id]!
            entry.meta.rank = ranked.factors
            return entry
        }
        return (slice, page)
    }

    /// Writes a ranked page's entries, each with its factors: a post
    /// deleted since the ranking is left out; one memory no longer
    /// describes is unresolved (the store fills it in, or leaves it out).
    public mutating func writeRanked<Writer: FeedEntryWriter>(_ slice: RankedSlice, into writer: inout Writer) {
        var notes = self.takeReadNotes()
        self.writeRanked(slice, into: &writer, notes: &notes)
        self.apply(readNotes: &notes)
    }

    /// `writeRanked` on a borrowed engine, what it changes left in `notes`.
    public func writeRanked<Writer: FeedEntryWriter>(_ slice: RankedSlice, into writer: inout Writer, notes: inout ReadNotes) {
        let shown = slice.entries.compactMap { entry -> (id: UInt64, factors: RankFactors, record: PostRecord?)? in
            let record = self.posts[entry.id]
            guard record != nil || (self.hasStore && !self.deleted.contains(entry.id)) else { return nil }
            return (entry.id, entry.factors, record)
        }
        writer.beginEntries(count: shown.count)
        self.prefetchBytes(of: shown.lazy.map(\.record))
        for (id, factors, record) in shown {
            if let record {
                self.write(id, record, rank: factors, into: &writer, notes: &notes)
            } else {
                writer.unresolvedEntry(id: id)
            }
        }
    }

    /// Keeps `ranking` as the reader's snapshot (consumed: the snapshot
    /// orders it further in place, with no copy) and gives its first page.
    private mutating func takeSnapshot(_ user: UInt32, _ ranking: consuming Ranking, count: Int, now: Int64) -> RankedSlice {
        var notes = self.takeReadNotes()
        let slice = self.snapshot(user, ranking, count: count, now: now, notes: &notes)
        self.apply(readNotes: &notes)
        return slice
    }

    /// The reader's new snapshot, its first page ordered, left in `notes`
    /// for `keep(_:for:)`.
    private func snapshot(
        _ user: UInt32, _ ranking: consuming Ranking, count: Int, now: Int64, notes: inout ReadNotes
    ) -> RankedSlice {
        // Unique in this process (each notes' lane its own), and past any
        // earlier process's (the clock moves on).
        let generation = notes.nextGeneration(after: Swift.max(self.rankGeneration, UInt64(Swift.max(now, 0)) &* 1000))
        var snapshot = RankedSnapshot(generation: generation, takenAt: now, ranking: ranking)
        let slice = Self.slice(of: &snapshot, from: 0, count: count)
        notes.snapshots.append((user, snapshot))
        return slice
    }

    /// Keeps a snapshot a read took (`apply(_:)`), unless the reader has a
    /// newer one (two first pages at once: the later ranking wins).
    mutating func keep(_ snapshot: RankedSnapshot, for user: UInt32) {
        self.rankGeneration = Swift.max(self.rankGeneration, snapshot.generation)
        self.counters.rankedReads += 1
        if let old = self.rankedSnapshots[user] {
            guard old.generation < snapshot.generation else { return }
            self.usage.rankedEntries -= old.ranking.count
        }
        self.rankedSnapshots[user] = snapshot
        self.usage.rankedEntries += snapshot.ranking.count
        self.rankedSnapshotOrder.append((user, snapshot.generation))
        self.expireRankedSnapshots(now: snapshot.takenAt)
    }

    /// A page of the reader's snapshot (which exists), ordering it that far first.
    private mutating func slice(_ user: UInt32, from offset: Int, count: Int) -> RankedSlice {
        Self.slice(of: &self.rankedSnapshots[user]!, from: offset, count: count)
    }

    /// A page of `snapshot`, ordering it that far first.
    private static func slice(of snapshot: inout RankedSnapshot, from offset: Int, count: Int) -> RankedSlice {
        snapshot.ranking.order(through: offset + count)
        let end = Swift.min(offset + count, snapshot.ranking.count)
        let entries = (offset..<end).map { position in
            let entry = snapshot.ranking.entry(at: position)
            return (id: entry.id, factors: entry.factors)
        }
        return RankedSlice(next: end < snapshot.ranking.count ? "\(snapshot.generation)-\(end)" : "0", entries: entries)
    }

    /// `generation-offset`, both decimal.
    static func parsePageToken(_ token: String) throws(FeedError) -> (generation: UInt64, offset: Int) {
        let parts = token.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let generation = UInt64(parts[0]), let offset = Int(parts[1]), offset >= 0 else {
            throw .invalidPageToken
        }
        return (generation, offset)
    }

    /// Lets go of snapshots past their time, and of the oldest past the most kept.
    mutating func expireRankedSnapshots(now: Int64) {
        let weights = self.rankWeights
        while let first = self.rankedSnapshotOrder.first {
            guard let snapshot = self.rankedSnapshots[first.user], snapshot.generation == first.generation else {
                self.rankedSnapshotOrder.removeFirst()  // replaced by a newer one
                continue
            }
            guard now - snapshot.takenAt >= weights.pageTTLMilliseconds || self.rankedSnapshots.count > weights.maxSnapshots
            else { break }
            self.dropRankedSnapshot(first.user)
            self.rankedSnapshotOrder.removeFirst()
        }
        // Entries of replaced snapshots wait behind live ones: keep the queue near the snapshots' count.
        if self.rankedSnapshotOrder.count > 2 * self.rankedSnapshots.count + 64 {
            self.rankedSnapshotOrder = Deque(
                self.rankedSnapshotOrder.filter { self.rankedSnapshots[$0.user]?.generation == $0.generation })
        }
    }

    mutating func dropRankedSnapshot(_ user: UInt32) {
        guard let snapshot = self.rankedSnapshots.removeValue(forKey: user) else { return }
        self.usage.rankedEntries -= snapshot.ranking.count
    }
}

/// A read's authors numbered 0, 1, 2 … in order of appearance, each with
/// its affinity, computed once per author rather than once per entry. An
/// open-addressing table of its own (a ranked read asks it once per
/// candidate; a dictionary's SipHash and probes were ~9% of the read).
struct AuthorSlots {
    /// Per bucket: the author, and its number + 1 (0: empty).
    private var authors: [UInt32]
    private var numbers: [UInt32]
    private(set) var affinities: [Double] = []
    var count: Int { self.affinities.count }

    init(expected: Int) {
        var buckets = 16
        while buckets < 2 * expected { buckets *= 2 }
        self.authors = Array(repeating: 0, count: buckets)
        self.numbers = Array(repeating: 0, count: buckets)
    }

    @inline(__always)
    private static func home(_ author: UInt32, buckets: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(author) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - buckets.trailingZeroBitCount))
    }

    mutating func slot(_ author: UInt32, affinity: () -> Double) -> (number: UInt32, affinity: Double) {
        let mask = self.numbers.count - 1
        var index = Self.home(author, buckets: self.numbers.count)
        while self.numbers[index] != 0 {
            if self.authors[index] == author {
                let number = self.numbers[index] - 1
                return (number, self.affinities[Int(number)])
            }
            index = (index + 1) & mask
        }
        let number = UInt32(self.affinities.count)
        let value = affinity()
        self.authors[index] = author
        self.numbers[index] = number + 1
        self.affinities.append(value)
        if 2 * self.affinities.count > self.numbers.count { self.grow() }
        return (number, value)
    }

    private mutating func grow() {
        let (authors, numbers) = (self.authors, self.numbers)
        self.authors = Array(repeating: 0, count: 2 * authors.count)
        self.numbers = Array(repeating: 0, count: 2 * numbers.count)
        let mask = self.numbers.count - 1
        for bucket in numbers.indices where numbers[bucket] != 0 {
            var index = Self.home(authors[bucket], buckets: self.numbers.count)
            while self.numbers[index] != 0 { index = (index + 1) & mask }
            self.authors[index] = authors[bucket]
            self.numbers[index] = numbers[bucket]
        }
    }
}
