import Timeline
import Logging
import RESP
import Synchronization

/// What CONFIG GET reports: Redis's names for what we have, with values in
/// Redis's formats. redis-benchmark reads `save` and `appendonly` at start;
/// tools read `maxclients`, `timeout` and `databases`.
enum ConfigParameters {
    typealias Parameter = (name: String, value: @Sendable (ServerContext) -> String)

    /// Every declared setting (ServerSettings; secrets left out), then the
    /// names Redis tools ask for.
    static let all: [Parameter] =
        ServerSettings.all.filter { !$0.secret }.map { setting in
            (setting.name, { server in setting.current?(server) ?? setting.get(server.configuration) })
        } + Self.redisParameters

    private static let redisParameters: [Parameter] = [
        ("databases", { _ in "1" }),
        ("save", { _ in "" }),
        ("appendonly", { _ in "no" }),
        ("maxmemory-policy", { $0.maxmemoryPolicy }),
        (
            "client-output-buffer-limit",
            {
                let limit = $0.configuration.clientOutputLimit
                return "normal \(limit) 0 0 slave 0 0 0 pubsub \($0.configuration.pubsubOutputLimit.description)"
            }
        ),
        ("io-threads", { String($0.configuration.eventLoopThreads) }),
        ("loglevel", { $0.configuration.logLevel.rawValue }),
        ("cluster-enabled", { $0.configuration.clusterEnabled ? "yes" : "no" }),
    ]

    /// The parameters CONFIG SET may change while the server runs: each
    /// checks a value and returns how to apply it, or why it cannot.
    typealias Setter = @Sendable (String) -> Result<@Sendable (ServerContext) -> Void, SetFailure>

    struct SetFailure: Error {
        let reason: String
    }

    static let settable: [String: Setter] = Dictionary(
        uniqueKeysWithValues: ServerSettings.all.compactMap { setting in setting.live.map { (setting.name, $0) } })

    /// An integer in `range`, with Redis's CONFIG SET complaints.
    static func integer(_ text: String, in range: ClosedRange<Int>) -> Result<Int, SetFailure> {
        guard let value = Int(text) else { return .failure(SetFailure(reason: "argument couldn't be parsed into an integer")) }
        guard range.contains(value) else {
            return .failure(SetFailure(reason: "argument must be between \(range.lowerBound) and \(range.upperBound) inclusive"))
        }
        return .success(value)
    }

    /// The parameters matching any of `patterns` (Redis's case-insensitive globs), once each.
    static func matching(_ patterns: [String]) -> [Parameter] {
        all.filter { parameter in
            patterns.contains { GlobPattern.matches($0, parameter.name, caseInsensitive: true) }
        }
    }
}
