/// `--celebrity-threshold auto` (seed 004; Facebook's and Twitter's
/// choice): an author's posts are pulled at read time when pushing them
/// costs more than their followers' reads pay for pulling them, rather than
/// from a follower count.
///
/// Per second, pushing an author's posts costs their posting rate × their
/// followers × the cost of one push; pulling them costs their followers'
/// reads per second × the cost one pulled author adds to a read. Both costs
/// are measured (the server times fan-outs and reads and hands the figures
/// in: `noteFanOutCost`, `noteReadCost`; the engine has no clock), the rates
/// are counts that halve every `celebrityRateHalfLifeMilliseconds`. An author
/// is pulled once pushing costs 1.25× pulling and pushed again below 0.8×
/// (hysteresis, so an author near the line does not flap), re-judged at most
/// once per `celebrityRecheckMilliseconds` (the followers' read rates are a
/// walk over the followers). Each post is pushed or not as its author then
/// stands; the engine's invariants already let an author change sides at
/// any post (see FeedEngine: a pulled author stays merged while their recent
/// list holds an unpushed post), so no post is lost or shown twice.
extension FeedEngine {
    /// What one push and one pulled author in a read cost, in nanoseconds.
    public struct CelebrityCosts: Sendable, Equatable {
        public var pushNanosPerFollower: Double
        public var pullNanosPerRead: Double
        /// A read's cost with no pulled author, to take off the others'.
        var readBaseNanos: Double = 0

        public init(pushNanosPerFollower: Double = 60, pullNanosPerRead: Double = 400) {
            self.pushNanosPerFollower = pushNanosPerFollower
            self.pullNanosPerRead = pullNanosPerRead
        }
    }

    /// A count that halves every `halfLife` milliseconds; its rate per second.
    struct DecayedCount: Sendable {
        var value: Double = 0
        var at: Int64 = 0

        func decayed(to now: Int64, halfLife: Int64) -> Double {
            guard now > self.at, self.value > 0 else { return self.value }
            return self.value * RankWeights.halfLifeDecay(age: now - self.at, halfLife: halfLife)
        }

        mutating func add(now: Int64, halfLife: Int64) {
            self.value = self.decayed(to: now, halfLife: halfLife) + 1
            self.at = Swift.max(self.at, now)
        }

        /// Events per second: a decayed count over the mean life of one event.
        func perSecond(now: Int64, halfLife: Int64) -> Double {
            self.decayed(to: now, halfLife: halfLife) * 0.693_147_180_559_945_3 * 1000 / Double(halfLife)
        }
    }

    /// Auto's state per user (only kept in auto mode).
    struct CelebrityRates: Sendable {
        var reads = DecayedCount()
        var posts = DecayedCount()
        var pulled = false
        var judgedAt: Int64 = .min
    }

    /// Whether the author's next post is pulled rather than pushed.
    func isCelebrity(_ user: UInt32) -> Bool {
        guard self.configuration.celebrityAuto else { return self.followers[Int(user)].count >= self.configuration.celebrityThreshold }
        return self.celebrityRates[Int(user)].pulled
    }

    /// Auto: a read by `user` (their followees' pull costs count it).
    mutating func noteRead(_ user: UInt32, now: Int64) {
        guard self.configuration.celebrityAuto else { return }
        self.celebrityRates[Int(user)].reads.add(now: now, halfLife: self.configuration.celebrityRateHalfLifeMilliseconds)
    }

    /// Auto: `author` posts now; judges, at most once per recheck interval,
    /// which side their posts are on. Returns whether this post is pulled.
    mutating func judgeCelebrity(_ author: UInt32, now: Int64) -> Bool {
        guard self.configuration.celebrityAuto else { return self.isCelebrity(author) }
        let index = Int(author)
        let halfLife = self.configuration.celebrityRateHalfLifeMilliseconds
        self.celebrityRates[index].posts.add(now: now, halfLife: halfLife)
        let rates = self.celebrityRates[index]
        guard rates.judgedAt == .min || now - rates.judgedAt >= self.configuration.celebrityRecheckMilliseconds else {
            return rates.pulled
        }
        self.celebrityRates[index].judgedAt = now
        let followers = self.followers[index]
        var reads = 0.0
        for follower in followers.sorted { reads += self.celebrityRates[Int(follower)].reads.perSecond(now: now, halfLife: halfLife) }
        let push = rates.posts.perSecond(now: now, halfLife: halfLife) * Double(followers.count) * self.celebrityCosts.pushNanosPerFollower
        let pull = reads * self.celebrityCosts.pullNanosPerRead
        let pulled = rates.pulled ? push > 0.8 * pull : push > 1.25 * pull
        if pulled != rates.pulled {
            self.celebrityRates[index].pulled = pulled
            self.celebrityCount += pulled ? 1 : -1
            if pulled { self.counters.celebritiesPulledByCost += 1 } else { self.counters.celebritiesPushedByCost += 1 }
        }
        return pulled
    }

    /// A fan-out took `nanos` for `deliveries` pushes (the server measures it).
    public mutating func noteFanOutCost(nanos: Int64, deliveries: Int) {
        guard deliveries >= 8 else { return }  // a fan-out's fixed part would dominate
        let sample = Double(nanos) / Double(deliveries)
        self.celebrityCosts.pushNanosPerFollower = self.celebrityCosts.pushNanosPerFollower * 0.95 + sample * 0.05
    }

    /// A read took `nanos` and merged `pulledLists` pulled authors' posts.
    public mutating func noteReadCost(nanos: Int64, pulledLists: Int) {
        if pulledLists == 0 {
            self.celebrityCosts.readBaseNanos = self.celebrityCosts.readBaseNanos * 0.95 + Double(nanos) * 0.05
        } else {
            let sample = Swift.max(0, Double(nanos) - self.celebrityCosts.readBaseNanos) / Double(pulledLists)
            self.celebrityCosts.pullNanosPerRead = self.celebrityCosts.pullNanosPerRead * 0.95 + sample * 0.05
        }
    }
}
