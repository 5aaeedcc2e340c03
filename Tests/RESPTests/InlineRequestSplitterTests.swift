@testable import RESP
import Testing

@Suite struct InlineRequestSplitterTests {
    func split(_ line: String) -> [String]? {
        let bytes = Array(line.utf8)
        return bytes.withUnsafeBytes { raw in
            InlineRequestSplitter.split(raw)?.map { token -> String in
                switch token {
                case .span(let range): return String(decoding: bytes[range], as: UTF8.self)
                case .bytes(let rewritten): return String(decoding: rewritten, as: UTF8.self)
                }
            }
        }
    }

    @Test func plainTokensAreSpansOfTheLine() {
        let bytes = Array("SET key value".utf8)
        let tokens = bytes.withUnsafeBytes { InlineRequestSplitter.split($0) }
        #expect(tokens == [.span(0..<3), .span(4..<7), .span(8..<13)])
    }

    @Test func blankLinesHaveNoArguments() {
        #expect(split("") == [])
        #expect(split("   \t ") == [])
    }

    @Test func quotesFollowSdssplitargs() {
        #expect(split("a \"b c\" 'd e'") == ["a", "b c", "d e"])
        #expect(split("\"\\x7a\\x7A\"") == ["zz"])
        #expect(split("'it\\'s'") == ["it's"])
        // In single quotes `\'` is an escaped quote, so `'\\'` never closes (Redis agrees).
        #expect(split("'\\\\'") == nil)
        #expect(split("'\\\\ x'") == ["\\\\ x"])
        #expect(split("\"unterminated") == nil)
        #expect(split("'unterminated") == nil)
        #expect(split("\"a\"b") == nil)
        #expect(split("\"a\" b") == ["a", "b"])
        #expect(split("\"trailing backslash\\") == nil)
    }
}
