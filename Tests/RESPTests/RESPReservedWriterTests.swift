import NIOCore
import RESP
import Testing

@Suite struct RESPReservedWriterTests {
    /// Random elements written in one reservation come out byte for byte as
    /// the one-element writers write them, with the sizes measured exactly.
    @Test func elementsInOneReservationMatchTheOneByOneWriters() {
        var rng = SystemRandomNumberGenerator()
        func integer() -> Int64 {
            let edges: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, Int64.max, Int64.min]
            if Bool.random(using: &rng) { return edges.randomElement(using: &rng)! }
            return Int64.random(in: Int64.min...Int64.max, using: &rng) >> Int64.random(in: 0..<63, using: &rng)
        }
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let (line, decimal, prefix) = (integer(), integer(), [UInt8(ascii: "*"), UInt8(ascii: ":"), UInt8(ascii: "$")].randomElement(using: &rng)!)

            var expected = ByteBuffer()
            expected.writeRESPLine(prefix: prefix, line)
            expected.writeRESPBulkDecimal(decimal)
            expected.writeRESPBulkString(bytes: bytes, count: bytes.count)

            var written = ByteBuffer()
            written.writeStaticString("before")
            let size =
                RESPReservedWriter.lineSize(line) + RESPReservedWriter.bulkDecimalSize(decimal)
                + RESPReservedWriter.bulkSize(count: bytes.count)
            bytes.withUnsafeBytes { raw in
                written.writeRESPElements(size: size) { out in
                    out.line(prefix: prefix, line)
                    out.bulkDecimal(decimal)
                    out.bulk(raw)
                }
            }
            #expect(written.readString(length: 6) == "before")
            #expect(written == expected, "line \(line), decimal \(decimal), \(bytes.count) bytes")
        }
    }
}
