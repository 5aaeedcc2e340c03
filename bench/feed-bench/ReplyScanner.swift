import NIOCore

/// Finds where each RESP reply ends without building it: the load run only
/// needs to know that a reply arrived and whether it was an error, and
/// materializing a 250-value FEED.READ reply would cost the load tool more
/// CPU than the server spends making it (on a machine they share).
struct ReplyScanner {
    enum Reply {
        case value
        case error(String)
    }

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// The next complete reply in `buffer` (consumed), or nil if it has not
    /// all arrived (nothing consumed).
    static func next(_ buffer: inout ByteBuffer) throws -> Reply? {
        try buffer.withUnsafeReadableBytes { bytes -> (Reply, Int)? in
            var index = 0
            var remaining = 1
            var first: Reply = .value
            var isFirst = true
            while remaining > 0 {
                guard index < bytes.count else { return nil }
                let type = bytes[index]
                guard let lineEnd = Self.lineEnd(bytes, from: index + 1) else { return nil }
                let line = UnsafeRawBufferPointer(rebasing: bytes[(index + 1)..<lineEnd])
                index = lineEnd + 2
                remaining -= 1
                switch type {
                case UInt8(ascii: "+"), UInt8(ascii: ":"), UInt8(ascii: "_"), UInt8(ascii: ","), UInt8(ascii: "#"),
                    UInt8(ascii: "("):
                    break
                case UInt8(ascii: "-"):
                    if isFirst { first = .error(String(decoding: line, as: UTF8.self)) }
                case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
                    let length = try Self.integer(line)
                    if length >= 0 {
                        guard index + length + 2 <= bytes.count else { return nil }
                        if type == UInt8(ascii: "!") && isFirst {
                            first = .error(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[index..<(index + length)]), as: UTF8.self))
                        }
                        index += length + 2
                    }
                case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"):
                    remaining += max(0, try Self.integer(line))
                case UInt8(ascii: "%"), UInt8(ascii: "|"):
                    remaining += 2 * max(0, try Self.integer(line))
                default:
                    throw Malformed(description: "unexpected RESP type byte \(type)")
                }
                isFirst = false
            }
            return (first, index)
        }.map { reply, length in
            buffer.moveReaderIndex(forwardBy: length)
            return reply
        }
    }

    private static func lineEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "\r") && bytes[index + 1] == UInt8(ascii: "\n") { return index }
            index += 1
        }
        return nil
    }

    private static func integer(_ line: UnsafeRawBufferPointer) throws -> Int {
        var value = 0
        var negative = false
        for (offset, byte) in line.enumerated() {
            if offset == 0 && byte == UInt8(ascii: "-") {
                negative = true
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            } else {
                throw Malformed(description: "bad length in reply")
            }
        }
        return negative ? -value : value
    }
}
