import Testing
@testable import Timeline

@Suite struct PostBodyCacheTests {
    @Test func evictsTheLeastRecentlyUsedPastTheBudget() {
        let body = String(repeating: "b", count: 100)
        let cost = 100 + PostBodyCache.overheadPerBody
        var cache = PostBodyCache(budgetBytes: cost * 3)
        cache.insert(1, body: body)
        cache.insert(2, body: body)
        cache.insert(3, body: body)
        #expect(cache.body(1) == body)  // 1 is now the most recently used
        let result1 = cache.insert(4, body: body)
        #expect(result1 == [2])
        #expect(cache.peek(2) == nil)
        let result2 = cache.insert(5, body: body)
        #expect(result2 == [3])
        #expect(cache.contains(1) && cache.contains(4) && cache.contains(5))
        #expect(cache.usedBytes == cost * 3)
        #expect(cache.evictions == 2)
        let result3 = cache.body(99)
        #expect(result3 == nil)
        #expect(cache.hits == 1 && cache.misses == 1)
    }

    @Test func removalFreesItsBytesAndSlot() {
        var cache = PostBodyCache(budgetBytes: 10_000)
        cache.insert(1, body: "one")
        cache.insert(2, body: "two")
        let result4 = cache.remove(1)
        #expect(result4)
        let result5 = cache.remove(1)
        #expect(!result5)
        cache.insert(3, body: "three")
        #expect(cache.count == 2)
        #expect(cache.peek(2) == "two" && cache.peek(3) == "three")
        #expect(cache.usedBytes == "two".utf8.count + "three".utf8.count + 2 * PostBodyCache.overheadPerBody)
    }

    @Test func keepsABodyLargerThanTheBudget() {
        var cache = PostBodyCache(budgetBytes: 10)
        cache.insert(1, body: "a")
        #expect(cache.insert(2, body: String(repeating: "x", count: 50)) == [1])
        #expect(cache.peek(2) != nil)
    }
}
