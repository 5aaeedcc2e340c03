import Dispatch
import Foundation
import Synchronization
import Timeline

// How should the one feed engine be owned? The same workload from two
// threads (the server's two event loops on this machine) through:
//   mutex          - each request takes one lock around its engine call
//   owner thread   - each request hops to a dedicated thread and waits
//   owner, batched - a read batch of 16 requests hops once
//   actor          - each request awaits a Swift actor
// Workload: 10,000 users following 100 each (resident timelines), 90% FEED.READ
// COUNT 50 and 10% FEED.POST of 110 bytes, by random users.
// Usage: EngineOwnership [requests-per-thread=200000]

let requestsPerThread = Int(CommandLine.arguments.dropFirst().first ?? "200000")!
let threads = 2
let users = 10_000
let body = String(repeating: "b", count: 110)
let clock = ContinuousClock()
let startTime: Int64 = 1_795_000_000_000

func makeEngine() -> FeedEngine {
    var engine = FeedEngine()
    var rng = SystemRandomNumberGenerator()
    for user in 0..<users {
        var followed = Set<Int>()
        while followed.count < 100 {
            let other = Int.random(in: 0..<users, using: &rng)
            if other != user { followed.insert(other) }
        }
        for other in followed { _ = try! engine.follow(follower: "user:\(user)", followee: "user:\(other)", now: startTime) }
    }
    for user in 0..<users { _ = engine.read(user: "user:\(user)", count: 1, now: startTime) }
    for round in 0..<50_000 { _ = try! engine.post(author: "user:\(round % users)", body: body, now: startTime + Int64(round)) }
    return engine
}

/// One request against the engine; returns something so the work is not optimised away.
@inline(__always)
func request(_ engine: inout FeedEngine, _ random: UInt64, now: Int64) -> Int {
    let user = "user:\(Int(random % UInt64(users)))"
    if random % 10 == 0 {
        return Int(truncatingIfNeeded: try! engine.post(author: user, body: body, now: now))
    }
    return engine.read(user: user, count: 50, now: now).count
}

struct Result {
    var name: String
    var seconds: Double
    var latencies: [Double]  // microseconds

    func percentile(_ p: Double) -> Double {
        let sorted = self.latencies.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    var line: String {
        let rate = Double(threads * requestsPerThread) / self.seconds
        return String(
            format: "| %@ | %.0f | %.1f | %.1f | %.1f |", self.name, rate, self.percentile(0.5), self.percentile(0.99),
            self.percentile(0.999))
    }
}

/// Runs `work(thread, index)` on `threads` threads, timing each call.
func measure(_ name: String, _ work: @escaping @Sendable (Int, Int) -> Void) -> Result {
    let latencies = Mutex<[Double]>([])
    let group = DispatchGroup()
    let began = clock.now
    for thread in 0..<threads {
        group.enter()
        Thread.detachNewThread {
            var local: [Double] = []
            local.reserveCapacity(requestsPerThread)
            for index in 0..<requestsPerThread {
                let start = clock.now
                work(thread, index)
                let elapsed = clock.now - start
                local.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
            }
            latencies.withLock { $0 += local }
            group.leave()
        }
    }
    group.wait()
    let seconds = (clock.now - began) / .seconds(1)
    return Result(name: name, seconds: seconds, latencies: latencies.withLock { $0 })
}

final class UncheckedBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

actor EngineActor {
    var engine: FeedEngine
    init(_ engine: FeedEngine) { self.engine = engine }
    func run(_ random: UInt64, now: Int64) -> Int { request(&self.engine, random, now: now) }
}

print("building the graph...")
let base = makeEngine()
var results: [Result] = []

// 1. One mutex.
do {
    let locked = Mutex(base)
    results.append(
        measure("mutex") { thread, index in
            let random = UInt64(truncatingIfNeeded: (thread &* 7_919 &+ index) &* 2_654_435_761)
            _ = locked.withLock { request(&$0, random, now: startTime + 100_000) }
        })
}

// 1b. One mutex, taken once per batch of 16 requests.
do {
    let locked = Mutex(base)
    results.append(
        measure("mutex, one lock per 16-request batch") { thread, index in
            guard index % 16 == 0 else { return }
            locked.withLock { engine in
                for offset in 0..<16 {
                    let random = UInt64(truncatingIfNeeded: (thread &* 7_919 &+ index &+ offset) &* 2_654_435_761)
                    _ = request(&engine, random, now: startTime + 100_000)
                }
            }
        })
}

// 2. An owner thread, one hop per request.
do {
    let queue = DispatchQueue(label: "engine-owner")
    let engine = UncheckedBox(base)
    results.append(
        measure("owner thread, hop per request") { thread, index in
            let random = UInt64(truncatingIfNeeded: (thread &* 7_919 &+ index) &* 2_654_435_761)
            let done = DispatchSemaphore(value: 0)
            queue.async {
                _ = request(&engine.value, random, now: startTime + 100_000)
                done.signal()
            }
            done.wait()
        })
}

// 3. An owner thread, one hop per batch of 16 requests (a read batch).
do {
    let queue = DispatchQueue(label: "engine-owner-batched")
    let engine = UncheckedBox(base)
    results.append(
        measure("owner thread, hop per 16-request batch") { thread, index in
            guard index % 16 == 0 else { return }
            let done = DispatchSemaphore(value: 0)
            queue.async {
                for offset in 0..<16 {
                    let random = UInt64(truncatingIfNeeded: (thread &* 7_919 &+ index &+ offset) &* 2_654_435_761)
                    _ = request(&engine.value, random, now: startTime + 100_000)
                }
                done.signal()
            }
            done.wait()
        })
    // Per-request latency is the batch's time; throughput counts every request.
}

// 4. A Swift actor.
do {
    let actor = EngineActor(base)
    results.append(
        measure("actor") { thread, index in
            let random = UInt64(truncatingIfNeeded: (thread &* 7_919 &+ index) &* 2_654_435_761)
            let done = DispatchSemaphore(value: 0)
            Task {
                _ = await actor.run(random, now: startTime + 100_000)
                done.signal()
            }
            done.wait()
        })
}

// 5. No sharing at all: one thread, no lock (the ceiling).
do {
    var engine = base
    let began = clock.now
    var total = 0
    for index in 0..<(threads * requestsPerThread) {
        total &+= request(&engine, UInt64(truncatingIfNeeded: index &* 2_654_435_761), now: startTime + 100_000)
    }
    let seconds = (clock.now - began) / .seconds(1)
    print(String(format: "single thread, no lock: %.0f requests/s (%d)", Double(threads * requestsPerThread) / seconds, total))
}

print("| ownership | requests/s | p50 µs | p99 µs | p99.9 µs |")
print("|---|---:|---:|---:|---:|")
for result in results { print(result.line) }
print("(\(threads) threads x \(requestsPerThread) requests, \(ProcessInfo.processInfo.activeProcessorCount) cores)")
