import Testing
@testable import Timeline

@Suite struct PostBodyCacheTests {
    @Test func evictsTheLeastRecentlyUsedPastTheBudget() {
        let body = String(repeating: "b", count: 100)
        let cost = 100 + PostBodyCache.overheadPerBody
        var cache = PostBodyCache(budgetBytes: cost * 3)
        let one = cache.insert(1, body: body).slot
        let two = cache.insert(2, body: body).slot
        _ = cache.insert(3, body: body)
        let read = cache.body(at: one)  // 1 is now the most recently used
        #expect(read == body)
        let four = cache.insert(4, body: body)
        #expect(four.evicted.map(\.id) == [2])
        #expect(four.evicted.map(\.slot) == [two])
        let five = cache.insert(5, body: body)
        #expect(five.evicted.map(\.id) == [3])
        #expect(cache.count == 3)
        #expect(cache.usedBytes == cost * 3)
        #expect(cache.evictions == 2)
        cache.markReferenced([], hits: 0, misses: 1)  // a read that found the body gone
        #expect(cache.hits == 1 && cache.misses == 1)
        #expect(cache.peek(one) == body)
    }

    @Test func removalFreesItsBytesAndSlotForReuse() {
        var cache = PostBodyCache(budgetBytes: 10_000)
        let one = cache.insert(1, body: "one").slot
        let two = cache.insert(2, body: "two").slot
        cache.remove(one)
        let three = cache.insert(3, body: "three").slot
        #expect(three == one)  // the freed slot is reused
        #expect(cache.count == 2)
        #expect(cache.peek(two) == "two" && cache.peek(three) == "three")
        #expect(cache.usedBytes == "two".utf8.count + "three".utf8.count + 2 * PostBodyCache.overheadPerBody)
    }

    @Test func keepsABodyLargerThanTheBudget() {
        var cache = PostBodyCache(budgetBytes: 10)
        _ = cache.insert(1, body: "a")
        let big = cache.insert(2, body: String(repeating: "x", count: 50))
        #expect(big.evicted.map(\.id) == [1])
        #expect(cache.peek(big.slot).count == 50)
    }
}
