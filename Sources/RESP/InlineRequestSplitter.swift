/// Splits an inline request line (`SET key "a value"`) into arguments with the
/// quoting rules of Redis's `sdssplitargs`, which redis-cli, telnet users and
/// redis-benchmark's PING_INLINE rely on:
///
/// - blanks (C `isspace`) separate arguments;
/// - `"…"` takes the escapes `\n \r \t \b \a \xHH` and `\<any>` for that byte;
/// - `'…'` takes only `\'`;
/// - a closing quote must be followed by a blank or the end of the line;
/// - a quote that never closes is an error.
///
/// Unlike Redis, a NUL byte is an ordinary byte rather than the end of the line.
enum InlineRequestSplitter {
    /// An argument: a plain run of the line, or bytes rewritten by quoting.
    enum Token: Equatable {
        case span(Range<Int>)
        case bytes([UInt8])
    }

    /// The arguments of `line`, or nil when its quotes do not balance.
    static func split(_ line: UnsafeRawBufferPointer) -> [Token]? {
        var tokens: [Token] = []
        let end = line.count
        var index = 0
        while true {
            while index < end && line[index].isCSpace { index += 1 }
            if index >= end { return tokens }

            let start = index
            var rewritten: [UInt8]? = nil  // set once the token stops being a plain span
            var inDouble = false
            var inSingle = false
            var done = false
            while !done {
                if inDouble {
                    guard index < end else { return nil }  // unterminated
                    let byte = line[index]
                    if byte == .backslash && index + 3 < end && line[index + 1] == .lowercaseX,
                        let high = line[index + 2].hexValue, let low = line[index + 3].hexValue
                    {
                        rewritten!.append(high << 4 | low)
                        index += 3
                    } else if byte == .backslash && index + 1 < end {
                        index += 1
                        switch line[index] {
                        case UInt8(ascii: "n"): rewritten!.append(.lf)
                        case UInt8(ascii: "r"): rewritten!.append(.cr)
                        case UInt8(ascii: "t"): rewritten!.append(.tab)
                        case UInt8(ascii: "b"): rewritten!.append(0x08)
                        case UInt8(ascii: "a"): rewritten!.append(0x07)
                        case let other: rewritten!.append(other)
                        }
                    } else if byte == .doubleQuote {
                        if index + 1 < end && !line[index + 1].isCSpace { return nil }
                        done = true
                    } else {
                        rewritten!.append(byte)
                    }
                } else if inSingle {
                    guard index < end else { return nil }
                    let byte = line[index]
                    if byte == .backslash && index + 1 < end && line[index + 1] == .singleQuote {
                        index += 1
                        rewritten!.append(.singleQuote)
                    } else if byte == .singleQuote {
                        if index + 1 < end && !line[index + 1].isCSpace { return nil }
                        done = true
                    } else {
                        rewritten!.append(byte)
                    }
                } else {
                    guard index < end else { break }
                    let byte = line[index]
                    switch byte {
                    case .space, .lf, .cr, .tab:
                        done = true
                    case .doubleQuote, .singleQuote:
                        if rewritten == nil { rewritten = Array(line[start..<index]) }
                        if byte == .doubleQuote { inDouble = true } else { inSingle = true }
                    default:
                        rewritten?.append(byte)
                    }
                }
                if index < end { index += 1 }
            }
            if let rewritten {
                tokens.append(.bytes(rewritten))
            } else {
                // A plain token ends at the blank that stopped it (or the line's end).
                let stop = done ? index - 1 : index
                tokens.append(.span(start..<stop))
            }
        }
    }
}
