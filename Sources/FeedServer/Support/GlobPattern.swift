/// Redis's glob matching (`stringmatchlen`): `*`, `?`, `[abc]`, `[a-z]`,
/// `[^x]` and `\` to escape, optionally case-insensitive. CONFIG GET uses it.
enum GlobPattern {
    static func matches(_ pattern: String, _ text: String, caseInsensitive: Bool = false) -> Bool {
        let p = Array(caseInsensitive ? pattern.lowercased().utf8 : pattern.utf8)
        let t = Array(caseInsensitive ? text.lowercased().utf8 : text.utf8)
        return match(p[...], t[...])
    }

    private static func match(_ pattern: ArraySlice<UInt8>, _ text: ArraySlice<UInt8>) -> Bool {
        var p = pattern
        var t = text
        while let head = p.first {
            switch head {
            case UInt8(ascii: "*"):
                while p.first == UInt8(ascii: "*") { p = p.dropFirst() }
                if p.isEmpty { return true }
                var rest = t
                while true {
                    if match(p, rest) { return true }
                    if rest.isEmpty { return false }
                    rest = rest.dropFirst()
                }
            case UInt8(ascii: "?"):
                guard !t.isEmpty else { return false }
                t = t.dropFirst()
                p = p.dropFirst()
            case UInt8(ascii: "["):
                guard let byte = t.first else { return false }
                p = p.dropFirst()
                let negate = p.first == UInt8(ascii: "^")
                if negate { p = p.dropFirst() }
                var matched = false
                while let c = p.first, c != UInt8(ascii: "]") {
                    if c == UInt8(ascii: "\\"), p.count >= 2 {
                        p = p.dropFirst()
                        if p.first == byte { matched = true }
                        p = p.dropFirst()
                    } else if p.count >= 3, p[p.startIndex + 1] == UInt8(ascii: "-") {
                        var low = c
                        var high = p[p.startIndex + 2]
                        if low > high { swap(&low, &high) }
                        if byte >= low && byte <= high { matched = true }
                        p = p.dropFirst(3)
                    } else {
                        if c == byte { matched = true }
                        p = p.dropFirst()
                    }
                }
                p = p.dropFirst()  // the closing bracket (if any)
                if negate { matched.toggle() }
                guard matched else { return false }
                t = t.dropFirst()
            case UInt8(ascii: "\\") where p.count >= 2:
                p = p.dropFirst()
                guard t.first == p.first else { return false }
                t = t.dropFirst()
                p = p.dropFirst()
            default:
                guard t.first == head else { return false }
                t = t.dropFirst()
                p = p.dropFirst()
            }
        }
        return t.isEmpty
    }
}
