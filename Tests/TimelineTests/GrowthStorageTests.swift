import Testing
@testable import Timeline

/// The storage that grows in pieces so the engine lock never waits on one
/// big reallocation: it must still behave as a plain dictionary and array.
@Suite struct GrowthStorageTests {
    @Test func postIndexBehavesLikeADictionary() {
        var index = PostIndex<Int>()
        var reference: [UInt64: Int] = [:]
        // Ids as the server makes them: many in the same millisecond.
        let ids = (0..<20_000).map { PostID.lowest(atMilliseconds: 1_800_000_000_000 + Int64($0 / 100)) | 3 << 12 | UInt64($0 % 100) }
        for (value, id) in ids.enumerated() {
            index.insert(value, for: id)
            reference[id] = value
        }
        for id in ids.prefix(5_000) {
            index[id]! += 1
            reference[id]! += 1
        }
        for id in ids.suffix(3_000) {
            #expect(index.removeValue(forKey: id) == reference.removeValue(forKey: id))
        }
        #expect(index.removeValue(forKey: 42) == nil)
        #expect(index.count == reference.count)
        #expect(index.capacity >= 20_000)  // kept as it grew; removals never shrink it
        for id in ids { #expect(index[id] == reference[id]) }
    }

    /// Open addressing with deletion by shifting runs back: random inserts,
    /// changes and removals (through every path) against a dictionary, with
    /// ids crowded into few milliseconds so runs form and wrap.
    @Test func postIndexSurvivesRandomInsertsAndRemovals() {
        var index = PostIndex<Int>()
        var reference: [UInt64: Int] = [:]
        var random = SystemRandomNumberGenerator()
        let ids = (0..<3_000).map { PostID.lowest(atMilliseconds: 1_800_000_000_000 + Int64($0 / 1_000)) | UInt64($0 % 1_000) }
        for step in 0..<60_000 {
            let id = ids.randomElement(using: &random)!
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                index.insert(step, for: id)
                reference[id] = step
            case 1:
                #expect(index.removeValue(forKey: id) == reference.removeValue(forKey: id))
            case 2:
                index[id] = nil  // removal through the modify accessor
                reference[id] = nil
            default:
                if index[id] != nil { index[id]! += 1 }
                if reference[id] != nil { reference[id]! += 1 }
            }
        }
        #expect(index.count == reference.count)
        for id in ids { #expect(index[id] == reference[id]) }
        #expect(index[PostID.max] == nil && index[0] == nil)
    }

    @Test func chunkedArrayKeepsOrderAcrossChunks() {
        var array = ChunkedArray<Int>()
        for value in 0..<200_000 { array.append(value) }
        #expect(array.count == 200_000)
        array[65_535] += 1_000_000
        array[65_536] = -1
        #expect(array[0] == 0 && array[65_535] == 1_065_535 && array[65_536] == -1 && array[199_999] == 199_999)
        #expect((70_000..<70_010).map { array[$0] } == Array(70_000..<70_010))
        #expect(array.allocatedCount >= 200_000 && array.allocatedCount <= 4 * 65_536)  // whole chunks, the last one growing
    }
}
