import BenchSupport
import Foundation
import Timeline

// Runs one engine scenario in a loop for profiling, or measures memory in a
// fresh process: `EngineProfile fanout|read|memory`.
let start: Int64 = 1_795_000_000_000
let scenario = CommandLine.arguments.dropFirst().first ?? "read"
var now = start
/// Resident set size from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// The server benchmarks' graph without the server: 10,000 users x 100
/// Zipf-chosen follows, 5 posts each (a feed holds ~500 entries), 50,000
/// likes of recent posts.
@MainActor func zipfGraph() throws -> (engine: FeedEngine, name: [String], mix: SplitMix) {
    let users = 10_000
    let name = (0..<users).map { "user:\($0)" }
    var mix = SplitMix(seed: 13)
    // Zipf (s = 1) by inverse transform over the cumulative weights.
    var cumulative: [Double] = []
    var sum = 0.0
    for rank in 1...users {
        sum += 1 / Double(rank)
        cumulative.append(sum)
    }
    func zipf() -> Int {
        let target = Double(mix.next() >> 11) / Double(1 << 53) * sum
        var low = 0
        var high = users - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < target { low = middle + 1 } else { high = middle }
        }
        return low
    }
    var engine = FeedEngine()
    for user in 0..<users {
        var followed = Set<Int>()
        while followed.count < 100 {
            let followee = zipf()
            if followee != user { followed.insert(followee) }
        }
        for followee in followed.sorted() { _ = try engine.follow(follower: name[user], followee: name[followee], now: now) }
    }
    var posts: [UInt64] = []
    for round in 0..<5 {
        for user in 0..<users {
            now += 1
            posts.append(try engine.post(author: name[user], body: "post \(round) by \(user) " + String(repeating: "x", count: 80), now: now))
        }
    }
    for _ in 0..<50_000 {
        _ = try? engine.like(user: name[mix.below(users)], post: posts[posts.count - 20_000 + mix.below(20_000)], now: now)
    }
    return (engine, name, mix)
}

func microseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12
}

