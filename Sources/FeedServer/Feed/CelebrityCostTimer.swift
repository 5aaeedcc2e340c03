import Timeline

/// Times one engine call for `--celebrity-threshold auto`, which weighs
/// pushes and pulls by what they cost here (the engine keeps no clock):
/// the time, and a counter's value before the call. Nil unless auto is on,
/// so other servers pay one branch.
struct CelebrityCostTimer {
    private let started: ContinuousClock.Instant
    /// The counter before the call.
    let counted: Int

    init?(_ engine: FeedEngine, counting counter: KeyPath<FeedCounters, Int>) {
        guard engine.configuration.celebrityAuto else { return nil }  // no clock read otherwise
        self.counted = engine.counters[keyPath: counter]
        self.started = .now
    }

    var nanoseconds: Int64 {
        let (seconds, attoseconds) = (ContinuousClock.now - self.started).components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
