/// Durations as flags write them: `500ms`, `30s`, `15m`, `12h`, `7d`; a bare
/// number is seconds.
public enum DurationText {
    public static func milliseconds(_ text: String) -> Int64? {
        let lower = text.lowercased()
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, multiplier) in units where lower.hasSuffix(suffix) {
            // "ms" must win over "s" and "m".
            if suffix == "s" && lower.hasSuffix("ms") { continue }
            if suffix == "m" && lower.hasSuffix("ms") { continue }
            guard let number = Int64(lower.dropLast(suffix.count)), number >= 0 else { return nil }
            let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
            return overflow ? nil : product
        }
        guard let seconds = Int64(lower), seconds >= 0 else { return nil }
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        return overflow ? nil : product
    }

    /// The shortest exact text for `milliseconds`, e.g. `7d`, `90s`, `250ms`.
    public static func text(_ milliseconds: Int64) -> String {
        for (suffix, unit) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where milliseconds >= unit && milliseconds % unit == 0 {
            return "\(milliseconds / unit)\(suffix)"
        }
        return "\(milliseconds)ms"
    }
}
