@testable import FeedServer
import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import RESP
import Synchronization
import Testing
import Timeline

@Suite struct EventTokenTests {
    let tokens = EventTokens(secret: Array("secret".utf8))

    @Test func aTokenOpensOnlyItsUsersStreamUntilItExpires() {
        let token = self.tokens.mint(user: "bob", expiresAt: 2_000)
        #expect(self.tokens.verify(token, user: "bob", now: 1_999) == .valid)
        #expect(self.tokens.verify(token, user: "bob", now: 2_000) == .expired)
        #expect(self.tokens.verify(token, user: "alice", now: 1_000) == .invalid)
        #expect(EventTokens(secret: Array("other".utf8)).verify(token, user: "bob", now: 1_000) == .invalid)
    }

    @Test func tamperedTokensAreRefused() {
        let token = self.tokens.mint(user: "bob", expiresAt: 2_000)
        let mac = token.split(separator: ".")[1]
        #expect(self.tokens.verify("3000." + mac, user: "bob", now: 1_000) == .invalid)  // extended
        var flipped = Array(mac)
        flipped[5] = flipped[5] == "A" ? "B" : "A"
        #expect(self.tokens.verify("2000." + String(flipped), user: "bob", now: 1_000) == .invalid)
        for garbage in ["", ".", "2000", "2000.", "x.y", "2000.\(mac).", "+2000.\(mac)", "2000.\(mac)=="] {
            #expect(self.tokens.verify(garbage, user: "bob", now: 1_000) == .invalid, "\(garbage)")
        }
    }

    @Test func theMacIsHMACSHA256OfUserAndExpiry() {
        // Checked against OpenSSL:
        // printf "feed-events\nbob\n2000" | openssl dgst -sha256 -hmac Jefe -binary | base64 (url-safe, unpadded)
        let token = EventTokens(secret: Array("Jefe".utf8)).mint(user: "bob", expiresAt: 2000)
        #expect(token == "2000.YwLxrxWRVxvLGUHilVIFymsyEOdxhN8FNxypFM-Hk9E")
    }

    @Test func base64URLRoundTripsAndRefusesWhatIsNotCanonical() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("+") && !text.contains("/") && !text.contains("="))
            #expect(Base64URL.decode(text) == bytes)
        }
        #expect(Base64URL.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64URL.encode([0xfb, 0xff]) == "-_8")
        #expect(Base64URL.decode("-_9") == nil)  // stray bits past the last byte
        #expect(Base64URL.decode("A") == nil)
    }

    @Test func percentDecoding() {
        #expect(PercentDecoding.decode("ana%20mar%C3%ADa%2F1", plusIsSpace: false) == "ana maría/1")
        #expect(PercentDecoding.decode("a+b", plusIsSpace: false) == "a+b")
        #expect(PercentDecoding.decode("a+b", plusIsSpace: true) == "a b")
        #expect(PercentDecoding.decode("%zz", plusIsSpace: false) == nil)
        #expect(PercentDecoding.decode("%C3", plusIsSpace: false) == nil)  // not UTF-8
        #expect(PercentDecoding.parameter("token", in: "a=1&token=x%2By&token=z") == "x+y")
        #expect(PercentDecoding.parameter("token", in: "a=1") == nil)
    }
}

@Suite struct EventStreamHandlerTests {
    /// A handler behind NIO's HTTP server pipeline, fed raw request bytes.
    struct Stream {
        let server: ServerContext
        let channel = EmbeddedChannel()

        init(server: ServerContext) throws {
            self.server = server
            try self.channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
            try self.channel.pipeline.syncOperations.addHandler(EventStreamHandler(server: server))
            try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        func request(_ text: String) throws {
            try self.channel.writeInbound(ByteBuffer(string: text.replacingOccurrences(of: "\n", with: "\r\n")))
        }

        /// Everything written so far, as text.
        func output() throws -> String {
            (self.channel.eventLoop as! EmbeddedEventLoop).run()
            var text = ""
            while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
            return text
        }
    }

