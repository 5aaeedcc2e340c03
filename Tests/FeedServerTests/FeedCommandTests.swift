@testable import FeedServer
import NIOCore
import NIOEmbedded
import RESP
import Testing

/// FEED commands as a client sees them: reply shapes, and Redis-style errors
/// for bad input that leave the engine untouched.
@Suite struct FeedCommandTests {
    /// A post id as the server sends it: a bulk string of decimal digits.
    func postID(_ value: RESPValue) -> Int64? {
        guard let text = value.string, text.allSatisfy(\.isNumber) else { return nil }
        return Int64(text)
    }

    @Test func postFollowReadRoundTrip() throws {
        let client = try TestConnection()
        #expect(try client.raw("FEED.FOLLOW", "bob", "alice") == ":1\r\n")
        #expect(try client.raw("FEED.FOLLOW", "bob", "alice") == ":0\r\n")
        let id = try #require(postID(try client.call("FEED.POST", "alice", "hello")))
        let feed = try #require(try client.call("FEED.READ", "bob").elements)
        #expect(feed.count == 1)
        let entry = try #require(feed[0].elements)
        #expect(entry.count == 4)
        #expect(postID(entry[0]) == id)
        #expect(entry[0].string == "\(id)")  // a bulk string, exact in every client
        #expect(entry[1].string == "alice")
        guard case .integer(let created) = entry[2] else {
            Issue.record("created_ms must be an integer")
            return
        }
        #expect(abs(created - WallClock.milliseconds()) < 5000)
        #expect(entry[3].string == "hello")
        #expect(try client.raw("FEED.UNFOLLOW", "bob", "alice") == ":1\r\n")
        #expect(try client.raw("FEED.UNFOLLOW", "bob", "alice") == ":0\r\n")
        #expect(try client.raw("FEED.READ", "bob") == "*0\r\n")
    }

