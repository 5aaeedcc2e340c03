import Testing
@testable import Timeline

@Suite struct FollowSetTests {
    @Test func membershipAcrossTheHashThresholdBothWays() {
        var set = FollowSet()
        let members = (0..<100).map { UInt32($0 * 3) }
        for member in members.shuffled() {
            let inserted = set.insert(member)
            #expect(inserted)
        }
        let result1 = set.insert(30)
        #expect(!result1)
        #expect(set.count == 100)
        #expect(Array(set.sorted) == members)
        for member in members { #expect(set.contains(member)) }
        #expect(!set.contains(31))
        for member in members.prefix(95) {
            let removed = set.remove(member)
            #expect(removed)
        }
        let result2 = set.remove(0)
        #expect(!result2)
        #expect(Array(set.sorted) == Array(members.suffix(5)))
        for member in members.suffix(5) { #expect(set.contains(member)) }
        #expect(!set.contains(3))
    }

    @Test func pagesInOrderAfterAMember() {
        var set = FollowSet()
        for member: UInt32 in [5, 1, 9, 3, 7] { set.insert(member) }
        #expect(Array(set.page(after: nil, count: 2)) == [1, 3])
        #expect(Array(set.page(after: 3, count: 2)) == [5, 7])
        #expect(Array(set.page(after: 4, count: 10)) == [5, 7, 9])
        #expect(Array(set.page(after: 9, count: 10)) == [])
        #expect(Array(set.page(after: UInt32.max, count: 10)) == [])
    }
}
