import NIOCore

/// A request that cannot be framed. The server replies with `message` (as
/// `-ERR Protocol error: …`, Redis's exact words) and closes the connection,
/// because after a framing error nothing that follows can be trusted.
public enum RESPProtocolError: Error, Sendable, Equatable {
    /// An inline request line over the inline limit, or that much data with no newline.
    case tooBigInlineRequest
    /// Quotes in an inline request that do not close, or close with no space after them.
    case unbalancedQuotes
    /// A `*` count line over the inline limit.
    case tooBigMultibulkCount
    /// A `*` count that is not an integer or is over the multibulk limit.
    case invalidMultibulkLength
    /// A `$` count line over the inline limit.
    case tooBigBulkCount
    /// Something other than `$` where a bulk string should start.
    case expectedDollar(got: UInt8)
    /// A `$` length that is not an integer, is negative, or is over the bulk limit.
    case invalidBulkLength
    /// More than the unauthenticated argument limit before AUTH (CVE-2021-32675).
    case unauthenticatedMultibulkLength
    /// A bulk over the unauthenticated size limit before AUTH (CVE-2021-32675).
    case unauthenticatedBulkLength

    /// The text after `-ERR `, exactly as Redis writes it.
    public var message: String {
        switch self {
        case .tooBigInlineRequest: return "Protocol error: too big inline request"
        case .unbalancedQuotes: return "Protocol error: unbalanced quotes in request"
        case .tooBigMultibulkCount: return "Protocol error: too big mbulk count string"
        case .invalidMultibulkLength: return "Protocol error: invalid multibulk length"
        case .tooBigBulkCount: return "Protocol error: too big bulk count string"
        case .expectedDollar(let byte):
            // Redis prints the byte with %c; CR and LF become spaces in any error line.
            let shown = (byte == .cr || byte == .lf) ? UInt8.space : byte
            return "Protocol error: expected '$', got '\(Character(Unicode.Scalar(shown)))'"
        case .invalidBulkLength: return "Protocol error: invalid bulk length"
        case .unauthenticatedMultibulkLength: return "Protocol error: unauthenticated multibulk length"
        case .unauthenticatedBulkLength: return "Protocol error: unauthenticated bulk length"
        }
    }

    /// Writes the reply line, `-ERR Protocol error: …\r\n`. The byte of
    /// `expectedDollar` is written raw, as Redis's `%c` does.
    public func write(into buffer: inout ByteBuffer) {
        if case .expectedDollar(let byte) = self {
            buffer.writeStaticString("-ERR Protocol error: expected '$', got '")
            buffer.writeInteger((byte == .cr || byte == .lf) ? UInt8.space : byte)
            buffer.writeStaticString("'\r\n")
        } else {
            buffer.writeRESPError("ERR " + self.message)
        }
    }
}

extension RESPProtocolError: CustomStringConvertible {
    public var description: String { self.message }
}
