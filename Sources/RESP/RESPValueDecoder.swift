import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A reply that cannot be parsed: the peer is not speaking RESP.
public struct RESPValueDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Decodes any RESP2 or RESP3 value, for the client side: the load tool and
/// the tests read the server's replies with it.
///
/// Parsing is all-or-nothing: a value is returned, and the reader index moved,
/// only when all of it has arrived. When a bulk string is incomplete the
/// decoder remembers how many bytes it needs at least, and does not parse
/// again until they are there, so a large reply arriving in many reads is not
/// re-parsed once per read. Bulk strings are slices of the buffer. Nesting is
/// limited to `maxDepth`, so hostile input cannot overflow the stack.
public struct RESPValueDecoder: Sendable {
    public var maxDepth: Int
    public var maxBulkLength: Int
    /// Readable bytes known to be needed before the next value can be complete.
    private var needed = 0

    public init(maxDepth: Int = 32, maxBulkLength: Int = 512 * 1024 * 1024) {
        self.maxDepth = maxDepth
        self.maxBulkLength = maxBulkLength
    }

    /// The next complete value in `buffer`, or nil when more bytes are needed.
    public mutating func next(_ buffer: inout ByteBuffer) throws(RESPValueDecodingError) -> RESPValue? {
        if buffer.readableBytes < self.needed { return nil }
        var parser = Parser(buffer: buffer, maxDepth: self.maxDepth, maxBulkLength: self.maxBulkLength)
        guard let value = try parser.value(depth: 0) else {
            self.needed = parser.neededEnd - buffer.readerIndex
            return nil
        }
        buffer.moveReaderIndex(to: parser.index)
        self.needed = 0
        return value
    }

    private struct Parser {
        let buffer: ByteBuffer
        let maxDepth: Int
        let maxBulkLength: Int
        var index: Int
        /// When a value is incomplete: the absolute index the data must reach at least.
        var neededEnd: Int = 0

        init(buffer: ByteBuffer, maxDepth: Int, maxBulkLength: Int) {
            self.buffer = buffer
            self.maxDepth = maxDepth
            self.maxBulkLength = maxBulkLength
            self.index = buffer.readerIndex
        }

        /// The content of the line at `index` (without CRLF), moving past it.
        mutating func line() -> Range<Int>? {
            let start = self.index
            let end = self.buffer.writerIndex
            guard start < end else {
                self.neededEnd = start + 1
                return nil
            }
            let offset = start - self.buffer.readerIndex
            let cr: Int? = self.buffer.withUnsafeReadableBytes { bytes in
                guard let base = bytes.baseAddress,
                    let hit = memchr(base + offset, Int32(UInt8.cr), bytes.count - offset)
                else { return nil }
                return UnsafeRawPointer(hit) - base + self.buffer.readerIndex
            }
            guard let cr, cr + 1 < end else {
                self.neededEnd = end + 1
                return nil
            }
            self.index = cr + 2
            return start..<cr
        }

        func text(_ range: Range<Int>) -> String {
            self.buffer.getString(at: range.lowerBound, length: range.count) ?? ""
        }

