import Timeline
import Logging
import RESP
import Synchronization

/// What CONFIG GET reports: Redis's names for what we have, with values in
/// Redis's formats. redis-benchmark reads `save` and `appendonly` at start;
/// tools read `maxclients`, `timeout` and `databases`.
enum ConfigParameters {
    typealias Parameter = (name: String, value: @Sendable (ServerContext) -> String)

    static let all: [Parameter] = Self.serverParameters + RankSettings.all.map(Self.parameter)

    private static let serverParameters: [Parameter] = [
        ("bind", { $0.configuration.bindAddress }),
        ("port", { String($0.boundPort.load(ordering: .relaxed)) }),
        ("requirepass", { $0.configuration.requirePass ?? "" }),
        ("protected-mode", { $0.configuration.protectedMode ? "yes" : "no" }),
        ("maxclients", { String($0.configuration.maxClients) }),
        ("timeout", { String($0.configuration.idleTimeoutSeconds) }),
        ("databases", { _ in "1" }),
        ("save", { _ in "" }),
        ("appendonly", { _ in "no" }),
        ("maxmemory", { String($0.memory.limit.load(ordering: .relaxed)) }),
        ("maxmemory-policy", { $0.maxmemoryPolicy }),
        ("proto-max-bulk-len", { String($0.configuration.decoderLimits.maxBulkLength) }),
        ("max-multibulk-len", { String($0.configuration.decoderLimits.maxMultibulkCount) }),
        (
            "client-output-buffer-limit",
            {
                let limit = $0.configuration.clientOutputLimit
                return "normal \(limit) 0 0 slave 0 0 0 pubsub \($0.configuration.pubsubOutputLimit.description)"
            }
        ),
        ("io-threads", { String($0.configuration.eventLoopThreads) }),
        ("loglevel", { $0.configuration.logLevel.rawValue }),
        ("persistence", { $0.configuration.persistence.rawValue }),
        ("timeline-cap", { String($0.configuration.feed.timelineCap) }),
        ("celebrity-threshold", { String($0.configuration.feed.celebrityThreshold) }),
        ("repost-falloff", { String($0.configuration.feed.repostFalloff) }),
        ("notifications-cap", { String($0.configuration.feed.notificationsCap) }),
        ("inactive-after", { DurationText.text($0.configuration.feed.inactiveAfterMilliseconds) }),
        ("post-cache-mb", { String($0.configuration.feed.postCacheBytes / (1024 * 1024)) }),
        ("warm-posts", { String($0.configuration.warmPostLimit) }),
        ("max-body-bytes", { String($0.configuration.feed.maxBodyBytes) }),
        ("node-id", { String($0.configuration.feed.node) }),
        ("metrics-port", { String($0.configuration.metricsPort) }),
        ("slowlog-log-slower-than", { String($0.slowlog.slowerThanMicroseconds.load(ordering: .relaxed)) }),
        ("slowlog-max-len", { String($0.slowlog.maxLength.load(ordering: .relaxed)) }),
    ]

    private static func parameter(_ setting: RankSetting) -> Parameter {
        (setting.name, { server in setting.text(of: server.feed.withEngine { $0.rankWeights }) })
    }

    /// The parameters CONFIG SET may change while the server runs: each
    /// checks a value and returns how to apply it, or why it cannot.
    typealias Setter = @Sendable (String) -> Result<@Sendable (ServerContext) -> Void, SetFailure>

    struct SetFailure: Error {
        let reason: String
    }

    static let settable: [String: Setter] = Self.serverSettable.merging(
        RankSettings.all.map { ($0.name, Self.setter($0)) }, uniquingKeysWith: { a, _ in a })

    private static func setter(_ setting: RankSetting) -> Setter {
        { @Sendable text in
            setting.parse(text).map { apply -> @Sendable (ServerContext) -> Void in
                { @Sendable server in server.feed.withEngine { apply(&$0.rankWeights) } }
            }
        }
    }

    private static let serverSettable: [String: Setter] = [
        "maxmemory": { text in
            guard let bytes = ByteSize.parse(text) else {
                return .failure(SetFailure(reason: "argument must be a memory value"))
            }
            return .success({ $0.memory.limit.store(bytes, ordering: .relaxed) })
        },
        "slowlog-log-slower-than": { text in
            integer(text, in: -1...Int.max).map { value in { $0.slowlog.slowerThanMicroseconds.store(value, ordering: .relaxed) } }
        },
        "slowlog-max-len": { text in
            integer(text, in: 0...Int.max).map { value in
                { server in
                    server.slowlog.maxLength.store(value, ordering: .relaxed)
                    server.slowlog.trim()
                }
            }
        },
    ]

    /// An integer in `range`, with Redis's CONFIG SET complaints.
    private static func integer(_ text: String, in range: ClosedRange<Int>) -> Result<Int, SetFailure> {
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