    @Test func refusesWhatIsNotAStreamWithAValidToken() throws {
        let server = TestConnection.makeServer()
        let token = server.eventTokens.mint(user: "bob", expiresAt: WallClock.milliseconds() / 1000 + 60)
        for (path, status) in [
            ("/events/bob?token=bad", "401 Unauthorized"), ("/events/alice?token=\(token)", "401 Unauthorized"),
            ("/", "404 Not Found"), ("/events/?token=\(token)", "404 Not Found"),
        ] {
            let stream = try Stream(server: server)
            try stream.request("GET \(path) HTTP/1.1\nHost: x\n\n")
            let output = try stream.output()
            #expect(output.hasPrefix("HTTP/1.1 \(status)"), "\(path)")
            #expect(output.contains("connection: close") || output.contains("Connection: close"))
        }
        #expect(server.eventStreams.count.load(ordering: .relaxed) == 0)
    }

    @Test func aStreamOpensAtTheNewestIdAndSkipsWhatIsOlder() throws {
        let server = TestConnection.makeServer()
        let posted = try server.feed.withEngine { try $0.post(author: "bob", body: "before", now: WallClock.milliseconds()) }
        let token = server.eventTokens.mint(user: "bob", expiresAt: WallClock.milliseconds() / 1000 + 60)
        let stream = try Stream(server: server)
        try stream.request("GET /events/bob?token=\(token) HTTP/1.1\nHost: x\n\n")
        let opening = try stream.output()
        #expect(opening.hasPrefix("HTTP/1.1 200 OK"))
        #expect(opening.contains("retry: 2000\nid: \(posted)\n\n"))
        #expect(server.eventStreams.users() == ["bob"])

        let payload = ByteBuffer(string: "{}")
        // An event for a post the stream opened after is not sent; a newer one is, once.
        server.eventStreams.publish(user: "bob", frame: EventStreamFrame.post(id: posted, payload: payload), postID: posted)
        server.eventStreams.publish(user: "bob", frame: EventStreamFrame.post(id: posted + 1, payload: payload), postID: posted + 1)
        server.eventStreams.publish(user: "bob", frame: EventStreamFrame.post(id: posted + 1, payload: payload), postID: posted + 1)
        server.eventStreams.publish(user: "bob", frame: EventStreamFrame.event(payload: payload), postID: nil)
        let events = try stream.output()
        #expect(!events.contains("id: \(posted)\n"))
        #expect(events.components(separatedBy: "id: \(posted + 1)\ndata: {}\n\n").count == 2)
        #expect(events.hasSuffix("\r\ndata: {}\n\n\r\n"))  // the delete, last, in a chunk of its own

        try stream.channel.close().wait()
        #expect(server.eventStreams.count.load(ordering: .relaxed) == 0)
    }
}

@Suite struct PushMessageTests {
    @Test func messagesAreFormattedAsRedisSendsThem() {
        let payload = ByteBuffer(string: "hi")
        var buffer = ByteBuffer()
        PushMessage(pattern: nil, channel: "feed:bob", payload: payload).write(into: &buffer, version: .resp2)
        PushMessage(pattern: "feed:*", channel: "feed:bob", payload: payload).write(into: &buffer, version: .resp3)
        #expect(
            String(buffer: buffer)
                == "*3\r\n$7\r\nmessage\r\n$8\r\nfeed:bob\r\n$2\r\nhi\r\n"
                + ">4\r\n$8\r\npmessage\r\n$6\r\nfeed:*\r\n$8\r\nfeed:bob\r\n$2\r\nhi\r\n")
        #expect(PushMessage(pattern: nil, channel: "feed:bob", payload: payload).estimatedSize >= 33)
    }

    @Test func aBatchDeliveredTogetherKeepsItsOrder() throws {
        let server = TestConnection.makeServer()
        let connection = try TestConnection(server: server)
        _ = try connection.raw("SUBSCRIBE", "a", "b")
        for index in 0..<5 { server.pubsub.publish(channel: index % 2 == 0 ? "a" : "b", payload: ByteBuffer(string: "m\(index)")) }
        (connection.channel.eventLoop as! EmbeddedEventLoop).run()
        let received = try connection.drain()
        let payloads = received.components(separatedBy: "\r\n").filter { $0.hasPrefix("m") && $0.count == 2 }
        #expect(payloads == ["m0", "m1", "m2", "m3", "m4"])
    }
}
