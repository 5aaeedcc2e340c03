import NIOCore
import RESP
import Testing

@Suite struct RESPValueEncodingTests {
    func wire(_ value: RESPValue, _ version: RESPVersion) -> String {
        var buffer = ByteBuffer()
        value.encode(into: &buffer, version: version)
        return String(buffer: buffer)
    }

    @Test func sharedTypesAreTheSameInBothVersions() {
        for version in [RESPVersion.resp2, .resp3] {
            #expect(wire(.simpleString("OK"), version) == "+OK\r\n")
            #expect(wire(.error("ERR bad"), version) == "-ERR bad\r\n")
            #expect(wire(.integer(0), version) == ":0\r\n")
            #expect(wire(.integer(-42), version) == ":-42\r\n")
            #expect(wire(.integer(Int64.min), version) == ":-9223372036854775808\r\n")
            #expect(wire(.integer(Int64.max), version) == ":9223372036854775807\r\n")
            #expect(wire(.bulk("hi"), version) == "$2\r\nhi\r\n")
            #expect(wire(.bulk(""), version) == "$0\r\n\r\n")
            #expect(wire(.array([.integer(1), .bulk("a")]), version) == "*2\r\n:1\r\n$1\r\na\r\n")
            #expect(wire(.array([]), version) == "*0\r\n")
        }
    }

    @Test func resp3TypesHaveTheirOwnMarkers() {
        #expect(wire(.null, .resp3) == "_\r\n")
        #expect(wire(.nullArray, .resp3) == "_\r\n")
        #expect(wire(.map([RESPMapEntry(.bulk("k"), .integer(1))]), .resp3) == "%1\r\n$1\r\nk\r\n:1\r\n")
        #expect(wire(.set([.bulk("a")]), .resp3) == "~1\r\n$1\r\na\r\n")
        #expect(wire(.double(1.5), .resp3) == ",1.5\r\n")
        #expect(wire(.double(3), .resp3) == ",3\r\n")
        #expect(wire(.double(.infinity), .resp3) == ",inf\r\n")
        #expect(wire(.double(-.infinity), .resp3) == ",-inf\r\n")
        #expect(wire(.double(.nan), .resp3) == ",nan\r\n")
        #expect(wire(.boolean(true), .resp3) == "#t\r\n")
        #expect(wire(.boolean(false), .resp3) == "#f\r\n")
        #expect(wire(.verbatimString(format: "txt", text: ByteBuffer(string: "a:b")), .resp3) == "=7\r\ntxt:a:b\r\n")
        #expect(wire(.bigNumber("12345678901234567890"), .resp3) == "(12345678901234567890\r\n")
        #expect(wire(.push([.bulk("message")]), .resp3) == ">1\r\n$7\r\nmessage\r\n")
    }

    @Test func resp3TypesDegradeToTheirResp2Shapes() {
        #expect(wire(.null, .resp2) == "$-1\r\n")
        #expect(wire(.nullArray, .resp2) == "*-1\r\n")
        #expect(wire(.map([RESPMapEntry(.bulk("k"), .integer(1))]), .resp2) == "*2\r\n$1\r\nk\r\n:1\r\n")
        #expect(wire(.set([.bulk("a")]), .resp2) == "*1\r\n$1\r\na\r\n")
        #expect(wire(.double(1.5), .resp2) == "$3\r\n1.5\r\n")
        #expect(wire(.boolean(true), .resp2) == ":1\r\n")
        #expect(wire(.boolean(false), .resp2) == ":0\r\n")
        #expect(wire(.verbatimString(format: "txt", text: ByteBuffer(string: "a:b")), .resp2) == "$3\r\na:b\r\n")
        #expect(wire(.bigNumber("123"), .resp2) == "$3\r\n123\r\n")
        #expect(wire(.push([.bulk("m")]), .resp2) == "*1\r\n$1\r\nm\r\n")
    }

    @Test func errorsCannotBreakTheFraming() {
        #expect(wire(.error("ERR unknown command 'a\r\nb'"), .resp2) == "-ERR unknown command 'a  b'\r\n")
    }

    @Test func integersAsBulkStrings() {
        var buffer = ByteBuffer()
        buffer.writeRESPBulkDecimal(1_795_263_213)
        buffer.writeRESPBulkDecimal(-5)
        buffer.writeRESPBulkDecimal(0)
        #expect(String(buffer: buffer) == "$10\r\n1795263213\r\n$2\r\n-5\r\n$1\r\n0\r\n")
    }
}
