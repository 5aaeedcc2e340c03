import Foundation
import Synchronization
import Testing
@testable import FeedServer
@testable import Timeline

/// The engine lock: readers share it, a writer has it alone.
@Suite struct ReadWriteLockTests {
    /// Runs `body` on `count` threads of their own at once (numbered), and
    /// returns when all have finished.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let done = DispatchGroup()
        for thread in 0..<count {
            done.enter()
            Thread {
                body(thread)
                done.leave()
            }.start()
        }
        done.wait()
    }

    /// Two readers are inside at once: each waits, inside, for the other
    /// to come in (with an exclusive lock the first would wait in vain).
    @Test func readersShareTheLock() {
        let lock = ReadWriteLock()
        let inside = Atomic<Int>(0)
        let bothSeen = Atomic<Int>(0)
        Self.onThreads(2) { _ in
            lock.withShared {
                inside.wrappingAdd(1, ordering: .sequentiallyConsistent)
                let deadline = Date().addingTimeInterval(5)
                while inside.load(ordering: .sequentiallyConsistent) < 2 && Date() < deadline { usleep(100) }
                if inside.load(ordering: .sequentiallyConsistent) == 2 { bothSeen.wrappingAdd(1, ordering: .relaxed) }
            }
        }
        #expect(bothSeen.load(ordering: .relaxed) == 2)
    }

    /// A writer waits for the readers inside, and no reader comes in while
    /// it writes: readers never see a half-made change, whatever the mix.
    @Test func aWriterHasTheLockAlone() {
        final class Pair: @unchecked Sendable {  // guarded by the lock under test
            var first = 0
            var second = 0
        }
        let lock = ReadWriteLock()
        let pair = Pair()
        let torn = Atomic<Int>(0)
        let reads = Atomic<Int>(0)
        Self.onThreads(4) { thread in
            for round in 0..<20_000 {
                if (round + thread) % 4 == 0 {
                    lock.withExclusive {
                        pair.first += 1
                        for _ in 0..<(round % 7) { _ = reads.load(ordering: .relaxed) }  // a moment between the halves
                        pair.second += 1
                    }
                } else {
                    lock.withShared {
                        if pair.first != pair.second { torn.wrappingAdd(1, ordering: .relaxed) }
                        reads.wrappingAdd(1, ordering: .relaxed)
                    }
                }
            }
        }
        #expect(torn.load(ordering: .relaxed) == 0)
        #expect(pair.first == 20_000 && pair.second == 20_000)  // every write counted once
        #expect(reads.load(ordering: .relaxed) == 60_000)
    }

    /// What shared reads change reaches the engine at its next exclusive
    /// turn: the reads count, the reader is active as of the read.
    @Test func sharedReadsAreAppliedByTheNextExclusiveTurn() throws {
        var configuration = FeedConfiguration()
        configuration.inactiveAfterMilliseconds = 500  // active at the end only by the shared reads
        let feed = SharedFeedEngine(configuration: configuration)
        let id = try feed.withEngine { (engine) throws(FeedError) in
            let id = try engine.post(author: "author", body: "hello", now: 1_000)
            _ = try engine.follow(follower: "reader", followee: "author", now: 1_001)
            _ = engine.read(user: "reader", count: 10, now: 1_002)  // builds the timeline (exclusively)
            return id
        }
        let reads = feed.withEngine { $0.counters.reads }
        for step in 0..<10 {
            let ids = feed.withEngineShared { engine, notes -> [UInt64] in
                guard engine.readsBorrowed(user: "reader") else { return [] }
                var collector = FeedEntryCollector()
                _ = engine.read(user: "reader", count: 10, now: 2_000 + Int64(step), into: &collector, notes: &notes)
                return collector.entries.compactMap { $0?.id }
            }
            #expect(ids == [id])
        }
        #expect(feed.withEngine { $0.counters.reads } == reads + 10)
        #expect(feed.withEngine { engine in engine.isActive(engine.number(of: "reader")!, now: 2_009 + 10) })
    }
}
