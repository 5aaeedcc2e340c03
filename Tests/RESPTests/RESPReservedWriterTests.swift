import NIOCore
import RESP
import Testing

@Suite struct RESPReservedWriterTests {
    /// Random elements written in one reservation come out byte for byte as
    /// RESP spells them (the text made with Swift's own integer formatting),
    /// with the sizes measured exactly. The one-element `ByteBuffer` writers
    /// are made of these, so this is their test too.
    @Test func elementsInOneReservationAreRESPsText() {
        var rng = SystemRandomNumberGenerator()
        func integer() -> Int64 {
            let edges: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, Int64.max, Int64.min]
            if Bool.random(using: &rng) { return edges.randomElement(using: &rng)! }
            return Int64.random(in: Int64.min...Int64.max, using: &rng) >> Int64.random(in: 0..<63, using: &rng)
        }
        for _ in 0..<2000 {
            let bytes = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let (line, decimal) = (integer(), integer())
            let prefix = ["*", ":", "$"].randomElement(using: &rng)!

            let text = "\(prefix)\(line)\r\n$\(String(decimal).utf8.count)\r\n\(decimal)\r\n$\(bytes.count)\r\n"
            let expected = Array("before".utf8) + Array(text.utf8) + bytes + Array("\r\n".utf8)

            var written = ByteBuffer()
            written.writeStaticString("before")
            let size =
                RESPReservedWriter.lineSize(line) + RESPReservedWriter.bulkDecimalSize(decimal)
                + RESPReservedWriter.bulkSize(count: bytes.count)
            bytes.withUnsafeBytes { raw in
                written.writeRESPElements(size: size) { out in
                    out.line(prefix: UInt8(ascii: prefix.unicodeScalars.first!), line)
                    out.bulkDecimal(decimal)
                    out.bulk(raw)
                }
            }
            #expect(Array(written.readableBytesView) == expected, "line \(line), decimal \(decimal), \(bytes.count) bytes")
        }
    }
}
