import Foundation

/// A configuration file in redis.conf's syntax: one `name value` per line
/// (the name is a flag's, without `--`; the value is the rest of the line,
/// in double quotes if it has spaces at its ends), `#` comments, blank
/// lines, and `include path` (relative to the including file). A later
/// line wins over an earlier one, as in Redis.
public enum ConfigFile {
    public struct Line: Sendable, Equatable {
        public var name: String
        public var value: String
        /// `path:line`, for messages.
        public var origin: String
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Every setting line of `path` and what it includes, in order.
    public static func read(_ path: String) throws(Failure) -> [Line] {
        var lines: [Line] = []
        try self.read(path, depth: 0, into: &lines)
        return lines
    }

    private static func read(_ path: String, depth: Int, into lines: inout [Line]) throws(Failure) {
        guard depth < 8 else { throw Failure(description: "\(path): includes nest deeper than 8 (an include loop?)") }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Failure(description: "cannot read the configuration file \(path): \(error.localizedDescription)")
        }
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let origin = "\(path):\(number + 1)"
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2 else { throw Failure(description: "\(origin): '\(line)' has no value (expected: name value)") }
            let name = parts[0].lowercased()
            var value = parts[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            if name == "include" {
                let included = value.hasPrefix("/") ? value : URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(value).path
                try self.read(included, depth: depth + 1, into: &lines)
                continue
            }
            lines.append(Line(name: name, value: value, origin: origin))
        }
    }

    /// A setting's environment variable, from its name: `timeline-cap` is `FEED_TIMELINE_CAP`.
    public static func variable(of name: String) -> String {
        "FEED_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    }
}
