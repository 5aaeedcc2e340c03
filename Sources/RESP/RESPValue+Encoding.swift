import NIOCore

extension RESPValue {
    /// Writes the value in `version`'s wire format; RESP3-only types take their
    /// RESP2 shape on a RESP2 connection.
    public func encode(into buffer: inout ByteBuffer, version: RESPVersion = .resp3) {
        switch self {
        case .simpleString(let text):
            buffer.writeRESPSimpleString(text)
        case .error(let message):
            buffer.writeRESPError(message)
        case .integer(let value):
            buffer.writeRESPInteger(value)
        case .bulkString(let bytes):
            buffer.writeRESPBulkString(bytes)
        case .null:
            buffer.writeRESPNull(version)
        case .nullArray:
            buffer.writeRESPNullArray(version)
        case .array(let values):
            buffer.writeRESPArrayHeader(values.count)
            for value in values { value.encode(into: &buffer, version: version) }
        case .map(let entries):
            buffer.writeRESPMapHeader(entries.count, version)
            for entry in entries {
                entry.key.encode(into: &buffer, version: version)
                entry.value.encode(into: &buffer, version: version)
            }
        case .set(let values):
            buffer.writeRESPSetHeader(values.count, version)
            for value in values { value.encode(into: &buffer, version: version) }
        case .double(let value):
            buffer.writeRESPDouble(value, version)
        case .boolean(let value):
            buffer.writeRESPBoolean(value, version)
        case .verbatimString(let format, let text):
            switch version {
            case .resp3:
                buffer.writeRESPLine(prefix: .equals, Int64(text.readableBytes + 4))
                buffer.writeString(format)
                buffer.writeInteger(UInt8.colon)
                var copy = text
                buffer.writeBuffer(&copy)
                buffer.writeCRLF()
            case .resp2:
                buffer.writeRESPBulkString(text)
            }
        case .bigNumber(let digits):
            switch version {
            case .resp3:
                buffer.writeInteger(UInt8.openParen)
                buffer.writeString(digits)
                buffer.writeCRLF()
            case .resp2:
                buffer.writeRESPBulkString(digits)
            }
        case .push(let values):
            buffer.writeRESPPushHeader(values.count, version)
            for value in values { value.encode(into: &buffer, version: version) }
        }
    }

    /// Writes a request: an array of bulk strings, which is all a client sends.
    public static func encodeCommand(_ arguments: [String], into buffer: inout ByteBuffer) {
        buffer.writeRESPArrayHeader(arguments.count)
        for argument in arguments { buffer.writeRESPBulkString(argument) }
    }

    /// Writes a request whose arguments are raw bytes.
    public static func encodeCommand(_ arguments: [ByteBuffer], into buffer: inout ByteBuffer) {
        buffer.writeRESPArrayHeader(arguments.count)
        for argument in arguments { buffer.writeRESPBulkString(argument) }
    }
}
