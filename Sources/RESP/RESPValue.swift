import NIOCore

/// One RESP2 or RESP3 value. Used by the client side (the load tool, tests) and
/// for replies that are not on a hot path; hot paths write straight into the
/// output buffer with the `writeRESP…` functions instead of building a tree.
public enum RESPValue: Sendable, Equatable {
    /// `+OK`
    case simpleString(String)
    /// `-ERR message`: the whole message, error code first.
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$3\r\nfoo`
    case bulkString(ByteBuffer)
    /// `$-1` (RESP2) or `_` (RESP3).
    case null
    /// `*-1` (RESP2) or `_` (RESP3).
    case nullArray
    case array([RESPValue])
    /// `%n`: key/value pairs in order.
    case map([RESPMapEntry])
    case set([RESPValue])
    case double(Double)
    case boolean(Bool)
    /// `=len\r\ntxt:…`: a string with a three-letter format.
    case verbatimString(format: String, text: ByteBuffer)
    /// `(1234…`: an integer of any size, as its decimal text.
    case bigNumber(String)
    /// `>n`: an out-of-band message such as a pub/sub delivery.
    case push([RESPValue])

    /// A bulk string holding `text` as UTF-8.
    public static func bulk(_ text: String) -> RESPValue {
        .bulkString(ByteBuffer(string: text))
    }

    /// `+OK`
    public static let ok = RESPValue.simpleString("OK")

    /// The text of a double as RESP3 writes it.
    @inlinable
    public static func doubleText(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == value.rounded(), abs(value) < 1e17 {
            // Integral values without a trailing ".0", as Redis prints them.
            return String(Int64(value))
        }
        return String(value)
    }
}

/// A key/value pair of a RESP3 map.
public struct RESPMapEntry: Sendable, Equatable {
    public var key: RESPValue
    public var value: RESPValue

    public init(_ key: RESPValue, _ value: RESPValue) {
        self.key = key
        self.value = value
    }
}

extension RESPValue {
    /// The value as a UTF-8 string when it is a simple, bulk or verbatim string.
    public var string: String? {
        switch self {
        case .simpleString(let text), .bigNumber(let text): return text
        case .bulkString(let bytes), .verbatimString(_, let bytes): return String(buffer: bytes)
        default: return nil
        }
    }

    /// The elements when the value is an array, set or push.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let values), .set(let values), .push(let values): return values
        default: return nil
        }
    }
}
