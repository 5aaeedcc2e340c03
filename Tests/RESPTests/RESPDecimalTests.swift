import NIOCore
import RESP
import Testing

@Suite struct RESPDecimalTests {
    @Test(arguments: [
        ("0", Int64(0)), ("1", 1), ("42", 42), ("-7", -7),
        ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min),
    ])
    func parsesWhatRedisAccepts(text: String, value: Int64) {
        #expect(RESPDecimal.parse(bytes: Array(text.utf8)) == value)
    }

    @Test(arguments: [
        "", "-", "+1", "01", "-0", "00", " 1", "1 ", "1a", "9223372036854775808", "-9223372036854775809",
        "99999999999999999999", "1.5",
    ])
    func rejectsWhatRedisRejects(text: String) {
        #expect(RESPDecimal.parse(bytes: Array(text.utf8)) == nil)
    }

    @Test func digitCountMatchesTheDecimalTextEverywhere() {
        var samples: [UInt64] = [0, 1, 9, 10, 99, 100, UInt64(Int64.max), UInt64(Int64.max) + 1, UInt64.max]
        var power: UInt64 = 1
        for _ in 0..<19 {
            samples += [power - 1, power, power + 1]
            power *= 10
        }
        var rng = SystemRandomNumberGenerator()
        for bits in 0..<64 { samples.append(UInt64.random(in: 0...(UInt64(1) << UInt64(bits)), using: &rng)) }
        for value in samples {
            #expect(RESPDecimal.digitCount(value) == String(value).count, "\(value)")
        }
    }

    @Test func integersAreWrittenAsTheirDecimalText() {
        var values: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, 101, 12345, Int64.max, Int64.min, 382_513_037_849_919_488]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 { values.append(Int64.random(in: Int64.min...Int64.max, using: &rng) >> Int64.random(in: 0..<63, using: &rng)) }
        for value in values {
            var buffer = ByteBuffer()
            buffer.writeRESPInteger(value)
            buffer.writeRESPBulkDecimal(value)
            let text = String(value)
            #expect(String(buffer: buffer) == ":\(text)\r\n$\(text.count)\r\n\(text)\r\n")
        }
    }

    @Test func lengthCountsDigitsAndSign() {
        #expect(RESPDecimal.length(of: 0) == 1)
        #expect(RESPDecimal.length(of: 9) == 1)
        #expect(RESPDecimal.length(of: 10) == 2)
        #expect(RESPDecimal.length(of: -10) == 3)
        #expect(RESPDecimal.length(of: Int64.min) == 20)
        #expect(RESPDecimal.length(of: Int64.max) == 19)
    }
}
