import NIOCore

/// Writes several RESP elements into one region of a buffer reserved for
/// them: one capacity and uniqueness check for the lot, where each
/// `ByteBuffer` write makes its own (a reply of 50 four-field entries made
/// some 500 of them). Measure first with the `…Size` functions, then
/// write exactly that much with `ByteBuffer.writeRESPElements(size:_:)`.
public struct RESPReservedWriter: ~Copyable {
    @usableFromInline let out: UnsafeMutableRawBufferPointer
    @usableFromInline var index = 0

    @inlinable
    init(_ out: UnsafeMutableRawBufferPointer) {
        self.out = out
    }

    /// Bytes of `prefix value CRLF` (`:42\r\n`, `*4\r\n`, `$5\r\n`).
    @inlinable
    public static func lineSize(_ value: Int64) -> Int {
        RESPDecimal.length(of: value) + 3
    }

    /// Bytes of a bulk string of `count` bytes.
    @inlinable
    public static func bulkSize(count: Int) -> Int {
        Self.lineSize(Int64(count)) + count + 2
    }

    /// Bytes of an integer as a bulk string (`$2\r\n42\r\n`).
    @inlinable
    public static func bulkDecimalSize(_ value: Int64) -> Int {
        Self.bulkSize(count: RESPDecimal.length(of: value))
    }

    /// `prefix value CRLF`, as `ByteBuffer.writeRESPLine`.
    @inlinable
    public mutating func line(prefix: UInt8, _ value: Int64) {
        let length = RESPDecimal.length(of: value)
        let start = self.index
        self.claim(length + 3)
        self.out[start] = prefix
        if value < 0 { self.out[start + 1] = .minus }
        RESPDecimal.writeDigits(value.magnitude, into: self.out, endingAt: start + length + 1)
        self.out[start + length + 1] = .cr
        self.out[start + length + 2] = .lf
        self.index = start + length + 3
    }

    /// `$len\r\nbytes\r\n`.
    @inlinable
    public mutating func bulk(_ bytes: UnsafeRawBufferPointer) {
        self.line(prefix: .dollar, Int64(bytes.count))
        self.claim(bytes.count + 2)
        if let base = bytes.baseAddress, bytes.count > 0 {
            (self.out.baseAddress! + self.index).copyMemory(from: base, byteCount: bytes.count)
        }
        self.index += bytes.count
        self.crlf()
    }

    /// An integer as a bulk string, as `ByteBuffer.writeRESPBulkDecimal`.
    @inlinable
    public mutating func bulkDecimal(_ value: Int64) {
        let length = RESPDecimal.length(of: value)
        self.line(prefix: .dollar, Int64(length))
        self.claim(length + 2)
        if value < 0 { self.out[self.index] = .minus }
        RESPDecimal.writeDigits(value.magnitude, into: self.out, endingAt: self.index + length)
        self.index += length
        self.crlf()
    }

    /// Stops before writing past the reservation (a size measured wrong),
    /// in release builds too: the writes below do not check.
    @inlinable
    func claim(_ bytes: Int) {
        precondition(self.index + bytes <= self.out.count, "RESP elements wrote past the bytes measured for them")
    }

    @inlinable
    mutating func crlf() {
        self.out[self.index] = .cr
        self.out[self.index + 1] = .lf
        self.index += 2
    }
}

extension ByteBuffer {
    /// Reserves `size` bytes and lets `body` write them (exactly `size`:
    /// measured with `RESPReservedWriter`'s size functions).
    @inlinable
    public mutating func writeRESPElements(size: Int, _ body: (inout RESPReservedWriter) -> Void) {
        self.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            // Exactly the measured bytes, though the buffer may offer more.
            var writer = RESPReservedWriter(UnsafeMutableRawBufferPointer(rebasing: out[..<size]))
            body(&writer)
            precondition(writer.index == size, "RESP elements measured \(size) bytes, wrote \(writer.index)")
            return size
        }
    }
}
