import Foundation

/// The ranked feed's weights (docs/adr/0013-ranked-feed.md). Every one is a
/// server flag and settable with CONFIG SET; the defaults are the product's.
///
/// score = recency × affinity × engagement × diversity, where
/// - recency = 0.5 ^ (age / halfLife), age from the entry's own time (a
///   repost's: when it was reposted);
/// - affinity = followAffinity + the reader's decayed likes, replies and
///   reposts of the entry author's posts, each times its weight
///   (`AffinityCounts`);
/// - engagement = (1 + likes·likeEngagement + replies·replyEngagement +
///   reposts·repostEngagement) ^ engagementExponent, counts of the post
///   the entry shows (a repost's original);
/// - diversity = (1 − diversityFloor) · diversityDecay ^ n + diversityFloor
///   for the entry that is its author's n-th (from 0) in the order before
///   it (Twitter's Home Mixer author diversity).
public struct RankWeights: Sendable, Equatable {
    /// How many of the newest chronological entries are ranked.
    public var candidates = 500
    public var halfLifeMilliseconds: Int64 = 6 * 3600 * 1000
    /// How fast a reader's interest in an author fades.
    public var affinityHalfLifeMilliseconds: Int64 = 14 * 24 * 3600 * 1000
    /// The affinity every followed author (and the reader) starts from.
    public var followAffinity = 1.0
    public var likeAffinity = 1.0
    public var replyAffinity = 2.0
    public var repostAffinity = 3.0
    public var likeEngagement = 1.0
    public var replyEngagement = 2.0
    public var repostEngagement = 3.0
    public var engagementExponent = 0.5
    public var diversityDecay = 0.5
    public var diversityFloor = 0.25
    /// Most authors a reader's affinity remembers; the weakest goes first.
    public var affinityAuthors = 100
    /// How long a ranked snapshot (and its page tokens) lasts.
    public var pageTTLMilliseconds: Int64 = 10 * 60 * 1000
    /// Most snapshots kept at once; the oldest goes first.
    public var maxSnapshots = 4096

    public init() {}

    /// 0.5 ^ (age / halfLife); 1 for an entry from the future.
    public static func halfLifeDecay(age: Int64, halfLife: Int64) -> Double {
        guard age > 0 else { return 1 }
        return exp2(-Double(age) / Double(Swift.max(halfLife, 1)))
    }

    public func recency(createdMilliseconds: Int64, now: Int64) -> Double {
        Self.halfLifeDecay(age: now - createdMilliseconds, halfLife: self.halfLifeMilliseconds)
    }

    public func engagement(likes: Int, replies: Int, reposts: Int) -> Double {
        if likes <= 0 && replies <= 0 && reposts <= 0 { return 1 }  // most posts: 1 ^ anything
        let raw = 1 + Double(Swift.max(likes, 0)) * self.likeEngagement + Double(Swift.max(replies, 0)) * self.replyEngagement
            + Double(Swift.max(reposts, 0)) * self.repostEngagement
        return self.engagementExponent == 0.5 ? raw.squareRoot() : pow(raw, self.engagementExponent)
    }

    /// The multiplier of an author's n-th entry (n from 0).
    public func diversity(_ n: Int) -> Double {
        (1 - self.diversityFloor) * pow(self.diversityDecay, Double(n)) + self.diversityFloor
    }
}

/// Why an entry ranks where it does (WITHMETA).
public struct RankFactors: Sendable, Equatable {
    public var score: Double
    public var recency: Double
    public var affinity: Double
    public var engagement: Double
    public var diversity: Double

    public init(score: Double, recency: Double, affinity: Double, engagement: Double, diversity: Double) {
        self.score = score
        self.recency = recency
        self.affinity = affinity
        self.engagement = engagement
        self.diversity = diversity
    }
}

/// What ranking needs of one candidate.
public struct RankCandidate: Sendable, Equatable {
    public var id: UInt64
    /// The author, as a number below the count of authors given to
    /// `Ranker.rank` (entries by the same author share it).
    public var author: UInt32
    public var createdMilliseconds: Int64
    public var affinity: Double
    public var likes: Int
    public var replies: Int
    public var reposts: Int

    public init(id: UInt64, author: UInt32, createdMilliseconds: Int64, affinity: Double, likes: Int, replies: Int, reposts: Int) {
        self.id = id
        self.author = author
        self.createdMilliseconds = createdMilliseconds
        self.affinity = affinity
        self.likes = likes
        self.replies = replies
        self.reposts = reposts
    }
}

