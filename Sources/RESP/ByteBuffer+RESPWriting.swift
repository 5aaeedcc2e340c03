import NIOCore

/// The low-level reply writers. Each writes one complete RESP element (or an
/// aggregate's header) at the writer index. Hot paths call these directly so a
/// reply never passes through an intermediate value tree.
///
/// Types RESP2 lacks are written in their RESP2 shape when `version` is
/// `.resp2`: a map becomes a flat array of key/value pairs, a set or push an
/// array, a boolean an integer, a double or verbatim string a bulk string.
extension ByteBuffer {
    /// Writes `prefix`, `value` in decimal and CRLF, e.g. `:42\r\n` or `*3\r\n`.
    @inlinable
    public mutating func writeRESPLine(prefix: UInt8, _ value: Int64) {
        self.writeRESPElements(size: RESPReservedWriter.lineSize(value)) { $0.line(prefix: prefix, value) }
    }

    @inlinable
    mutating func writeCRLF() {
        self.writeInteger(UInt16(0x0D0A))  // big-endian by default: \r then \n
    }

    /// `+text\r\n`. The caller guarantees `text` has no CR or LF.
    @inlinable
    public mutating func writeRESPSimpleString(_ text: String) {
        self.writeInteger(UInt8.plus)
        self.writeString(text)
        self.writeCRLF()
    }

    /// `-message\r\n`, where `message` starts with the error code (`ERR …`,
    /// `NOAUTH …`). CR and LF in the message become spaces, as Redis does, so an
    /// argument echoed into an error cannot break the framing.
    @inlinable
    public mutating func writeRESPError(_ message: String) {
        self.writeInteger(UInt8.minus)
        let offset = self.writerIndex - self.readerIndex
        let length = self.writeString(message)
        if message.utf8.contains(where: { $0 == .cr || $0 == .lf }) {
            self.withUnsafeMutableReadableBytes { bytes in
                for index in offset..<(offset + length) where bytes[index] == .cr || bytes[index] == .lf {
                    bytes[index] = .space
                }
            }
        }
        self.writeCRLF()
    }

    /// `:value\r\n`.
    @inlinable
    public mutating func writeRESPInteger(_ value: Int64) {
        self.writeRESPLine(prefix: .colon, value)
    }

    /// `:value\r\n`.
    @inlinable
    public mutating func writeRESPInteger(_ value: Int) {
        self.writeRESPLine(prefix: .colon, Int64(value))
    }

    /// `$len\r\nbytes\r\n`, copying the readable bytes of `bytes`.
    @inlinable
    public mutating func writeRESPBulkString(_ bytes: ByteBuffer) {
        self.writeRESPLine(prefix: .dollar, Int64(bytes.readableBytes))
        var copy = bytes
        self.writeBuffer(&copy)
        self.writeCRLF()
    }

    /// `$len\r\ntext\r\n`.
    @inlinable
    public mutating func writeRESPBulkString(_ text: String) {
        self.writeRESPLine(prefix: .dollar, Int64(text.utf8.count))
        self.writeString(text)
        self.writeCRLF()
    }

    /// `$len\r\nbytes\r\n`.
    @inlinable
    public mutating func writeRESPBulkString<Bytes: Sequence>(bytes: Bytes, count: Int) where Bytes.Element == UInt8 {
        self.writeRESPLine(prefix: .dollar, Int64(count))
        self.writeBytes(bytes)
        self.writeCRLF()
    }

    /// An integer as a bulk string (`$2\r\n42\r\n`), as Redis sends ids in `TIME`.
    @inlinable
    public mutating func writeRESPBulkDecimal(_ value: Int64) {
        self.writeRESPElements(size: RESPReservedWriter.bulkDecimalSize(value)) { $0.bulkDecimal(value) }
    }

    /// The null bulk string: `$-1` in RESP2, `_` in RESP3.
    @inlinable
    public mutating func writeRESPNull(_ version: RESPVersion) {
        switch version {
        case .resp2: self.writeStaticString("$-1\r\n")
        case .resp3: self.writeStaticString("_\r\n")
        }
    }

    /// The null array: `*-1` in RESP2, `_` in RESP3.
    @inlinable
    public mutating func writeRESPNullArray(_ version: RESPVersion) {
        switch version {
        case .resp2: self.writeStaticString("*-1\r\n")
        case .resp3: self.writeStaticString("_\r\n")
        }
    }

    /// `*count\r\n`; the caller then writes `count` elements.
    @inlinable
    public mutating func writeRESPArrayHeader(_ count: Int) {
        self.writeRESPLine(prefix: .asterisk, Int64(count))
    }

    /// `%count\r\n` (RESP3) or `*2count\r\n` (RESP2); the caller then writes
    /// `count` key/value pairs.
    @inlinable
    public mutating func writeRESPMapHeader(_ count: Int, _ version: RESPVersion) {
        switch version {
        case .resp2: self.writeRESPLine(prefix: .asterisk, Int64(count) * 2)
        case .resp3: self.writeRESPLine(prefix: .percent, Int64(count))
        }
    }

    /// `~count\r\n` (RESP3) or `*count\r\n` (RESP2).
    @inlinable
    public mutating func writeRESPSetHeader(_ count: Int, _ version: RESPVersion) {
        self.writeRESPLine(prefix: version == .resp3 ? .tilde : .asterisk, Int64(count))
    }

    /// `>count\r\n` (RESP3) or `*count\r\n` (RESP2): an out-of-band message.
    @inlinable
    public mutating func writeRESPPushHeader(_ count: Int, _ version: RESPVersion) {
        self.writeRESPLine(prefix: version == .resp3 ? .greaterThan : .asterisk, Int64(count))
    }

    /// `#t\r\n` / `#f\r\n` (RESP3) or `:1\r\n` / `:0\r\n` (RESP2).
    @inlinable
    public mutating func writeRESPBoolean(_ value: Bool, _ version: RESPVersion) {
        switch (version, value) {
        case (.resp3, true): self.writeStaticString("#t\r\n")
        case (.resp3, false): self.writeStaticString("#f\r\n")
        case (.resp2, true): self.writeStaticString(":1\r\n")
        case (.resp2, false): self.writeStaticString(":0\r\n")
        }
    }

    /// `,3.14\r\n` (RESP3) or `$4\r\n3.14\r\n` (RESP2). Infinities and NaN are
    /// written `inf`, `-inf` and `nan`, as RESP3 specifies.
    @inlinable
    public mutating func writeRESPDouble(_ value: Double, _ version: RESPVersion) {
        let text = RESPValue.doubleText(value)
        switch version {
        case .resp3:
            self.writeInteger(UInt8.comma)
            self.writeString(text)
            self.writeCRLF()
        case .resp2:
            self.writeRESPBulkString(text)
        }
    }

    /// `=len\r\nfmt:text\r\n` (RESP3) or a bulk string of `text` (RESP2). Redis
    /// replies to INFO and CLIENT LIST this way; `format` is three bytes, e.g. `txt`.
    @inlinable
    public mutating func writeRESPVerbatimString(_ text: String, format: StaticString = "txt", _ version: RESPVersion) {
        switch version {
        case .resp3:
            self.writeRESPLine(prefix: .equals, Int64(text.utf8.count + 4))
            self.writeStaticString(format)
            self.writeInteger(UInt8.colon)
            self.writeString(text)
            self.writeCRLF()
        case .resp2:
            self.writeRESPBulkString(text)
        }
    }
}
