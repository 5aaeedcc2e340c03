import NIOCore
import RESP
import Testing
import TestSupport

/// Random values, encoded and decoded again, in both protocol versions and
/// across random splits of the bytes.
@Suite struct RESPRoundTripTests {
    static func randomValue(depth: Int, using rng: inout SplitMix64) -> RESPValue {
        let scalarKinds = 10
        let kind = depth >= 3 ? Int.random(in: 0..<scalarKinds, using: &rng) : Int.random(in: 0..<(scalarKinds + 4), using: &rng)
        func text() -> String {
            String((0..<Int.random(in: 0...12, using: &rng)).map { _ in "ab:xyz 09_-é".randomElement(using: &rng)! })
        }
        func bytes() -> ByteBuffer {
            ByteBuffer(bytes: (0..<Int.random(in: 0...24, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }
        func children() -> [RESPValue] {
            (0..<Int.random(in: 0...4, using: &rng)).map { _ in randomValue(depth: depth + 1, using: &rng) }
        }
        switch kind {
        case 0: return .simpleString(text())
        case 1: return .error("ERR " + text())
        case 2: return .integer(Int64.random(in: Int64.min...Int64.max, using: &rng))
        case 3: return .bulkString(bytes())
        case 4: return .null
        case 5:
            let choices: [Double] = [0, -1.25, 3, 1e300, -2.5e-300, .infinity, -.infinity, 0.1, 123456.789]
            return .double(choices.randomElement(using: &rng)!)
        case 6: return .boolean(Bool.random(using: &rng))
        case 7: return .verbatimString(format: "txt", text: bytes())
        case 8: return .bigNumber(String(UInt64.random(in: 0...UInt64.max, using: &rng)) + "0000")
        case 9: return .integer(Int64.random(in: -5...5, using: &rng))
        case 10: return .array(children())
        case 11: return .map(children().map { RESPMapEntry(.bulk(text()), $0) })
        case 12: return .set(children())
        default: return .push(children())
        }
    }

    /// What a RESP2 client reads for `value`.
    static func resp2Shape(_ value: RESPValue) -> RESPValue {
        switch value {
        case .map(let entries): return .array(entries.flatMap { [resp2Shape($0.key), resp2Shape($0.value)] })
        case .set(let values), .push(let values), .array(let values): return .array(values.map(resp2Shape))
        case .double(let number): return .bulk(RESPValue.doubleText(number))
        case .boolean(let flag): return .integer(flag ? 1 : 0)
        case .verbatimString(_, let text): return .bulkString(text)
        case .bigNumber(let digits): return .bulk(digits)
        default: return value
        }
    }

    func decodeAll(_ wire: [UInt8], split: Split) throws -> [RESPValue] {
        var decoder = RESPValueDecoder()
        var buffer = ByteBuffer()
        var values: [RESPValue] = []
        for chunk in split.chunks(wire) {
            buffer.writeBytes(chunk)
            while let value = try decoder.next(&buffer) { values.append(value) }
        }
        #expect(buffer.readableBytes == 0)
        return values
    }

    @Test func valuesRoundTripInBothVersions() throws {
        var rng = SplitMix64(seed: 2024)
        for round in 0..<300 {
            let values = (0..<Int.random(in: 1...5, using: &rng)).map { _ in Self.randomValue(depth: 0, using: &rng) }
            for version in [RESPVersion.resp3, .resp2] {
                var buffer = ByteBuffer()
                for value in values { value.encode(into: &buffer, version: version) }
                let wire = Array(buffer.readableBytesView)
                let expected = version == .resp3 ? values : values.map(Self.resp2Shape)
                for split in [Split.whole, .random(seed: UInt64(round))] {
                    #expect(try decodeAll(wire, split: split) == expected, "round \(round) \(version) \(split)")
                }
            }
        }
    }

    @Test func decodingIsIncrementalByteByByte() throws {
        let value = RESPValue.map([
            RESPMapEntry(.bulk("server"), .bulk("feed-server")),
            RESPMapEntry(.bulk("modules"), .array([])),
            RESPMapEntry(.bulk("big"), .bulkString(ByteBuffer(repeating: 7, count: 5000))),
        ])
        var buffer = ByteBuffer()
        value.encode(into: &buffer, version: .resp3)
        #expect(try decodeAll(Array(buffer.readableBytesView), split: .byteByByte) == [value])
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        var buffer = ByteBuffer(string: String(repeating: "*1\r\n", count: 100_000) + ":1\r\n")
        var decoder = RESPValueDecoder()
        #expect(throws: RESPValueDecodingError.self) { try decoder.next(&buffer) }
    }

    @Test func anAnnouncedHugeArrayDoesNotAllocateUpFront() throws {
        var buffer = ByteBuffer(string: "*2000000000\r\n:1\r\n")
        var decoder = RESPValueDecoder()
        #expect(try decoder.next(&buffer) == nil)
    }

    @Test func malformedRepliesAreErrors() {
        for text in ["?x\r\n", ":12a\r\n", "#x\r\n", ",abc\r\n", "$-5\r\n"] {
            var buffer = ByteBuffer(string: text)
            var decoder = RESPValueDecoder()
            #expect(throws: RESPValueDecodingError.self, "\(text)") { try decoder.next(&buffer) }
        }
    }
}