/// The ranking itself: pure, deterministic for given candidates, weights and time.
public enum Ranker {
    /// The candidates' positions, best first, with their factors (see
    /// `ranking`, ordered all the way).
    public static func rank(
        _ candidates: [RankCandidate], authors: Int, weights: RankWeights, now: Int64
    ) -> [(index: Int, factors: RankFactors)] {
        var ranking = Self.ranking(candidates, authors: authors, weights: weights, now: now)
        ranking.order(through: ranking.count)
        return (0..<ranking.count).map { position in
            let entry = ranking.entry(at: position)
            return (entry.index, entry.factors)
        }
    }

    /// The candidates scored: ordered (ties: newer first), then each
    /// author's n-th entry in that order is multiplied by `diversity(n)`
    /// and the whole is ordered again, so scores never rise down the
    /// list. Authors are numbered `0..<authors`.
    ///
    /// An author's n-th entry in the first order is their n-th by the same
    /// key, so only each author's own entries are ordered for diversity
    /// (counting sort by author, then a few entries each); the final order
    /// is made only as far as pages read it (`Ranking.order(through:)`).
    public static func ranking(_ candidates: [RankCandidate], authors: Int, weights: RankWeights, now: Int64) -> Ranking {
        let count = candidates.count
        // Sorted as (score, id, index): small, and no lookups while sorting.
        var keys: [RankKey] = []
        keys.reserveCapacity(count)
        var recency: [Double] = []
        var affinity: [Double] = []
        var engagement: [Double] = []
        recency.reserveCapacity(count)
        affinity.reserveCapacity(count)
        engagement.reserveCapacity(count)
        // Where each author's entries start in `byAuthor` (counting sort).
        var starts = [Int32](repeating: 0, count: authors + 1)
        for (index, candidate) in candidates.enumerated() {
            let r = weights.recency(createdMilliseconds: candidate.createdMilliseconds, now: now)
            let e = weights.engagement(likes: candidate.likes, replies: candidate.replies, reposts: candidate.reposts)
            recency.append(r)
            affinity.append(candidate.affinity)
            engagement.append(e)
            keys.append(RankKey(score: r * candidate.affinity * e, id: candidate.id, index: Int32(index)))
            starts[Int(candidate.author) + 1] += 1
        }
        for author in 0..<authors { starts[author + 1] += starts[author] }
        var diversity = [Double](repeating: 1, count: count)
        var byAuthor = [RankKey](repeating: RankKey(score: 0, id: 0, index: 0), count: count)
        var next = starts
        for key in keys {
            let author = Int(candidates[Int(key.index)].author)
            byAuthor[Int(next[author])] = key
            next[author] += 1
        }
        var multipliers: [Double] = [1]
        byAuthor.withUnsafeMutableBufferPointer { byAuthor in
            for author in 0..<authors where starts[author + 1] - starts[author] > 1 {
                let group = UnsafeMutableBufferPointer(rebasing: byAuthor[Int(starts[author])..<Int(starts[author + 1])])
                RankKey.sort(group)
                for n in 1..<group.count {
                    while multipliers.count <= n { multipliers.append(weights.diversity(multipliers.count)) }
                    let index = Int(group[n].index)
                    diversity[index] = multipliers[n]
                    keys[index].score *= multipliers[n]
                }
            }
        }
        return Ranking(keys: keys, recency: recency, affinity: affinity, engagement: engagement, diversity: diversity)
    }

    /// What the ranking orders by: score, then the newer id first.
    struct RankKey: Sendable {
        var score: Double
        var id: UInt64
        var index: Int32

        @inline(__always)
        static func before(_ a: RankKey, _ b: RankKey) -> Bool {
            a.score != b.score ? a.score > b.score : a.id > b.id
        }

        /// Best first. The standard library's sort, with the comparison
        /// inlined (through a closure; a function reference was not), is an
        /// insertion sort without allocating for an author's few entries.
        static func sort(_ keys: UnsafeMutableBufferPointer<RankKey>) {
            var keys = keys
            keys.sort { Self.before($0, $1) }
        }

