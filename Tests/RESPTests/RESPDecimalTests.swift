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

    @Test func lengthCountsDigitsAndSign() {
        #expect(RESPDecimal.length(of: 0) == 1)
        #expect(RESPDecimal.length(of: 9) == 1)
        #expect(RESPDecimal.length(of: 10) == 2)
        #expect(RESPDecimal.length(of: -10) == 3)
        #expect(RESPDecimal.length(of: Int64.min) == 20)
        #expect(RESPDecimal.length(of: Int64.max) == 19)
    }
}
