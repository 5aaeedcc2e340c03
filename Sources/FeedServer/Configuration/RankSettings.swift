import Foundation
import Timeline

/// The ranked feed's weights, each with its name, text, bounds and how to
/// read and write it in `RankWeights`; ServerSettings makes each a server
/// setting like any other (flag, environment, file, CONFIG GET), and one
/// CONFIG SET can change while the server runs (docs/adr/0013-ranked-feed.md).
public struct RankSetting: Sendable {
    public let name: String
    public let doc: String
    let get: @Sendable (RankWeights) -> String
    /// Reads a value: how to apply it, or why it is not one.
    let parse: @Sendable (String) -> Result<@Sendable (inout RankWeights) -> Void, ConfigParameters.SetFailure>


    /// Sets `weights` from `text`, or says why not.
    public func apply(_ text: String, to weights: inout RankWeights) -> String? {
        switch self.parse(text) {
        case .success(let apply):
            apply(&weights)
            return nil
        case .failure(let failure):
            return failure.reason
        }
    }

    public func text(of weights: RankWeights) -> String { self.get(weights) }

    static func count(
        _ name: String, in range: ClosedRange<Int>, _ doc: String, get: @escaping @Sendable (RankWeights) -> Int,
        set: @escaping @Sendable (inout RankWeights, Int) -> Void
    ) -> RankSetting {
        RankSetting(name: name, doc: doc, get: { String(get($0)) }) { text in
            guard let value = Int(text) else { return .failure(.init(reason: "argument couldn't be parsed into an integer")) }
            guard range.contains(value) else {
                return .failure(.init(reason: "argument must be between \(range.lowerBound) and \(range.upperBound) inclusive"))
            }
            return .success({ set(&$0, value) })
        }
    }

    static func duration(
        _ name: String, _ doc: String, get: @escaping @Sendable (RankWeights) -> Int64,
        set: @escaping @Sendable (inout RankWeights, Int64) -> Void
    ) -> RankSetting {
        RankSetting(name: name, doc: doc, get: { DurationText.text(get($0)) }) { text in
            guard let value = DurationText.milliseconds(text), value >= 1 else {
                return .failure(.init(reason: "argument must be a duration of at least 1ms, e.g. 6h, 30m, 500ms"))
            }
            return .success({ set(&$0, value) })
        }
    }

    static func number(
        _ name: String, in range: ClosedRange<Double>, _ doc: String, get: @escaping @Sendable (RankWeights) -> Double,
        set: @escaping @Sendable (inout RankWeights, Double) -> Void
    ) -> RankSetting {
        RankSetting(name: name, doc: doc, get: { Self.text(get($0)) }) { text in
            guard let value = Double(text), value.isFinite else {
                return .failure(.init(reason: "argument couldn't be parsed into a number"))
            }
            guard range.contains(value) else {
                return .failure(.init(reason: "argument must be between \(Self.text(range.lowerBound)) and \(Self.text(range.upperBound)) inclusive"))
            }
            return .success({ set(&$0, value) })
        }
    }

    /// `1` for 1.0, `0.25` for 0.25.
    static func text(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

public enum RankSettings {
    public static let all: [RankSetting] = [
        .count("rank-candidates", in: 1...10_000, "How many of the newest chronological entries a ranked read scores.", get: { $0.candidates }, set: { $0.candidates = $1 }),
        .duration("rank-half-life", "Recency: an entry this old scores half as much.", get: { $0.halfLifeMilliseconds }, set: { $0.halfLifeMilliseconds = $1 }),
        .duration("rank-affinity-half-life", "A like, reply or repost counts half as much after this long.", get: { $0.affinityHalfLifeMilliseconds }, set: { $0.affinityHalfLifeMilliseconds = $1 }),
        .number("rank-affinity-follow", in: 0...1e6, "Affinity every followed author (and the reader) starts from.", get: { $0.followAffinity }, set: { $0.followAffinity = $1 }),
        .number("rank-affinity-like", in: 0...1e6, "Affinity added per like of the author's posts (decayed).", get: { $0.likeAffinity }, set: { $0.likeAffinity = $1 }),
        .number("rank-affinity-reply", in: 0...1e6, "Affinity added per reply to the author's posts (decayed).", get: { $0.replyAffinity }, set: { $0.replyAffinity = $1 }),
        .number("rank-affinity-repost", in: 0...1e6, "Affinity added per repost of the author's posts (decayed).", get: { $0.repostAffinity }, set: { $0.repostAffinity = $1 }),
        .count("rank-affinity-authors", in: 1...100_000, "Most authors a reader's affinity keeps; the weakest is forgotten first.", get: { $0.affinityAuthors }, set: { $0.affinityAuthors = $1 }),
        .number("rank-engagement-like", in: 0...1e6, "Engagement weight of a like.", get: { $0.likeEngagement }, set: { $0.likeEngagement = $1 }),
        .number("rank-engagement-reply", in: 0...1e6, "Engagement weight of a reply.", get: { $0.replyEngagement }, set: { $0.replyEngagement = $1 }),
        .number("rank-engagement-repost", in: 0...1e6, "Engagement weight of a repost.", get: { $0.repostEngagement }, set: { $0.repostEngagement = $1 }),
        .number("rank-engagement-exponent", in: 0...4, "Engagement = (1 + weighted counts) ^ this.", get: { $0.engagementExponent }, set: { $0.engagementExponent = $1 }),
        .number("rank-diversity-decay", in: 0...1, "An author's n-th entry is multiplied by (1 - floor) * decay^n + floor.", get: { $0.diversityDecay }, set: { $0.diversityDecay = $1 }),
        .number("rank-diversity-floor", in: 0...1, "The least an author's later entries are multiplied by.", get: { $0.diversityFloor }, set: { $0.diversityFloor = $1 }),
        .duration("rank-page-ttl", "How long a ranked first page's PAGE tokens stay valid.", get: { $0.pageTTLMilliseconds }, set: { $0.pageTTLMilliseconds = $1 }),
        .count("rank-pages", in: 1...1_000_000, "Most ranked snapshots (one per reader) kept for paging; the oldest goes first.", get: { $0.maxSnapshots }, set: { $0.maxSnapshots = $1 }),
    ]
}
