/// A deterministic random number generator (SplitMix64), so a seed names
/// one graph and one request stream on every machine.
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { self.state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    /// Starts from a raw state rather than a seed (the subscribe workload's
    /// streams, which start one step earlier than `init(seed:)`'s).
    init(state: UInt64) { self.state = state }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Picks user numbers with Zipf popularity: number k (from 0) is chosen with
/// weight 1 / (k + 1)^exponent, so user 0 is the most followed.
struct ZipfSampler: Sendable {
    private let cumulative: [Double]

    init(count: Int, exponent: Double) {
        var total = 0.0
        var cumulative: [Double] = []
        cumulative.reserveCapacity(count)
        for rank in 1...max(count, 1) {
            total += 1.0 / pow(Double(rank), exponent)
            cumulative.append(total)
        }
        self.cumulative = cumulative.map { $0 / total }
    }

    func sample(using generator: inout some RandomNumberGenerator) -> Int {
        let target = Double.random(in: 0..<1, using: &generator)
        var low = 0
        var high = self.cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if self.cumulative[middle] < target { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// The social graph every target is loaded with: `users` users, each
/// following `follows` distinct others drawn with Zipf popularity.
struct SocialGraph: Sendable {
    let users: Int
    let follows: Int
    let exponent: Double
    let seed: UInt64

    /// The user's name as every target knows it: the names redis-benchmark's
    /// `-r` produces from `__rand_int__`.
    static func name(_ user: Int) -> String { "user:" + String(repeating: "0", count: max(0, 12 - digits(user))) + String(user) }

    private static func digits(_ value: Int) -> Int { value < 10 ? 1 : 1 + digits(value / 10) }

    /// Calls `edge(follower, followee)` for every follow, follower by follower.
    func forEachEdge(_ edge: (Int, Int) throws -> Void) rethrows {
        let zipf = ZipfSampler(count: self.users, exponent: self.exponent)
        var generator = SeededGenerator(seed: self.seed)
        let perUser = min(self.follows, self.users - 1)
        var chosen = Set<Int>()
        for follower in 0..<self.users {
            chosen.removeAll(keepingCapacity: true)
            var attempts = 0
            while chosen.count < perUser {
                attempts += 1
                // Past many collisions (a small graph with a steep Zipf), fill uniformly.
                let followee =
                    attempts < perUser * 20
                    ? zipf.sample(using: &generator) : Int.random(in: 0..<self.users, using: &generator)
                if followee != follower && chosen.insert(followee).inserted { try edge(follower, followee) }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
