import NIOCore
import RESP

/// The connection's output buffer, with the protocol version its replies are
/// written in. Commands write replies straight into it; the connection
/// flushes it once per read batch.
struct ReplyWriter {
    var buffer: ByteBuffer
    var version: RESPVersion
    /// Error replies written, for INFO's total_error_replies.
    var errorCount = 0
    /// Where error replies are counted by code (the connection's writer only).
    let errors: ErrorStats?

    init(buffer: ByteBuffer, version: RESPVersion = .resp2, errors: ErrorStats? = nil) {
        self.buffer = buffer
        self.version = version
        self.errors = errors
    }

    mutating func ok() { self.buffer.writeStaticString("+OK\r\n") }
    mutating func simple(_ text: String) { self.buffer.writeRESPSimpleString(text) }
    mutating func error(_ message: String) {
        self.errorCount += 1
        self.errors?.record(message: message)
        self.buffer.writeRESPError(message)
    }
    mutating func integer(_ value: Int) { self.buffer.writeRESPInteger(value) }
    mutating func integer(_ value: Int64) { self.buffer.writeRESPInteger(value) }
    mutating func bulk(_ text: String) { self.buffer.writeRESPBulkString(text) }
    mutating func bulk(_ bytes: ByteBuffer) { self.buffer.writeRESPBulkString(bytes) }
    mutating func bulk(decimal value: Int64) { self.buffer.writeRESPBulkDecimal(value) }
    mutating func null() { self.buffer.writeRESPNull(self.version) }
    mutating func nullArray() { self.buffer.writeRESPNullArray(self.version) }
    mutating func arrayHeader(_ count: Int) { self.buffer.writeRESPArrayHeader(count) }
    mutating func mapHeader(_ count: Int) { self.buffer.writeRESPMapHeader(count, self.version) }
    mutating func setHeader(_ count: Int) { self.buffer.writeRESPSetHeader(count, self.version) }
    mutating func boolean(_ value: Bool) { self.buffer.writeRESPBoolean(value, self.version) }
    mutating func double(_ value: Double) { self.buffer.writeRESPDouble(value, self.version) }
    /// Text for people (INFO, CLIENT LIST): verbatim in RESP3, bulk in RESP2, as Redis sends it.
    mutating func verbatim(_ text: String) { self.buffer.writeRESPVerbatimString(text, self.version) }
    mutating func value(_ value: RESPValue) {
        if case .error(let message) = value {
            self.errorCount += 1
            self.errors?.record(message: message)
        }
        value.encode(into: &self.buffer, version: self.version)
    }
}
