import NIOCore

/// A batch's posts as the rows of `COPY posts (…) FROM STDIN` in PostgreSQL's
/// text format: columns separated by tabs, rows by newlines, `\N` for NULL,
/// and a backslash, tab, newline or carriage return inside a value escaped.
/// COPY costs PostgreSQL about a quarter less CPU per post than the
/// `INSERT … SELECT FROM UNNEST` it replaces for first attempts (ADR 0006,
/// bench/results/pg-insert-shapes.md).
enum PostCopyText {
    static let columns = ["id", "author_id", "body", "created_at", "kind", "link_id", "link_author_id"]

    /// The rows for `batch`'s posts; `id` gives a user's store id.
    static func rows(_ batch: MutationBatch, id: (UInt32) -> Int64) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: batch.postIDs.count * 64 + batch.postBodies.reduce(0) { $0 + $1.utf8.count })
        let tab = UInt8(ascii: "\t")
        for row in batch.postIDs.indices {
            Self.writeDecimal(batch.postIDs[row], into: &buffer)
            buffer.writeInteger(tab)
            Self.writeDecimal(id(batch.postAuthors[row]), into: &buffer)
            buffer.writeInteger(tab)
            Self.writeEscaped(batch.postBodies[row], into: &buffer)
            buffer.writeInteger(tab)
            Self.writeTimestamp(milliseconds: batch.postCreatedMilliseconds[row], into: &buffer)
            buffer.writeInteger(tab)
            Self.writeDecimal(Int64(batch.postKinds[row]), into: &buffer)
            buffer.writeInteger(tab)
            // As the UNNEST statement: link 0 and no link author are NULL.
            let link = batch.postLinks[row]
            if link == 0 { buffer.writeStaticString("\\N") } else { Self.writeDecimal(link, into: &buffer) }
            buffer.writeInteger(tab)
            if let author = batch.postLinkAuthors[row] {
                Self.writeDecimal(id(author), into: &buffer)
            } else {
                buffer.writeStaticString("\\N")
            }
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        return buffer
    }

    /// `text` with COPY's four special bytes escaped; everything else as is (UTF-8).
    static func writeEscaped(_ text: String, into buffer: inout ByteBuffer) {
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() {
                let escape: UInt8
                switch byte {
                case UInt8(ascii: "\\"): escape = UInt8(ascii: "\\")
                case UInt8(ascii: "\t"): escape = UInt8(ascii: "t")
                case UInt8(ascii: "\n"): escape = UInt8(ascii: "n")
                case UInt8(ascii: "\r"): escape = UInt8(ascii: "r")
                default: continue
                }
                buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                buffer.writeInteger(UInt8(ascii: "\\"))
                buffer.writeInteger(escape)
                start = index + 1
            }
            buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[start...]))
        }
    }

    /// `milliseconds` since the Unix epoch as a UTC timestamptz literal,
    /// `YYYY-MM-DD HH:MM:SS.mmm+00` (the proleptic Gregorian calendar, as
    /// PostgreSQL's; the same instant `to_timestamp(ms / 1000.0)` gives).
    static func writeTimestamp(milliseconds: Int64, into buffer: inout ByteBuffer) {
        let (days, inDay) = Self.floorDivision(milliseconds, 86_400_000)
        let (year, month, day) = Self.civil(fromDays: days)
        Self.writeDecimal(year, width: 4, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "-"))
        Self.writeDecimal(month, width: 2, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "-"))
        Self.writeDecimal(day, width: 2, into: &buffer)
        buffer.writeInteger(UInt8(ascii: " "))
        Self.writeDecimal(inDay / 3_600_000, width: 2, into: &buffer)
        buffer.writeInteger(UInt8(ascii: ":"))
        Self.writeDecimal(inDay / 60_000 % 60, width: 2, into: &buffer)
        buffer.writeInteger(UInt8(ascii: ":"))
        Self.writeDecimal(inDay / 1000 % 60, width: 2, into: &buffer)
        buffer.writeInteger(UInt8(ascii: "."))
        Self.writeDecimal(inDay % 1000, width: 3, into: &buffer)
        buffer.writeStaticString("+00")
    }

    /// `value` in decimal, zero-padded to `width` digits, without making a String.
    static func writeDecimal(_ value: Int64, width: Int = 1, into buffer: inout ByteBuffer) {
        if value < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0 || 20 - start < width
            buffer.writeBytes(UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }

    /// Year, month and day of the day `days` after 1970-01-01 (Howard
    /// Hinnant's `civil_from_days`).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