        /// Moves the best `k` of `keys` to its front, best first; the rest
        /// follow in no order. A heap of the best so far (the worst of them
        /// on top) that the rest pass through: about one comparison each
        /// for most, where sorting all would take log₂(count). Returns how
        /// many are in order at the front (all, when `k` is a good part of
        /// them and sorting is as cheap).
        @discardableResult
        static func selectBest(_ k: Int, of keys: UnsafeMutableBufferPointer<RankKey>) -> Int {
            guard k > 0 else { return 0 }
            guard k * 4 < keys.count else {
                Self.sort(keys)
                return keys.count
            }
            let heap = UnsafeMutableBufferPointer(rebasing: keys[0..<k])
            func siftDown(_ start: Int) {
                var parent = start
                while true {
                    var worst = parent
                    let left = 2 * parent + 1
                    if left < k && Self.before(heap[worst], heap[left]) { worst = left }
                    if left + 1 < k && Self.before(heap[worst], heap[left + 1]) { worst = left + 1 }
                    if worst == parent { return }
                    heap.swapAt(parent, worst)
                    parent = worst
                }
            }
            for start in stride(from: k / 2 - 1, through: 0, by: -1) { siftDown(start) }
            for index in k..<keys.count where Self.before(keys[index], heap[0]) {
                keys.swapAt(index, 0)
                siftDown(0)
            }
            Self.sort(heap)
            return k
        }
    }
}

/// Scored candidates, put in order only as far as pages read them: the
/// first `ordered` keys are best first and rank above all the rest.
public struct Ranking: Sendable {
    private var keys: [Ranker.RankKey]
    public private(set) var ordered = 0
    private let recency: [Double]
    private let affinity: [Double]
    private let engagement: [Double]
    private let diversity: [Double]

    init(keys: [Ranker.RankKey], recency: [Double], affinity: [Double], engagement: [Double], diversity: [Double]) {
        self.keys = keys
        self.recency = recency
        self.affinity = affinity
        self.engagement = engagement
        self.diversity = diversity
    }

    public var count: Int { self.keys.count }

    /// Orders the first `end` positions (or all, if fewer).
    public mutating func order(through end: Int) {
        let end = Swift.min(end, self.keys.count)
        let ordered = self.ordered
        guard end > ordered else { return }
        let added = self.keys.withUnsafeMutableBufferPointer { keys in
            Ranker.RankKey.selectBest(end - ordered, of: UnsafeMutableBufferPointer(rebasing: keys[ordered...]))
        }
        self.ordered = ordered + added
    }

    /// The candidate at an ordered position: its index among the
    /// candidates, its id and why it ranks there.
    public func entry(at position: Int) -> (index: Int, id: UInt64, factors: RankFactors) {
        precondition(position < self.ordered, "position \(position) of a ranking ordered through \(self.ordered)")
        let key = self.keys[position]
        return (Int(key.index), key.id, self.factors(key))
    }

    private func factors(_ key: Ranker.RankKey) -> RankFactors {
        let index = Int(key.index)
        return RankFactors(
            score: key.score, recency: self.recency[index], affinity: self.affinity[index],
            engagement: self.engagement[index], diversity: self.diversity[index])
    }
}

/// A reader's interest in one author: their likes, replies and reposts of
/// the author's posts, each decayed by the affinity half-life, as of `at`.
public struct AffinityCounts: Sendable, Equatable {
    public var likes: Double
    public var replies: Double
    public var reposts: Double
    public var at: Int64

    public init(likes: Double = 0, replies: Double = 0, reposts: Double = 0, at: Int64) {
        self.likes = likes
        self.replies = replies
        self.reposts = reposts
        self.at = at
    }

    /// The same counts decayed to `now` (never back in time).
    public func decayed(to now: Int64, halfLife: Int64) -> AffinityCounts {
        guard now > self.at else { return self }
        let factor = RankWeights.halfLifeDecay(age: now - self.at, halfLife: halfLife)
        return AffinityCounts(likes: self.likes * factor, replies: self.replies * factor, reposts: self.reposts * factor, at: now)
    }

    /// What the counts add to affinity at `now`.
    public func weighted(_ weights: RankWeights, now: Int64) -> Double {
        let counts = self.decayed(to: now, halfLife: weights.affinityHalfLifeMilliseconds)
        return counts.likes * weights.likeAffinity + counts.replies * weights.replyAffinity
            + counts.reposts * weights.repostAffinity
    }
}

/// The kinds of interaction affinity counts.
public enum Interaction: Sendable {
    case like, reply, repost
}