        func integer(_ range: Range<Int>) throws(RESPValueDecodingError) -> Int64 {
            let value = self.buffer.withUnsafeReadableBytes { bytes in
                let offset = range.lowerBound - self.buffer.readerIndex
                return RESPDecimal.parse(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + range.count)]))
            }
            guard let value else { throw RESPValueDecodingError("invalid integer '\(self.text(range))'") }
            return value
        }

        /// Reads a length line's payload plus CRLF; nil when incomplete.
        mutating func payload(length: Int64) throws(RESPValueDecodingError) -> ByteBuffer? {
            guard length >= 0, length <= Int64(self.maxBulkLength) else {
                throw RESPValueDecodingError("invalid bulk length \(length)")
            }
            let end = self.index + Int(length)
            guard end + 2 <= self.buffer.writerIndex else {
                self.neededEnd = end + 2
                return nil
            }
            let slice = self.buffer.getSlice(at: self.index, length: Int(length))!
            self.index = end + 2
            return slice
        }

        mutating func elements(_ count: Int64, depth: Int) throws(RESPValueDecodingError) -> [RESPValue]? {
            guard count >= 0 else { throw RESPValueDecodingError("invalid aggregate length \(count)") }
            var values: [RESPValue] = []
            // Every element takes at least 3 bytes, so this never trusts a count
            // beyond what could possibly have arrived.
            values.reserveCapacity(min(Int(count), (self.buffer.writerIndex - self.index) / 3))
            for _ in 0..<count {
                guard let value = try self.value(depth: depth + 1) else { return nil }
                values.append(value)
            }
            return values
        }

        mutating func value(depth: Int) throws(RESPValueDecodingError) -> RESPValue? {
            guard depth <= self.maxDepth else { throw RESPValueDecodingError("reply nested too deeply") }
            guard let type = self.buffer.getInteger(at: self.index, as: UInt8.self),
                self.index < self.buffer.writerIndex
            else {
                self.neededEnd = self.index + 1
                return nil
            }
            self.index += 1
            guard let line = self.line() else { return nil }
            switch type {
            case .plus:
                return .simpleString(self.text(line))
            case .minus:
                return .error(self.text(line))
            case .colon:
                return .integer(try self.integer(line))
            case .dollar:
                let length = try self.integer(line)
                if length == -1 { return .null }
                return try self.payload(length: length).map { .bulkString($0) }
            case .asterisk:
                let count = try self.integer(line)
                if count == -1 { return .nullArray }
                return try self.elements(count, depth: depth).map { .array($0) }
            case .underscore:
                return .null
            case .comma:
                let text = self.text(line)
                switch text {
                case "inf", "+inf": return .double(.infinity)
                case "-inf": return .double(-.infinity)
                case "nan", "-nan": return .double(.nan)
                default:
                    guard let value = Double(text) else { throw RESPValueDecodingError("invalid double '\(text)'") }
                    return .double(value)
                }
            case .hash:
                switch self.text(line) {
                case "t": return .boolean(true)
                case "f": return .boolean(false)
                case let other: throw RESPValueDecodingError("invalid boolean '\(other)'")
                }
            case .openParen:
                return .bigNumber(self.text(line))
            case .equals:
                let length = try self.integer(line)
                guard length >= 4 else { throw RESPValueDecodingError("invalid verbatim length \(length)") }
                guard var payload = try self.payload(length: length) else { return nil }
                let format = payload.readString(length: 3) ?? ""
                payload.moveReaderIndex(forwardBy: 1)
                return .verbatimString(format: format, text: payload)
            case .exclamation:
                let length = try self.integer(line)
                return try self.payload(length: length).map { .error(String(buffer: $0)) }
            case .percent:
                let count = try self.integer(line)
                guard count >= 0, count <= Int64(Int.max / 2) else {
                    throw RESPValueDecodingError("invalid map length \(count)")
                }
                guard let flat = try self.elements(count * 2, depth: depth) else { return nil }
                return .map(stride(from: 0, to: flat.count, by: 2).map { RESPMapEntry(flat[$0], flat[$0 + 1]) })
            case .tilde:
                let count = try self.integer(line)
                return try self.elements(count, depth: depth).map { .set($0) }
            case .greaterThan:
                let count = try self.integer(line)
                return try self.elements(count, depth: depth).map { .push($0) }
            case .pipe:
                // Attributes annotate the value that follows; skip them and return it.
                let count = try self.integer(line)
                guard count >= 0, count <= Int64(Int.max / 2) else {
                    throw RESPValueDecodingError("invalid attribute length \(count)")
                }
                guard try self.elements(count * 2, depth: depth) != nil else { return nil }
                return try self.value(depth: depth)
            default:
                throw RESPValueDecodingError("unknown reply type byte \(type)")
            }
        }
    }
}
