import BenchSupport
import Benchmark
import Timeline

/// The engine's hot paths, as the timeline-engine issue lists them. Each
/// scenario is built once in `setup` and then measured warm, as a running
/// server would see it.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: 10,
        maxDuration: .seconds(3),
        maxIterations: 20_000
    )

    // A full timeline (800 ids) taking new posts at its head: append, evict the oldest.
    let timeline = Scenario<CappedPostList>()
    Benchmark(
        "Timeline insert at head (cap 800)",
        configuration: .init(timeUnits: .nanoseconds, scalingFactor: .kilo),
        closure: { benchmark in
            for _ in benchmark.scaledIterations {
                timeline.clock += 1 << 22
                blackHole(timeline.value.insert(UInt64(timeline.clock), cap: 800))
            }
        },
        setup: {
            timeline.value = CappedPostList(ascending: (1...800).map { UInt64($0) << 22 })
            timeline.clock = 801 << 22
        })

    // An author just under the celebrity threshold: 4,999 active followers
    // whose timelines are resident.
    let fanOut = Scenario<FeedEngine>()
    Benchmark(
        "Fan-out of one post to 4,999 followers",
        closure: { benchmark in
            for _ in benchmark.scaledIterations {
                fanOut.clock += 1
                blackHole(try fanOut.value.post(author: "author", body: body110, now: fanOut.clock))
            }
        },
        setup: {
            var engine = FeedEngine()
            for index in 0..<4999 {
                _ = try engine.follow(follower: "fan:\(index)", followee: "author", now: fanOut.clock)
                _ = engine.read(user: "fan:\(index)", count: 1, now: fanOut.clock)
            }
            // Fill the timelines so the measured posts evict, as at steady state.
            for _ in 0..<800 {
                fanOut.clock += 1
                _ = try engine.post(author: "author", body: body110, now: fanOut.clock)
            }
            fanOut.value = engine
        })

    // A reader following 10 celebrities (800 recent posts each) and 100
    // ordinary authors whose posts fill the timeline.
    let merge = Scenario<FeedEngine>()
    Benchmark(
        "Read 50 entries merging 10 celebrities",
        closure: { benchmark in
            for _ in benchmark.scaledIterations {
                merge.output.bytes.removeAll(keepingCapacity: true)
                merge.value.read(user: "reader", count: 50, now: merge.clock, into: &merge.output)
                blackHole(merge.output.bytes.count)
            }
        },
        setup: {
            var configuration = FeedConfiguration()
            configuration.celebrityThreshold = 2
            var engine = FeedEngine(configuration: configuration)
            for celebrity in 0..<10 {
                for fan in ["reader", "other"] {
                    _ = try engine.follow(follower: fan, followee: "celebrity:\(celebrity)", now: merge.clock)
                }
            }
            for author in 0..<100 { _ = try engine.follow(follower: "reader", followee: "author:\(author)", now: merge.clock) }
            _ = engine.read(user: "reader", count: 1, now: merge.clock)
            for round in 0..<8000 {
                merge.clock += 1
                _ = try engine.post(author: "celebrity:\(round % 10)", body: body110, now: merge.clock)
                _ = try engine.post(author: "author:\(round % 100)", body: body110, now: merge.clock)
            }
            merge.value = engine
        })

    // A reader following 200 authors with 100 recent posts each, whose
    // timeline was dropped: the read rebuilds it (800 of 20,000 ids) first.
    // (Dropping is one assignment; the time is the rebuild and the read.)
    let rebuild = Scenario<FeedEngine>()
    Benchmark(
        "Rebuild a 200-followee timeline, then read 50",
        closure: { benchmark in
            for _ in benchmark.scaledIterations {
                rebuild.value.dropTimeline(of: "reader")
                rebuild.output.bytes.removeAll(keepingCapacity: true)
                rebuild.value.read(user: "reader", count: 50, now: rebuild.clock, into: &rebuild.output)
                blackHole(rebuild.output.bytes.count)
            }
        },
        setup: {
            var engine = FeedEngine()
            for author in 0..<200 {
                _ = try engine.follow(follower: "reader", followee: "author:\(author)", now: rebuild.clock)
            }
            for round in 0..<20_000 {
                rebuild.clock += 1
                _ = try engine.post(author: "author:\(round % 200)", body: body110, now: rebuild.clock)
            }
            rebuild.value = engine
        })

    // The ranked feed (issue 14): a reader following 100 authors whose
    // timeline holds 800 entries, with likes on a tenth of the posts (some
    // the reader's own, so affinity has interactions). The ranked read
    // scores the newest 500 and writes a page of 50; the chronological
    // read of 50 from the same feed is beside it.
    let ranking = Scenario<FeedEngine>()
    func rankingSetup() throws {
        var engine = FeedEngine()
        for author in 0..<100 { _ = try engine.follow(follower: "reader", followee: "author:\(author)", now: ranking.clock) }
        _ = engine.read(user: "reader", count: 1, now: ranking.clock)
        for round in 0..<8000 {
            ranking.clock += 60_000
            let id = try engine.post(author: "author:\(round % 100)", body: body110, now: ranking.clock)
            if round % 10 == 0 {
                _ = try engine.like(user: round % 30 == 0 ? "reader" : "fan:\(round % 7)", post: id, now: ranking.clock)
            }
        }
        ranking.value = engine
    }
    Benchmark(
        "Ranked read: 500 candidates, page of 50",
        closure: { benchmark in
            for _ in benchmark.scaledIterations {
                ranking.output.bytes.removeAll(keepingCapacity: true)
                let slice = try ranking.value.rankedSlice(user: "reader", count: 50, page: nil, now: ranking.clock)!
                ranking.value.writeRanked(slice, into: &ranking.output)
                blackHole(ranking.output.bytes.count)
            }
        },
        setup: rankingSetup)
    Benchmark(
        "Chronological read of 50, same feed",
        closure: { benchmark in
            for _ in benchmark.scaledIterations {
                ranking.output.bytes.removeAll(keepingCapacity: true)
                ranking.value.read(user: "reader", count: 50, now: ranking.clock, into: &ranking.output)
                blackHole(ranking.output.bytes.count)
            }
        },
        setup: rankingSetup)
}

/// State a benchmark builds once in `setup` and mutates while measured.
/// Benchmarks run one at a time, so unchecked sendability is safe here.
final class Scenario<Value>: @unchecked Sendable {
    var storage: Value?
    var clock: Int64 = 1_795_000_000_000
    /// Where reads write their entries, as the server writes its reply.
    var output = ByteWriter()

    var value: Value {
        get { self.storage! }
        _modify { yield &self.storage! }
        set { self.storage = newValue }
    }
}

/// A post body of 110 bytes, the size the README's load figures use.
let body110 = String(repeating: "b", count: 110)

