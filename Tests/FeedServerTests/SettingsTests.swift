@testable import FeedServer
import Foundation
import Testing
import Timeline

/// Every setting is declared once (ServerSettings); the command line, the
/// environment, the configuration file, CONFIG GET/SET, `--help`, the
/// README's table and ops/feed-server.conf come from the declarations.
/// The two documents are generated: `UPDATE_SETTINGS_DOCS=1 swift test
/// --filter SettingsTests` rewrites them, and these tests fail while they
/// differ from the declarations.
@Suite struct SettingsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let begin = "<!-- settings: generated from Sources/FeedServer/Configuration/ServerSettings.swift; UPDATE_SETTINGS_DOCS=1 swift test --filter SettingsTests -->\n"
    static let end = "<!-- settings: end -->"
    static var updating: Bool { ProcessInfo.processInfo.environment["UPDATE_SETTINGS_DOCS"] == "1" }

    @Test func theReadmeTableIsTheDeclarations() throws {
        let url = Self.root.appendingPathComponent("README.md")
        func tableRange(_ readme: String) throws -> Range<String.Index> {
            let start = try #require(readme.range(of: Self.begin), "the README's settings table has no begin marker")
            let stop = try #require(readme.range(of: Self.end, range: start.upperBound..<readme.endIndex))
            return start.upperBound..<stop.lowerBound
        }
        let table = ServerSettings.readmeTable + "\n"
        if Self.updating {
            var readme = try String(contentsOf: url, encoding: .utf8)
            readme.replaceSubrange(try tableRange(readme), with: table)
            try readme.write(to: url, atomically: true, encoding: .utf8)
        }
        let readme = try String(contentsOf: url, encoding: .utf8)
        #expect(String(readme[try tableRange(readme)]) == table)
    }

    @Test func theExampleFileIsTheDeclarations() throws {
        let url = Self.root.appendingPathComponent("ops/feed-server.conf")
        if Self.updating { try ServerSettings.exampleFile.write(to: url, atomically: true, encoding: .utf8) }
        #expect(try String(contentsOf: url, encoding: .utf8) == ServerSettings.exampleFile)
    }

    @Test func everyDefaultReadsBackAsItself() {
        let defaults = ServerConfiguration()
        for setting in ServerSettings.all {
            var configuration = defaults
            #expect(setting.set(&configuration, setting.get(defaults)) == nil, "\(setting.name)")
            #expect(setting.get(configuration) == setting.get(defaults), "\(setting.name)")
        }
        #expect(Set(ServerSettings.all.map(\.name)).count == ServerSettings.all.count, "names are unique")
        #expect(ServerSettings.all.allSatisfy { $0.environment == "FEED_" + $0.name.uppercased().replacingOccurrences(of: "-", with: "_") })
    }

    @Test func flagsWinOverTheEnvironmentAndTheEnvironmentOverTheFile() throws {
        let file = [
            ConfigFile.Line(name: "timeline-cap", value: "100", origin: "f:1"),
            ConfigFile.Line(name: "celebrity-threshold", value: "7", origin: "f:2"),
            ConfigFile.Line(name: "repost-falloff", value: "9", origin: "f:3"),
            ConfigFile.Line(name: "celebrity-threshold", value: "8", origin: "f:4"),  // a later line wins
        ]
        let configuration = try ServerSettings.configuration(
            flags: [("timeline-cap", "200"), ("rank-half-life", "2h")],
            environment: ["FEED_TIMELINE_CAP": "300", "FEED_REPOST_FALLOFF": "5", "DATABASE_URL": "postgres://db/feed"],
            file: file)
        #expect(configuration.feed.timelineCap == 200)
        #expect(configuration.feed.repostFalloff == 5)
        #expect(configuration.feed.celebrityThreshold == 8)
        #expect(configuration.feed.ranking.halfLifeMilliseconds == 7_200_000)
        #expect(configuration.postgres.url == "postgres://db/feed")
        #expect(configuration.maxMemoryBytes == 0 && configuration.port == 6380)
    }

    @Test func badValuesSayWhereTheyCameFrom() {
        func refusal(flags: [(name: String, value: String)] = [], environment: [String: String] = [:], file: [ConfigFile.Line] = [])
            -> String?
        {
            do {
                _ = try ServerSettings.configuration(flags: flags, environment: environment, file: file)
                return nil
            } catch {
                return error.message
            }
        }
        #expect(refusal(flags: [("port", "70000")]) == "--port 70000: argument must be between 0 and 65535 inclusive")
        #expect(refusal(flags: [("timeline-cap", "many")]) == "--timeline-cap many is not a valid --timeline-cap")
        #expect(refusal(environment: ["FEED_DURABILITY": "later"]) == "FEED_DURABILITY=later is not a valid --durability")
        #expect(refusal(flags: [("client-output-limit", "10")]) == "--client-output-limit 10: must be at least 1kb")
        #expect(refusal(flags: [("nothing", "1")]) == "Unknown option '--nothing'")
        #expect(
            refusal(file: [ConfigFile.Line(name: "rank-diversity-floor", value: "3", origin: "f.conf:1")])
                == "f.conf:1: rank-diversity-floor 3: argument must be between 0 and 1 inclusive")
        #expect(
            refusal(file: [ConfigFile.Line(name: "no-such", value: "3", origin: "f.conf:2")]) == "f.conf:2: no-such 3: no such setting")
    }

    @Test func aConfigurationBuiltInCodeMeetsTheSameChecks() throws {
        var configuration = ServerConfiguration()
        try configuration.validate()
        configuration.port = 70_000
        #expect(throws: SettingError.self) { try configuration.validate() }
        configuration.port = 0
        configuration.feed.notificationsCap = -1
        do {
            try configuration.validate()
            Issue.record("a negative cap passed")
        } catch {
            #expect(error.message == "notifications-cap -1: argument must be between 0 and 1000000 inclusive")
        }
    }

    @Test func configGetListsEverySettingButTheSecretsAndConfigSetTheLiveOnes() {
        let names = Set(ConfigParameters.all.map(\.name))
        for setting in ServerSettings.all { #expect(names.contains(setting.name) != setting.secret, "\(setting.name)") }
        #expect(names.isSuperset(of: ["databases", "save", "appendonly", "maxmemory-policy", "io-threads", "loglevel"]))
        let live = Set(ConfigParameters.settable.keys)
        #expect(live == Set(ServerSettings.all.filter(\.isLive).map(\.name)))
        #expect(live.isSuperset(of: ["maxmemory", "slowlog-log-slower-than", "slowlog-max-len", "rank-half-life"]))
    }
}
