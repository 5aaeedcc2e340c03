/// What reads leave for the engine to record: the reader's last-active
/// time, the eviction clock bits of what they read, and the read counters.
///
/// A read changes nothing a reply shows; this is all it writes. Kept apart,
/// a read runs on an engine it only borrows (`FeedEngine.read(…notes:)`),
/// so the server can let reads run side by side under a shared lock and
/// hand their notes to the engine (`FeedEngine.apply(_:)`) at the start of
/// its next exclusive turn, before anything else changes it. Applied so,
/// the engine ends as if each read had written them itself: the values are
/// the latest times, set bits and sums, whatever the order of the reads.
public struct ReadNotes: Sendable {
    /// Readers and when they read.
    var readers: [(user: UInt32, at: Int64)] = []
    /// Pulled authors whose recent lists reads merged, when their bit was clear.
    var recentReferenced: [UInt32] = []
    /// Body slots reads showed, when their bit was clear.
    var bodiesReferenced: [PostBodyCache.Slot] = []
    /// First ranked pages' rankings, to keep as their readers' snapshots.
    var snapshots: [(user: UInt32, snapshot: RankedSnapshot)] = []
    var counters = Counters()
    /// Snapshot generations these notes hand out are `lane` modulo `lanes`
    /// (notes used side by side get different lanes), and increase.
    let lane: UInt64
    let lanes: UInt64
    private var lastGeneration: UInt64 = 0

    struct Counters: Sendable {
        var reads = 0
        var readsWithCelebrityMerge = 0
        var celebrityListsMerged = 0
        var entriesFiltered = 0
        var repostsCollapsed = 0
        var storeContinuations = 0
        var bodyHits = 0
        var bodyMisses = 0
    }

    /// Notes for one reader at a time (the engine's own), or one of
    /// `lanes` sets used side by side, each with its own `lane`.
    public init(lane: Int = 0, lanes: Int = 1) {
        precondition(lanes > 0 && (0..<lanes).contains(lane))
        self.lane = UInt64(lane)
        self.lanes = UInt64(lanes)
    }

    /// What waits to be applied, in reads (a snapshot counts as many: it
    /// holds a ranking). The server bounds this.
    public var count: Int { self.readers.count + 16 * self.snapshots.count }

    /// A snapshot generation above `floor` and every one these notes gave.
    mutating func nextGeneration(after floor: UInt64) -> UInt64 {
        var generation = Swift.max(floor, self.lastGeneration) + 1
        generation += (self.lane + self.lanes - generation % self.lanes) % self.lanes
        self.lastGeneration = generation
        return generation
    }

    /// Nothing to apply.
    public var isEmpty: Bool {
        self.readers.isEmpty && self.recentReferenced.isEmpty && self.bodiesReferenced.isEmpty && self.snapshots.isEmpty
            && self.counters.bodyHits == 0 && self.counters.bodyMisses == 0 && self.counters.storeContinuations == 0
    }
}

extension FeedEngine {
    /// Records what reads noted (see `ReadNotes`) and empties `notes`,
    /// keeping its room for the next reads.
    public mutating func apply(_ notes: inout ReadNotes) {
        for (user, at) in notes.readers {
            self.lastActive[Int(user)] = Swift.max(self.lastActive[Int(user)], at)
            self.users[Int(user)].timelineReferenced = true
        }
        for author in notes.recentReferenced { self.users[Int(author)].recentReferenced = true }
        self.bodies.markReferenced(notes.bodiesReferenced, hits: notes.counters.bodyHits, misses: notes.counters.bodyMisses)
        for (user, snapshot) in notes.snapshots { self.keep(snapshot, for: user) }
        let noted = notes.counters
        self.counters.reads += noted.reads
        self.counters.readsWithCelebrityMerge += noted.readsWithCelebrityMerge
        self.counters.celebrityListsMerged += noted.celebrityListsMerged
        self.counters.entriesFiltered += noted.entriesFiltered
        self.counters.repostsCollapsed += noted.repostsCollapsed
        self.counters.storeContinuations += noted.storeContinuations
        notes.readers.removeAll(keepingCapacity: true)
        notes.recentReferenced.removeAll(keepingCapacity: true)
        notes.bodiesReferenced.removeAll(keepingCapacity: true)
        notes.snapshots.removeAll(keepingCapacity: true)
        notes.counters = ReadNotes.Counters()
    }

    /// Whether `read(user:count:before:now:into:notes:)` can serve this
    /// reader on a borrowed engine: not when their timeline must be rebuilt
    /// first, nor with `--celebrity-threshold auto` (which weighs every read
    /// as it happens). An unknown reader can (their feed is empty).
    public func readsBorrowed(user name: String) -> Bool {
        guard !self.configuration.celebrityAuto else { return false }
        guard let user = self.numbers[name] else { return true }
        return self.timelines[Int(user)] != nil
    }
}
