@testable import FeedServer
import NIOCore
import RESP
import Testing
import Timeline

/// SLOWLOG, INFO commandstats / errorstats and the Prometheus text, as an
/// operator reads them.
@Suite struct ObservabilityTests {
    /// The entries of SLOWLOG GET as (id, duration, arguments, client name).
    func slowlog(_ client: TestConnection, _ count: String? = nil) throws -> [(id: Int64, micros: Int64, arguments: [String])] {
        let reply = try count.map { try client.call("SLOWLOG", "GET", $0) } ?? client.call("SLOWLOG", "GET")
        return try #require(reply.elements).map { entry in
            let fields = entry.elements ?? []
            guard fields.count == 6, case .integer(let id) = fields[0], case .integer(let micros) = fields[2] else {
                Issue.record("slowlog entry must have 6 fields: \(entry)")
                return (-1, -1, [])
            }
            return (id, micros, (fields[3].elements ?? []).map { $0.string ?? "?" })
        }
    }

    @Test func slowlogRecordsCommandsOverTheThresholdNewestFirst() throws {
        let client = try TestConnection { $0.slowlogSlowerThanMicroseconds = 0 }
        _ = try client.call("FEED.POST", "alice", "hello")
        _ = try client.call("FEED.READ", "alice")
        let entries = try slowlog(client)
        #expect(entries.map(\.arguments) == [["FEED.READ", "alice"], ["FEED.POST", "alice", "hello"]])
        #expect(entries.map(\.id) == [1, 0])
        #expect(entries.allSatisfy { $0.micros >= 0 })
        // SLOWLOG GET itself is logged after it ran, as in Redis.
        #expect(try client.call("SLOWLOG", "LEN") == .integer(3))
        #expect(try slowlog(client, "1").count == 1)
        #expect(try slowlog(client, "-1").count == 5)
        #expect(try client.call("SLOWLOG", "RESET") == .simpleString("OK"))
        #expect(try client.call("SLOWLOG", "LEN") == .integer(1))  // the RESET
    }

    @Test func slowlogIgnoresFastCommandsAndKeepsMaxLen() throws {
        let client = try TestConnection {
            $0.slowlogSlowerThanMicroseconds = 10_000_000
            $0.slowlogMaxLength = 2
        }
        for index in 0..<5 { _ = try client.call("FEED.POST", "u\(index)", "x") }
        #expect(try client.call("SLOWLOG", "LEN") == .integer(0))
        #expect(try client.call("CONFIG", "SET", "slowlog-log-slower-than", "0") == .simpleString("OK"))
        for index in 0..<5 { _ = try client.call("FEED.POST", "u\(index)", "x") }
        let entries = try slowlog(client)
        #expect(entries.count == 2)
        #expect(entries.first?.arguments.first == "FEED.POST")
        // A negative threshold turns the log off.
        _ = try client.call("CONFIG", "SET", "slowlog-log-slower-than", "-1")
        _ = try client.call("SLOWLOG", "RESET")
        _ = try client.call("FEED.POST", "u1", "x")
        #expect(try client.call("SLOWLOG", "LEN") == .integer(0))
    }

    @Test func slowlogTrimsArgumentsLikeRedis() throws {
        let client = try TestConnection { $0.slowlogSlowerThanMicroseconds = 0 }
        _ = try client.call(["ECHO", String(repeating: "x", count: 200)] )
        _ = try client.call(["COMMAND", "INFO"] + (0..<40).map { "a\($0)" })
        let entries = try slowlog(client, "2")
        try #require(entries.count == 2)
        let many = entries[0].arguments
        #expect(many.count == 32)
        #expect(many.last == "... (11 more arguments)")
        let long = entries[1].arguments
        #expect(long[1] == String(repeating: "x", count: 128) + "... (72 more bytes)")
    }

    @Test func slowlogAndConfigSetRejectBadInputAndChangeNothing() throws {
        let client = try TestConnection { $0.slowlogSlowerThanMicroseconds = 500 }
        #expect(try client.raw("SLOWLOG", "GET", "-2") == "-ERR count should be greater than or equal to -1\r\n")
        #expect(try client.raw("SLOWLOG", "GET", "x") == "-ERR value is not an integer or out of range\r\n")
        #expect(try client.raw("SLOWLOG", "NOPE").hasPrefix("-ERR unknown subcommand 'NOPE'"))
        // One bad pair fails the whole CONFIG SET, so the good one is not applied either.
        #expect(
            try client.raw("CONFIG", "SET", "slowlog-max-len", "5", "slowlog-log-slower-than", "soon")
                == "-ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - argument couldn't be parsed into an integer\r\n"
        )
        let config = try client.call("CONFIG", "GET", "slowlog-*").dictionary
        #expect(config["slowlog-log-slower-than"]?.string == "500")
        #expect(config["slowlog-max-len"]?.string == "128")
        #expect(
            try client.raw("CONFIG", "SET", "slowlog-max-len", "-3")
                == "-ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len') - argument must be between 0 and 9223372036854775807 inclusive\r\n"
        )
    }

    @Test func commandstatsCountCallsFailuresAndRejections() throws {
        let client = try TestConnection()
        for _ in 0..<3 { _ = try client.call("FEED.POST", "alice", "hi") }
        _ = try client.raw("FEED.POST", "alice")  // wrong arity: rejected before it runs
        _ = try client.raw("FEED.READ", "alice", "COUNT", "zero")  // runs, replies an error
        _ = try client.call("CONFIG", "GET", "maxclients")
        let text = try #require(try client.call("INFO", "commandstats").string)
        let lines = Dictionary(
            text.split(separator: "\r\n").compactMap { line -> (String, String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), String(line[line.index(after: colon)...]))
            }, uniquingKeysWith: { a, _ in a })
        #expect(text.hasPrefix("# Commandstats\r\n"))
        let post = try #require(lines["cmdstat_feed.post"])
        #expect(post.hasPrefix("calls=3,usec="))
        #expect(post.hasSuffix(",rejected_calls=1,failed_calls=0"))
        #expect(try #require(lines["cmdstat_feed.read"]).hasSuffix("rejected_calls=0,failed_calls=1"))
        #expect(lines["cmdstat_config|get"]?.hasPrefix("calls=1,") == true)
        #expect(lines["cmdstat_feed.follow"] == nil)  // never called: not listed, as in Redis
        let errors = try #require(try client.call("INFO", "errorstats").string)
        #expect(errors.contains("errorstat_ERR:count=2"))
        #expect(try client.call("CONFIG", "RESETSTAT") == .simpleString("OK"))
        let after = try #require(try client.call("INFO", "commandstats").string)
        #expect(!after.contains("cmdstat_feed.post"))
        #expect(try client.call("INFO", "errorstats").string == "# Errorstats\r\n")
    }

    @Test func infoEverythingHasEverySection() throws {
        let client = try TestConnection()
        _ = try client.call("FEED.POST", "alice", "hi")
        let defaults = try #require(try client.call("INFO").string)
        #expect(defaults.contains("# Feed\r\n") && !defaults.contains("# Commandstats"))
        for selector in ["all", "everything"] {
            let text = try #require(try client.call("INFO", selector).string)
            for section in ["Server", "Clients", "Memory", "Persistence", "Stats", "Commandstats", "Errorstats", "Feed"] {
                #expect(text.contains("# \(section)\r\n"), "\(selector) lacks \(section)")
            }
        }
        let feed = try #require(try client.call("INFO", "feed").string)
        for key in ["users:1", "posts:1", "follows:0", "resident_timelines:", "celebrities:0", "post_cache_hit_ratio:"] {
            #expect(feed.contains("\r\n" + key), "\(key)")
        }
    }

    @Test func prometheusTextFollowsTheCommands() throws {
        let client = try TestConnection { $0.feed.celebrityThreshold = 3 }
        for follower in ["b", "c"] {
            _ = try client.call("FEED.FOLLOW", follower, "star")
            _ = try client.call("FEED.READ", follower)  // an active reader's timeline is resident
        }
        _ = try client.call("FEED.POST", "star", "one")  // two followers, under the threshold: pushed
        _ = try client.call("FEED.FOLLOW", "d", "star")  // three: a celebrity from now on
        _ = try client.call("FEED.POST", "star", "two")  // pulled on read instead
        _ = try client.call("FEED.READ", "b")
        _ = try client.raw("FEED.POST", "star")
        let text = String(decoding: client.server.metrics.exposition(of: client.server), as: UTF8.self)
        func value(_ series: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
        }
        #expect(value("feed_command_duration_seconds_count{command=\"feed.post\"}") == 2)
        #expect(value("feed_command_duration_seconds_count{command=\"feed.follow\"}") == 3)
        #expect(value("feed_posts_created_total") == 2)
        #expect(value("feed_fanout_deliveries_total") == 2)
        #expect(value("feed_fanouts_skipped_celebrity_total") == 1)
        #expect(value("feed_celebrity_merge_reads_total") == 1)
        #expect(value("feed_command_rejections_total{command=\"feed.post\"}") == 1)
        #expect(value("feed_errors_total{code=\"ERR\"}") == 1)
        #expect(value("feed_users") == 4)
        #expect(value("feed_celebrities") == 1)
        #expect(text.contains("# HELP feed_command_duration_seconds "))
        #expect(text.contains("# TYPE feed_command_duration_seconds histogram"))
        // Counters never go down, even across CONFIG RESETSTAT.
        _ = try client.call("CONFIG", "RESETSTAT")
        _ = try client.raw("FEED.POST", "star")
        let again = String(decoding: client.server.metrics.exposition(of: client.server), as: UTF8.self)
        #expect(again.contains("feed_command_rejections_total{command=\"feed.post\"} 2\n"))
    }
}
