@testable import FeedServer
import Foundation
import NIOCore
import Testing

/// The COPY text rows posts reach PostgreSQL in (end to end, through a real
/// PostgreSQL: test_durability.py's byte-for-byte test).
@Suite struct PostCopyTextTests {
    @Test func timestampsMatchTheCalendarAcrossLeapYearsAndCenturies() {
        let formatter = Date.ISO8601FormatStyle(timeZone: .gmt)
        var generator = SystemRandomNumberGenerator()
        // 1970 to 2100 at random, plus days where calendars go wrong.
        var samples = (0..<2000).map { _ in Int64.random(in: 0..<4_102_444_800_000, using: &generator) }
        samples += [0, 951_782_400_000, 951_868_799_999, 4_107_542_399_999, 1_709_164_800_000, 1_735_689_599_999]
        for milliseconds in samples {
            var buffer = ByteBuffer()
            PostCopyText.writeTimestamp(milliseconds: milliseconds, into: &buffer)
            // Whole seconds from Foundation (exact in a Double), then the milliseconds:
            // 2000-02-29T23:59:59Z -> 2000-02-29 23:59:59.999+00
            let iso = Date(timeIntervalSince1970: Double(milliseconds / 1000)).formatted(formatter)
            let fraction = String(milliseconds % 1000)
            let expected = iso.replacingOccurrences(of: "T", with: " ").dropLast() + "."
                + String(repeating: "0", count: 3 - fraction.count) + fraction + "+00"
            #expect(String(buffer: buffer) == expected, "\(milliseconds)")
        }
    }

    @Test func escapesWhatTheTextFormatTreatsSpecially() {
        var buffer = ByteBuffer()
        PostCopyText.writeEscaped("a\\b\tc\nd\re \\N é", into: &buffer)
        #expect(String(buffer: buffer) == #"a\\b\tc\nd\re \\N é"#)
    }

    @Test func rowsCarryEveryColumnWithNullsForNoLink() {
        var batch = MutationBatch([])
        batch.postIDs = [7, 9]
        batch.postAuthors = [1, 2]
        batch.postBodies = ["hi", "re"]
        batch.postCreatedMilliseconds = [86_400_000, 86_400_001]
        batch.postKinds = [0, 1]
        batch.postLinks = [0, 7]
        batch.postLinkAuthors = [nil, 1]
        let rows = PostCopyText.rows(batch) { Int64($0) * 100 }
        #expect(
            String(buffer: rows)
                == "7\t100\thi\t1970-01-02 00:00:00.000+00\t0\t\\N\t\\N\n9\t200\tre\t1970-01-02 00:00:00.001+00\t1\t7\t100\n")
    }
}
