import Testing
@testable import Timeline

@Suite struct PostIDTests {
    let now: Int64 = 1_795_000_000_000

    @Test func idsCarryTheirCreationTime() {
        var generator = PostIDGenerator(node: 7)
        let id = generator.next(now: self.now)
        #expect(PostID.createdMilliseconds(id) == self.now)
        #expect((id >> 12) & 0x3FF == 7)
        #expect(id <= PostID.max)
    }

    @Test func idsAreUniqueAndIncreasingEvenForThousandsInOneMillisecond() {
        var generator = PostIDGenerator(node: 0)
        var previous: UInt64 = 0
        for _ in 0..<10_000 {
            let id = generator.next(now: self.now)
            #expect(id > previous)
            previous = id
        }
        // 10,000 posts in one millisecond borrow at most three more milliseconds.
        #expect(PostID.createdMilliseconds(previous) - self.now <= 3)
    }

    @Test func idsKeepIncreasingWhenTheClockGoesBack() {
        var generator = PostIDGenerator(node: 0)
        let first = generator.next(now: self.now)
        let second = generator.next(now: self.now - 5000)
        #expect(second > first)
    }

    @Test func advancingPastAnIdKeepsLaterIdsAboveIt() {
        var generator = PostIDGenerator(node: 0)
        var other = PostIDGenerator(node: 0)
        let loaded = other.next(now: self.now + 60_000)
        generator.advance(past: loaded)
        #expect(generator.next(now: self.now) > loaded)
    }
}
