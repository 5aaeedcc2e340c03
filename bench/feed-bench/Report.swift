import Foundation
import Histogram

/// The figures of one kind of request, in milliseconds.
struct KindReport: Codable, Sendable {
    var requests: UInt64
    var errors: Int
    var requestsPerSecond: Double
    var p50: Double
    var p95: Double
    var p99: Double
    var p999: Double
    var max: Double
    var mean: Double
    /// (percentile, milliseconds) pairs for plotting the latency distribution.
    var distribution: [[Double]]

    init(_ histogram: Histogram<UInt64>, errors: Int, seconds: Double) {
        func ms(_ micros: UInt64) -> Double { Double(micros) / 1000 }
        self.requests = histogram.totalCount
        self.errors = errors
        self.requestsPerSecond = seconds > 0 ? Double(histogram.totalCount) / seconds : 0
        self.p50 = ms(histogram.valueAtPercentile(50))
        self.p95 = ms(histogram.valueAtPercentile(95))
        self.p99 = ms(histogram.valueAtPercentile(99))
        self.p999 = ms(histogram.valueAtPercentile(99.9))
        self.max = ms(histogram.max)
        self.mean = histogram.mean / 1000
        self.distribution = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100].map {
            [$0, ms(histogram.valueAtPercentile($0))]
        }
    }
}

/// What a load run measured, as the table and as `--json`.
struct RunReport: Codable, Sendable {
    var target: String
    var dialect: String
    var workload: String
    var mode: String
    var connections: Int
    var pipeline: Int
    var rate: Double?
    var seconds: Double
    var tryAgain: Int
    var firstError: String?
    var kinds: [String: KindReport]
    var all: KindReport

    func table() -> String {
        var lines = [
            "\(self.workload) on \(self.target) (\(self.dialect)), \(self.mode), \(self.connections) connections, "
                + String(format: "%.1f s", self.seconds),
            "",
            row(["request", "count", "req/s", "p50 ms", "p95 ms", "p99 ms", "p99.9 ms", "max ms", "errors"]),
        ]
        let rows = self.kinds.sorted { $0.key < $1.key } + (self.kinds.count > 1 ? [("all", self.all)] : [])
        for (name, kind) in rows {
            lines.append(
                row([
                    name, String(kind.requests), String(format: "%.0f", kind.requestsPerSecond), String(format: "%.3f", kind.p50),
                    String(format: "%.3f", kind.p95), String(format: "%.3f", kind.p99), String(format: "%.3f", kind.p999),
                    String(format: "%.3f", kind.max), String(kind.errors),
                ]))
        }
        if self.tryAgain > 0 { lines.append("TRYAGAIN replies: \(self.tryAgain)") }
        if let error = self.firstError { lines.append("first error: \(error)") }
        return lines.joined(separator: "\n")
    }

    /// The first column left-aligned in 8, the rest right-aligned in 10.
    private func row(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            let width = index == 0 ? 8 : 10
            let padding = String(repeating: " ", count: max(0, width - cell.count))
            return index == 0 ? cell + padding : padding + cell
        }.joined(separator: " ")
    }

    func json() throws -> String { try prettyJSON(self) }
}

/// A report as indented JSON with sorted keys (`--json`).
func prettyJSON(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
