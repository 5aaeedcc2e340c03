/// Sizes as Redis's configuration writes them: `1024`, `64kb`, `256mb`, `1gb`
/// (case-insensitive; `k`/`m`/`g` mean powers of 1000, `kb`/`mb`/`gb` of 1024).
public enum ByteSize {
    public static func parse(_ text: String) -> Int? {
        let lower = text.lowercased()
        let units: [(String, Int)] = [
            ("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("g", 1_000_000_000), ("m", 1_000_000), ("k", 1000),
            ("b", 1),
        ]
        for (suffix, multiplier) in units where lower.hasSuffix(suffix) {
            guard let number = Int(lower.dropLast(suffix.count)), number >= 0 else { return nil }
            let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
            return overflow ? nil : product
        }
        guard let number = Int(lower), number >= 0 else { return nil }
        return number
    }

    /// The shortest exact text: `256mb`, `1gb`, `1536`, `0`.
    public static func text(_ bytes: Int) -> String {
        for (suffix, unit) in [("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10)] where bytes >= unit && bytes % unit == 0 {
            return "\(bytes / unit)\(suffix)"
        }
        return String(bytes)
    }
}