switch scenario {
case "graph-reads":
    // Chronological reads of 50 and ranked reads (500 candidates, page of
    // 50) of random readers of zipfGraph(), alternating, in one thread:
    // engine time per read as a server with cold caches sees it.
    var (engine, name, mix) = try zipfGraph()
    let users = name.count
    var output = ByteWriter()
    let rounds = Int(CommandLine.arguments.dropFirst(2).first ?? "5")!
    let reads = 20_000
    let clock = ContinuousClock()
    for round in 1...rounds {
        var began = clock.now
        for _ in 0..<reads {
            output.bytes.removeAll(keepingCapacity: true)
            engine.read(user: name[mix.below(users)], count: 50, now: now, into: &output)
        }
        let chronological = microseconds(clock.now - began) / Double(reads)
        began = clock.now
        for _ in 0..<reads {
            output.bytes.removeAll(keepingCapacity: true)
            let slice = try engine.rankedSlice(user: name[mix.below(users)], count: 50, page: nil, now: now)!
            engine.writeRanked(slice, into: &output)
        }
        let ranked = microseconds(clock.now - began) / Double(reads)
        print(String(format: "round %d: chronological %.1f us/read, ranked %.1f us/read, ratio %.2f", round, chronological, ranked,
            chronological / ranked))
    }
case "graph-posts":
    // Posts (110-byte bodies) by random authors of zipfGraph(), as
    // redis-benchmark's -r 10000 sends them: engine time per post, most of
    // it the fan-out into the followers' timelines (each made resident by a
    // first read).
    var (engine, name, mix) = try zipfGraph()
    for user in name { _ = engine.read(user: user, count: 1, now: now) }
    let body = String(repeating: "b", count: 110)
    let rounds = Int(CommandLine.arguments.dropFirst(2).first ?? "5")!
    let posts = 50_000
    let clock = ContinuousClock()
    for round in 1...rounds {
        let delivered = engine.counters.fanoutDeliveries
        let began = clock.now
        for _ in 0..<posts {
            now += 1
            _ = try engine.post(author: name[mix.below(name.count)], body: body, now: now)
        }
        let elapsed = microseconds(clock.now - began)
        print(String(format: "round %d: %.2f us/post, %.0f deliveries a post", round, elapsed / Double(posts),
            Double(engine.counters.fanoutDeliveries - delivered) / Double(posts)))
    }
case "merge-cost":
    // What each pulled (celebrity) author a reader follows adds to a 50-entry read.
    for celebrities in [0, 1, 10, 50] {
        var configuration = FeedConfiguration()
        configuration.celebrityThreshold = 2
        var engine = FeedEngine(configuration: configuration)
        var now = start
        for celebrity in 0..<celebrities {
            for fan in ["reader", "other"] { _ = try engine.follow(follower: fan, followee: "celebrity:\(celebrity)", now: now) }
        }
        for author in 0..<100 { _ = try engine.follow(follower: "reader", followee: "author:\(author)", now: now) }
        _ = engine.read(user: "reader", count: 1, now: now)
        for round in 0..<8000 {
            now += 1
            if celebrities > 0 { _ = try engine.post(author: "celebrity:\(round % celebrities)", body: "c", now: now) }
            _ = try engine.post(author: "author:\(round % 100)", body: "o", now: now)
        }
        let clock = ContinuousClock()
        let began = clock.now
        for _ in 0..<50_000 { _ = engine.read(user: "reader", count: 50, now: now) }
        print("read 50 merging \(celebrities) celebrities:", (clock.now - began) / 50_000)
    }
    // What each follower adds to a post's fan-out.
    for followers in [100, 1000, 4999] {
        var engine = FeedEngine()
        var now = start
        for index in 0..<followers {
            _ = try engine.follow(follower: "fan:\(index)", followee: "author", now: now)
            _ = engine.read(user: "fan:\(index)", count: 1, now: now)
        }
        for _ in 0..<800 {
            now += 1
            _ = try engine.post(author: "author", body: "b", now: now)
        }
        let clock = ContinuousClock()
        let began = clock.now
        for _ in 0..<2000 {
            now += 1
            _ = try engine.post(author: "author", body: "b", now: now)
        }
        print("post fanning out to \(followers) followers:", (clock.now - began) / 2000)
    }
case "memory":
    // 10,000 full timelines of 800 ids: resident memory grown, per id.
    let before = residentBytes()
    var timelines: [CappedPostList] = []
    timelines.reserveCapacity(10_000)
    for user in 0..<10_000 {
        var list = CappedPostList()
        for post in 0..<900 { list.insert(UInt64(post * 10_000 + user), cap: 800) }
        timelines.append(list)
    }
    let grown = residentBytes() - before
    print("timelines: \(timelines.count) x \(timelines[0].count) ids, resident memory grown \(grown / 1_048_576) MiB,",
        String(format: "%.2f bytes per id", Double(grown) / Double(timelines.count * 800)))
case "fanout":
    var engine = FeedEngine()
    for index in 0..<4999 {
        _ = try engine.follow(follower: "fan:\(index)", followee: "author", now: now)
        _ = engine.read(user: "fan:\(index)", count: 1, now: now)
    }
    let clock = ContinuousClock()
    let began = clock.now
    let posts = Int(CommandLine.arguments.dropFirst(2).first ?? "600")!
    for _ in 0..<posts {
        now += 1
        _ = try engine.post(author: "author", body: "body", now: now)
    }
    print("fanout per post:", (clock.now - began) / posts)
default:
    var configuration = FeedConfiguration()
    configuration.celebrityThreshold = 2
    var engine = FeedEngine(configuration: configuration)
    for celebrity in 0..<10 {
        for fan in ["reader", "other"] { _ = try engine.follow(follower: fan, followee: "celebrity:\(celebrity)", now: now) }
    }
    for author in 0..<100 { _ = try engine.follow(follower: "reader", followee: "author:\(author)", now: now) }
    _ = engine.read(user: "reader", count: 1, now: now)
    for round in 0..<800 {
        now += 1
        _ = try engine.post(author: "celebrity:\(round % 10)", body: "celebrity post \(round)", now: now)
        _ = try engine.post(author: "author:\(round % 100)", body: "ordinary post \(round)", now: now)
    }
    let clock = ContinuousClock()
    let began = clock.now
    var total = 0
    for _ in 0..<20_000 { total += engine.read(user: "reader", count: 50, now: now).count }
    print("read per call:", (clock.now - began) / 20_000, total)
}
