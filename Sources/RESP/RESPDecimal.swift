/// Decimal integers straight from and to bytes, without a `String` in between.
public enum RESPDecimal {
    /// Parses a signed decimal integer with the rules of Redis's `string2ll`: an
    /// optional `-`, no `+`, no leading zeros (but `0` itself), no spaces, no `-0`,
    /// and nothing that overflows 64 bits. Returns nil for anything else.
    ///
    /// Redis is this strict on the wire (`*01` and `$+4` are protocol errors), and
    /// matching it exactly keeps our error replies identical to Redis's.
    @inlinable
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let count = bytes.count
        if count == 0 || count > 20 { return nil }
        if count == 1 && bytes[0] == .zero { return 0 }
        var index = 0
        let negative = bytes[0] == .minus
        if negative {
            index = 1
            if count == 1 { return nil }
        }
        // The first digit must be 1-9: this rejects leading zeros and "-0".
        let first = bytes[index]
        guard first > .zero && first <= .nine else { return nil }
        var magnitude = UInt64(first &- .zero)
        index += 1
        while index < count {
            let byte = bytes[index]
            guard byte >= .zero && byte <= .nine else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte &- .zero))
            if overflow1 || overflow2 { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            // Int64.min's magnitude is one more than Int64.max.
            if magnitude > UInt64(Int64.max) + 1 { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        if magnitude > UInt64(Int64.max) { return nil }
        return Int64(magnitude)
    }

    /// Parses the bytes of a collection (for arguments held in a `ByteBuffer` or array).
    @inlinable
    public static func parse<Bytes: Collection>(bytes: Bytes) -> Int64? where Bytes.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable({ parse(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { parse($0) }
    }

    /// The number of bytes `value` takes in decimal, sign included.
    @inlinable
    public static func length(of value: Int64) -> Int {
        var magnitude = value.magnitude
        var digits = 1
        while magnitude >= 10 {
            magnitude /= 10
            digits += 1
        }
        return value < 0 ? digits + 1 : digits
    }
}
