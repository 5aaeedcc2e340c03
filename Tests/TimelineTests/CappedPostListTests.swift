import Testing
@testable import Timeline
import TestSupport

@Suite struct CappedPostListTests {
    func newest(_ list: CappedPostList, before: UInt64? = nil) -> [UInt64] {
        Array(list.newestFirst(before: before))
    }

    @Test func keepsIdsNewestFirstWithoutDuplicates() {
        var list = CappedPostList()
        for id: UInt64 in [10, 20, 30] { list.insert(id, cap: 5) }
        list.insert(15, cap: 5)
        let result1 = list.insert(20, cap: 5)
        #expect(result1 == .init(inserted: false, evicted: nil))
        #expect(newest(list) == [30, 20, 15, 10])
        #expect(list.contains(15) && !list.contains(16))
    }

    @Test func dropsTheOldestPastTheCap() {
        var list = CappedPostList()
        for id: UInt64 in 1...3 { list.insert(id, cap: 3) }
        let result2 = list.insert(4, cap: 3)
        #expect(result2 == .init(inserted: true, evicted: 1))
        #expect(newest(list) == [4, 3, 2])
        // Older than everything in a full list: not kept.
        let result3 = list.insert(1, cap: 3)
        #expect(result3 == .init(inserted: false, evicted: nil))
        // In the middle of a full list: kept, and the oldest goes.
        var other = CappedPostList(ascending: [10, 20, 30])
        let result4 = other.insert(15, cap: 3)
        #expect(result4 == .init(inserted: true, evicted: 10))
        #expect(newest(other) == [30, 20, 15])
    }

    @Test func pagesStrictlyOlder() {
        let list = CappedPostList(ascending: [1, 2, 3, 4, 5])
        #expect(newest(list, before: 4) == [3, 2, 1])
        #expect(newest(list, before: 1) == [])
        #expect(newest(list, before: 100) == [5, 4, 3, 2, 1])
        #expect(newest(list, before: 3).first == 2)
    }

    @Test func removesIds() {
        var list = CappedPostList(ascending: [1, 2, 3, 4, 5, 6])
        let result5 = list.remove(3)
        #expect(result5)
        let result6 = list.remove(3)
        #expect(!result6)
        let result7 = list.removeAll { $0 % 2 == 0 }
        #expect(result7 == 3)
        #expect(newest(list) == [5, 1])
    }

    @Test func mergesKeepingTheNewestWithinTheCap() {
        var list = CappedPostList(ascending: [10, 30, 50])
        list.merge(ascending: [20, 30, 40, 60], cap: 4)
        #expect(newest(list) == [60, 50, 40, 30])
        var empty = CappedPostList()
        empty.merge(ascending: [1, 2, 3, 4, 5], cap: 3)
        #expect(newest(empty) == [5, 4, 3])
        var unchanged = CappedPostList(ascending: [1, 2])
        unchanged.merge(ascending: [UInt64](), cap: 3)
        #expect(newest(unchanged) == [2, 1])
    }

    @Test func randomInsertsMatchASortedSet() {
        var rng = SplitMix64(seed: 9)
        var list = CappedPostList()
        var model = Set<UInt64>()
        for _ in 0..<5000 {
            let id = UInt64.random(in: 1...2000, using: &rng)
            if Bool.random(using: &rng) || model.isEmpty {
                list.insert(id, cap: 300)
                model.insert(id)
                if model.count > 300 { model.remove(model.min()!) }
                // An id older than all of a full list is not kept.
                model = Set(model.sorted().suffix(300))
            } else {
                list.remove(id)
                model.remove(id)
            }
            #expect(list.count == model.count)
        }
        #expect(newest(list) == model.sorted(by: >))
    }

    /// `push` (the fan-out's insert, which does not read the id it drops)
    /// keeps the same list as `insert` and says whether one was dropped.
    @Test func pushMatchesInsert() {
        var rng = SplitMix64(seed: 11)
        var pushed = CappedPostList()
        var inserted = CappedPostList()
        var drops = 0
        for _ in 0..<5000 {
            let id = UInt64.random(in: 1...3000, using: &rng)
            let push = pushed.push(id, cap: 200)
            let insert = inserted.insert(id, cap: 200)
            #expect(push.inserted == insert.inserted)
            #expect(push.dropped == (insert.evicted != nil))
            if push.dropped { drops += 1 }
            if Int.random(in: 0..<4, using: &rng) == 0 {
                let gone = UInt64.random(in: 1...3000, using: &rng)
                #expect(pushed.remove(gone) == inserted.remove(gone))
            }
        }
        #expect(drops > 100)  // the cap was reached, and dropping exercised
        #expect(newest(pushed) == newest(inserted))
    }
}