    @Test func getDeleteLikeAndStats() throws {
        let client = try TestConnection()
        let id = try #require(postID(try client.call("FEED.POST", "alice", "x")))
        #expect(try client.raw("FEED.LIKE", "bob", "\(id)") == ":1\r\n")
        #expect(try client.raw("FEED.LIKE", "bob", "\(id)") == ":1\r\n")
        #expect(try client.raw("FEED.UNLIKE", "bob", "\(id)") == ":0\r\n")
        let both = try #require(try client.call("FEED.GET", "\(id)", "\(id + 1)").elements)
        #expect(both.count == 2 && both[0].elements?.count == 4 && both[1] == .nullArray)
        #expect(try client.raw("FEED.DELETE", "bob", "\(id)") == ":0\r\n")
        #expect(try client.raw("FEED.DELETE", "alice", "\(id)") == ":1\r\n")
        #expect(try client.raw("FEED.GET", "\(id)") == "*1\r\n*-1\r\n")
        #expect(try client.raw("FEED.LIKE", "bob", "\(id)") == "-ERR no such post\r\n")
        let stats = try client.call("FEED.STATS", "alice").dictionary
        #expect(stats == ["followers": .integer(0), "following": .integer(0), "posts": .integer(0),
            "timeline": .integer(0), "celebrity": .integer(0), "unseen": .integer(0), "unread": .integer(0)])
        _ = try client.raw("HELLO", "3")
        #expect(try client.raw("FEED.GET", "\(id)") == "*1\r\n_\r\n")
        guard case .map = try client.call("FEED.STATS", "alice") else {
            Issue.record("FEED.STATS is a map in RESP3")
            return
        }
    }

    @Test func followListsPageWithAfter() throws {
        let client = try TestConnection()
        for fan in ["f1", "f2", "f3", "f4", "f5"] { _ = try client.raw("FEED.FOLLOW", fan, "star") }
        let first = try #require(try client.call("FEED.FOLLOWERS", "star", "COUNT", "2").elements).compactMap(\.string)
        #expect(first == ["f1", "f2"])
        let next = try #require(try client.call("FEED.FOLLOWERS", "star", "count", "2", "after", "f2").elements)
        #expect(next.compactMap(\.string) == ["f3", "f4"])
        #expect(try client.call("FEED.FOLLOWING", "f1").elements?.compactMap(\.string) == ["star"])
        #expect(try client.raw("FEED.FOLLOWERS", "star", "AFTER", "nobody") == "-ERR no such user 'nobody'\r\n")
    }

    @Test func badInputGetsRedisStyleErrorsAndChangesNothing() throws {
        let client = try TestConnection()
        let cases: [([String], String)] = [
            (["FEED.POST", "alice"], "-ERR wrong number of arguments for 'feed.post' command\r\n"),
            (["FEED.READ"], "-ERR wrong number of arguments for 'feed.read' command\r\n"),
            (["FEED.POST", "", "x"], "-ERR user id must not be empty\r\n"),
            (["FEED.POST", String(repeating: "u", count: 129), "x"], "-ERR user id is longer than 128 bytes\r\n"),
            (["FEED.POST", "alice", ""], "-ERR post body must not be empty\r\n"),
            (["FEED.POST", "alice", String(repeating: "b", count: 65537)],
                "-ERR post body is longer than max-body-bytes (65536)\r\n"),
            (["FEED.FOLLOW", "a", "a"], "-ERR a user cannot follow themselves\r\n"),
            (["FEED.READ", "bob", "COUNT", "x"], "-ERR value is not an integer or out of range\r\n"),
            (["FEED.READ", "bob", "COUNT", "0"], "-ERR COUNT must be between 1 and 500\r\n"),
            (["FEED.READ", "bob", "COUNT", "501"], "-ERR COUNT must be between 1 and 500\r\n"),
            (["FEED.READ", "bob", "COUNT"], "-ERR syntax error\r\n"),
            (["FEED.READ", "bob", "COUNT", "5", "COUNT", "6"], "-ERR syntax error\r\n"),
            (["FEED.READ", "bob", "BEFORE", "-1"], "-ERR value is not an integer or out of range\r\n"),
            (["FEED.READ", "bob", "BEFORE", "99999999999999999999"], "-ERR value is not an integer or out of range\r\n"),
            (["FEED.READ", "bob", "RANKED", "BEFORE", "5"], "-ERR syntax error\r\n"),
            (["FEED.READ", "bob", "RANKED", "RANKED"], "-ERR syntax error\r\n"),
            (["FEED.READ", "bob", "PAGE", "1-2"], "-ERR syntax error\r\n"),
            (["FEED.READ", "bob", "RANKED", "PAGE", "x"], "-ERR invalid page token\r\n"),
            (["FEED.READ", "bob", "RANKED", "PAGE", "1-2"], "-ERR page token expired; read the first page again\r\n"),
            (["FEED.READ", "bob", "SIDEWAYS"], "-ERR syntax error\r\n"),
            (["FEED.POSTS", "bob", "AFTER", "x"], "-ERR syntax error\r\n"),
            (["FEED.DELETE", "alice", "0"], "-ERR value is not an integer or out of range\r\n"),
            (["FEED.GET", "1", "abc"], "-ERR value is not an integer or out of range\r\n"),
            (["FEED.LIKE", "bob", "12"], "-ERR no such post\r\n"),
        ]
        for (arguments, expected) in cases {
            var buffer = ByteBuffer()
            RESPValue.encodeCommand(arguments, into: &buffer)
            try client.channel.writeInbound(buffer)
            #expect(try client.drain() == expected, "\(arguments.map { String($0.prefix(20)) })")
        }
        // Invalid UTF-8 in a user id or body.
        var invalid = ByteBuffer()
        RESPValue.encodeCommand([ByteBuffer(string: "FEED.POST"), ByteBuffer(bytes: [0xFF, 0xFE]), ByteBuffer(string: "x")], into: &invalid)
        RESPValue.encodeCommand([ByteBuffer(string: "FEED.POST"), ByteBuffer(string: "a"), ByteBuffer(bytes: [0xC3])], into: &invalid)
        try client.channel.writeInbound(invalid)
        #expect(try client.drain() == "-ERR user id must be valid UTF-8\r\n-ERR post body must be valid UTF-8\r\n")
        // None of it created a user or a post.
        #expect(try client.raw("DBSIZE") == ":0\r\n")
        let info = try #require(try client.call("INFO", "feed").string)
        #expect(info.contains("\r\nposts:0\r\n") && info.contains("\r\nusers:0\r\n"))
    }

    @Test func feedCommandsHaveDocsForRedisCli() throws {
        let client = try TestConnection()
        _ = try client.raw("HELLO", "3")
        let docs = try client.call("COMMAND", "DOCS", "feed.read").dictionary
        let read = try #require(docs["feed.read"]).dictionary
        #expect(read["group"]?.string == "feed")
        let arguments = try #require(read["arguments"]?.elements).map(\.dictionary)
        #expect(arguments.map { $0["name"]?.string } == ["user", "count", "post-id", "post-id", "ranked", "token", "withmeta"])
        #expect(arguments.map { $0["token"]?.string } == [nil, "COUNT", "BEFORE", "AFTER", "RANKED", "PAGE", "WITHMETA"])
        let info = try #require(try client.call("COMMAND", "INFO", "feed.post").elements?.first?.elements)
        #expect(info[1] == .integer(-3))  // author body [REPLYTO post-id]
        #expect(info[3] == .integer(1))  // the author is the key, for cluster-aware routing
    }
}
