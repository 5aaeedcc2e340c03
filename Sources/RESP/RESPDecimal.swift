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
    @inlinable @inline(__always)
    public static func length(of value: Int64) -> Int {
        let digits = self.digitCount(value.magnitude)
        return value < 0 ? digits + 1 : digits
    }

    /// The number of decimal digits of `magnitude`: an estimate from its bit
    /// length (bits x log10(2), as 1233/4096) corrected by one comparison,
    /// instead of a division per digit.
    @inlinable @inline(__always)
    public static func digitCount(_ magnitude: UInt64) -> Int {
        let bits = 64 - (magnitude | 1).leadingZeroBitCount
        let estimate = (bits &* 1233) >> 12
        return magnitude >= self.powerOfTen(estimate) ? estimate + 1 : Swift.max(estimate, 1)
    }

    /// 10^exponent for 0...19.
    @inlinable @inline(__always)
    static func powerOfTen(_ exponent: Int) -> UInt64 {
        switch exponent {
        case 0: return 1
        case 1: return 10
        case 2: return 100
        case 3: return 1000
        case 4: return 10_000
        case 5: return 100_000
        case 6: return 1_000_000
        case 7: return 10_000_000
        case 8: return 100_000_000
        case 9: return 1_000_000_000
        case 10: return 10_000_000_000
        case 11: return 100_000_000_000
        case 12: return 1_000_000_000_000
        case 13: return 10_000_000_000_000
        case 14: return 100_000_000_000_000
        case 15: return 1_000_000_000_000_000
        case 16: return 10_000_000_000_000_000
        case 17: return 100_000_000_000_000_000
        case 18: return 1_000_000_000_000_000_000
        default: return 10_000_000_000_000_000_000
        }
    }

    /// Writes the digits of `magnitude` so the last one lands just before
    /// `end`, two digits per division, from a constant table of pairs.
    @inlinable
    static func writeDigits(_ magnitude: UInt64, into out: UnsafeMutableRawBufferPointer, endingAt end: Int) {
        // swift-format-ignore
        let pairs: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
        let table = pairs.utf8Start
        var rest = magnitude
        var index = end
        while rest >= 100 {
            let quotient = rest / 100
            let pair = Int(truncatingIfNeeded: rest &- quotient &* 100) &* 2
            index -= 2
            out[index] = table[pair]
            out[index + 1] = table[pair + 1]
            rest = quotient
        }
        if rest >= 10 {
            let pair = Int(truncatingIfNeeded: rest) &* 2
            out[index - 2] = table[pair]
            out[index - 1] = table[pair + 1]
        } else {
            out[index - 1] = UInt8(truncatingIfNeeded: rest) &+ .zero
        }
    }
}
