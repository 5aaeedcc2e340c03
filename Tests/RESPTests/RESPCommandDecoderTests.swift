import NIOCore
import NIOTestUtils
import RESP
import Testing
import TestSupport

/// The request decoder against Redis 7's observed behaviour. Every case is fed
/// whole, byte by byte and in random splits, and must come out the same.
@Suite struct RESPCommandDecoderTests {
    /// Inputs that decode to commands (and no error).
    static let accepted: [(String, [[String]])] = [
        (multibulk("PING"), [["PING"]]),
        (multibulk("SET", "k", "v") + multibulk("GET", "k"), [["SET", "k", "v"], ["GET", "k"]]),
        ("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", [["ECHO", ""]]),
        ("*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n", [["ECHO", "a\r\nb"]]),
        // Like Redis, the two bytes after a bulk are skipped, not checked.
        ("*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n", [["PING"], ["PING"]]),
        ("*1\r\n$4\rXPING\r\n", [["PING"]]),
        // Inline commands, with redis-cli's and telnet's line ends.
        ("PING\r\n", [["PING"]]),
        ("PING\n", [["PING"]]),
        ("  ECHO   x  \r\n", [["ECHO", "x"]]),
        ("ECHO\t a\r\n", [["ECHO", "a"]]),
        ("ECHO a\rb\r\n", [["ECHO", "a", "b"]]),
        ("ECHO \u{0B}x\r\n", [["ECHO", "x"]]),
        // Redis's quoting rules.
        ("ECHO 'a\\'b'\r\n", [["ECHO", "a'b"]]),
        ("ECHO \"\\x41\\n\"\r\n", [["ECHO", "A\n"]]),
        ("ECHO \"\\xZZ\"\r\n", [["ECHO", "xZZ"]]),
        ("ECHO \"\\x4\"\r\n", [["ECHO", "x4"]]),
        ("ECHO \"\\q\\t\\r\\b\\a\"\r\n", [["ECHO", "q\t\r\u{08}\u{07}"]]),
        ("ECHO 'a\\nb'\r\n", [["ECHO", "a\\nb"]]),
        ("ECHO ''\r\n", [["ECHO", ""]]),
        ("ECHO \"\"\r\n", [["ECHO", ""]]),
        ("ECHO \"a\\\"b\"\r\n", [["ECHO", "a\"b"]]),
        ("ECHO \"a b\" c\r\n", [["ECHO", "a b", "c"]]),
        ("SET a\"b c\"\r\n", [["SET", "ab c"]]),
        // Empty requests are ignored, as Redis ignores them.
        ("\r\nPING\r\n", [["PING"]]),
        ("\nPING\r\n", [["PING"]]),
        ("   \r\nPING\r\n", [["PING"]]),
        ("*0\r\nPING\r\n", [["PING"]]),
        ("*-10\r\nPING\r\n", [["PING"]]),
        ("*-1\r\n" + multibulk("PING"), [["PING"]]),
    ]

    @Test(arguments: Self.accepted.indices)
    func decodesWhatClientsSend(index: Int) {
        let (input, expected) = Self.accepted[index]
        for split in Split.all {
            let outcome = decode(input, split: split)
            #expect(outcome == DecodeOutcome(commands: expected, error: nil, leftover: 0), "\(split)")
        }
    }

    /// Inputs that end in a protocol error, with the commands decoded before it.
    static let rejected: [(String, [[String]], RESPProtocolError)] = [
        ("*abc\r\n", [], .invalidMultibulkLength),
        ("*1\r\nfoo\r\n", [], .expectedDollar(got: UInt8(ascii: "f"))),
        ("*1\r\n\r\n", [], .expectedDollar(got: 0x0D)),
        ("*1\r\n$abc\r\n", [], .invalidBulkLength),
        ("set \"a\r\n", [], .unbalancedQuotes),
        ("PING \"a\"b\r\n", [], .unbalancedQuotes),
        ("ECHO 'a'b\r\n", [], .unbalancedQuotes),
        ("ECHO \"\"x\r\n", [], .unbalancedQuotes),
        ("ECHO 'abc\r\n", [], .unbalancedQuotes),
        ("*-0\r\n", [], .invalidMultibulkLength),
        ("*\r\n", [], .invalidMultibulkLength),
        ("*1 \r\n", [], .invalidMultibulkLength),
        ("*+1\r\n", [], .invalidMultibulkLength),
        ("*01\r\n", [], .invalidMultibulkLength),
        ("*1\n$4\r\nPING\r\n", [], .invalidMultibulkLength),
        ("*99999999999999999999\r\n", [], .invalidMultibulkLength),
        ("*1048577\r\n", [], .invalidMultibulkLength),
        ("*1\r\n$\r\n", [], .invalidBulkLength),
        ("*1\r\n$-0\r\n", [], .invalidBulkLength),
        ("*1\r\n$-1\r\n", [], .invalidBulkLength),
        ("*1\r\n$04\r\nPING\r\n", [], .invalidBulkLength),
        ("*1\r\n$+4\r\nPING\r\n", [], .invalidBulkLength),
        ("*1\r\n$4\nPING\r\n", [], .invalidBulkLength),
        ("*1\r\n$536870913\r\n", [], .invalidBulkLength),
        // What came before the error is still delivered, in order.
        (multibulk("PING") + "*1\r\nxyz\r\n", [["PING"]], .expectedDollar(got: UInt8(ascii: "x"))),
        ("PING\r\n*x\r\n", [["PING"]], .invalidMultibulkLength),
    ]

    @Test(arguments: Self.rejected.indices)
    func rejectsWhatRedisRejects(index: Int) {
        let (input, expected, error) = Self.rejected[index]
        for split in Split.all {
            let outcome = decode(input, split: split)
            #expect(outcome.commands == expected, "\(split)")
            #expect(outcome.error == error, "\(split)")
        }
    }

    @Test func errorMessagesAreRedisWords() {
        func reply(_ error: RESPProtocolError) -> String {
            var buffer = ByteBuffer()
            error.write(into: &buffer)
            return String(buffer: buffer)
        }
        #expect(reply(.invalidMultibulkLength) == "-ERR Protocol error: invalid multibulk length\r\n")
        #expect(reply(.expectedDollar(got: UInt8(ascii: "f"))) == "-ERR Protocol error: expected '$', got 'f'\r\n")
        #expect(reply(.expectedDollar(got: 0x0D)) == "-ERR Protocol error: expected '$', got ' '\r\n")
        #expect(reply(.invalidBulkLength) == "-ERR Protocol error: invalid bulk length\r\n")
        #expect(reply(.unbalancedQuotes) == "-ERR Protocol error: unbalanced quotes in request\r\n")
        #expect(reply(.tooBigInlineRequest) == "-ERR Protocol error: too big inline request\r\n")
        #expect(reply(.tooBigMultibulkCount) == "-ERR Protocol error: too big mbulk count string\r\n")
        #expect(reply(.tooBigBulkCount) == "-ERR Protocol error: too big bulk count string\r\n")
        #expect(reply(.unauthenticatedMultibulkLength) == "-ERR Protocol error: unauthenticated multibulk length\r\n")
        #expect(reply(.unauthenticatedBulkLength) == "-ERR Protocol error: unauthenticated bulk length\r\n")
    }

    @Test func garbageWithoutNewlineIsCutOffAtTheInlineLimit() {
        // 64 KiB of garbage is still a request in progress; one byte more is an error,
        // however the bytes arrive, so a peer cannot make the server buffer without bound.
        let limit = RESPDecoderLimits().maxInlineSize
        for split in [Split.whole, .random(seed: 7)] {
            #expect(decode(Array(repeating: UInt8(ascii: "A"), count: limit), split: split).error == nil)
            #expect(
                decode(Array(repeating: UInt8(ascii: "A"), count: limit + 1), split: split).error
                    == .tooBigInlineRequest)
        }
        // Byte by byte, the error comes exactly when the limit is passed.
        var decoder = RESPCommandDecoder()
        var buffer = ByteBuffer()
        var fed = 0
        var failed: RESPProtocolError?
        while fed < limit + 10 {
            buffer.writeInteger(UInt8(ascii: "x"))
            fed += 1
            do { _ = try decoder.next(&buffer) } catch {
                failed = error
                break
            }
        }
        #expect(failed == .tooBigInlineRequest)
        #expect(fed == limit + 1)
    }

    @Test func inlineLimitJudgesTheLineNotTheRead() {
        let limit = RESPDecoderLimits().maxInlineSize
        let justFits = String(repeating: "A", count: limit - 1) + "\r\n"  // newline at index limit
        let tooLong = String(repeating: "A", count: limit) + "\r\n"
        for split in [Split.whole, .byteByByte, .random(seed: 3)] {
            #expect(decode(justFits, split: split).commands.first?.first?.utf8.count == limit - 1)
            #expect(decode(tooLong, split: split).error == .tooBigInlineRequest)
        }
    }

    @Test func countLinesAreCutOffAtTheInlineLimit() {
        let digits = String(repeating: "1", count: 70_000)
        for split in [Split.whole, .random(seed: 5)] {
            #expect(decode("*" + digits, split: split).error == .tooBigMultibulkCount)
            #expect(decode("*1\r\n$" + digits, split: split).error == .tooBigBulkCount)
            // A count line that fits the limit but is not a number is an invalid length.
            let long = String(repeating: "1", count: 65_535)
            #expect(decode("*1\r\n$" + long + "\r\n", split: split).error == .invalidBulkLength)
        }
    }

    @Test func limitsAreConfigurable() {
        let limits = RESPDecoderLimits(maxMultibulkCount: 3, maxBulkLength: 5)
        #expect(decode(Array(multibulk("A", "B", "C").utf8), limits: limits).commands == [["A", "B", "C"]])
        #expect(decode(Array(multibulk("A", "B", "C", "D").utf8), limits: limits).error == .invalidMultibulkLength)
        #expect(decode(Array(multibulk("ECHO", "12345").utf8), limits: limits).commands == [["ECHO", "12345"]])
        #expect(decode(Array(multibulk("ECHO", "123456").utf8), limits: limits).error == .invalidBulkLength)
        // The defaults: 1,048,576 arguments and 512 MiB, which a peer may announce but not exceed.
        #expect(decode("*1048576\r\n").error == nil)
        #expect(decode("*1\r\n$536870912\r\n").error == nil)
    }

    @Test func unauthenticatedRequestsAreSmall() {
        let eleven = "*11\r\n" + String(repeating: "$1\r\na\r\n", count: 11)
        let ten = "*10\r\n" + String(repeating: "$1\r\na\r\n", count: 10)
        for split in [Split.whole, .byteByByte] {
            #expect(decode(eleven, split: split, unauthenticated: true).error == .unauthenticatedMultibulkLength)
            #expect(decode(ten, split: split, unauthenticated: true).commands.count == 1)
            #expect(decode(eleven, split: split, unauthenticated: false).commands.count == 1)
        }
        let big = String(repeating: "b", count: 16 * 1024 + 1)
        let fits = String(repeating: "b", count: 16 * 1024)
        #expect(decode(multibulk("AUTH", big), unauthenticated: true).error == .unauthenticatedBulkLength)
        #expect(decode(multibulk("AUTH", fits), unauthenticated: true).commands.count == 1)
        #expect(decode(multibulk("AUTH", big), unauthenticated: false).commands.count == 1)
    }

    @Test func argumentsAreSlicesOfTheReadBuffer() throws {
        var buffer = ByteBuffer(string: multibulk("FEED.POST", "alice", String(repeating: "x", count: 1000)))
        let storage = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress!) ..< UInt(bitPattern: $0.baseAddress! + $0.count) }
        var decoder = RESPCommandDecoder()
        let command = try #require(try decoder.next(&buffer))
        for argument in command.arguments {
            let address = argument.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress!) }
            #expect(storage.contains(address))
        }
    }

    @Test func aPartialRequestHoldsNoReferenceToTheBuffer() throws {
        // If the decoder kept slices of a half-read request, appending the next read
        // would copy the whole buffer each time. It keeps offsets instead.
        var decoder = RESPCommandDecoder()
        var buffer = ByteBuffer()
        buffer.reserveCapacity(4096)
        buffer.writeString("*2\r\n$4\r\nECHO\r\n$100\r\n")
        #expect(try decoder.next(&buffer) == nil)
        let before = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress!) }
        buffer.writeString(String(repeating: "z", count: 100) + "\r\n")
        let after = buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress!) }
        #expect(before == after)
        let command = try #require(try decoder.next(&buffer))
        #expect(command == RESPCommand("ECHO", String(repeating: "z", count: 100)))
    }

    @Test func passesNIOsDecoderVerifier() throws {
        let pairs: [(ByteBuffer, [RESPCommand])] = [
            (ByteBuffer(string: multibulk("PING")), [RESPCommand("PING")]),
            (ByteBuffer(string: multibulk("SET", "key", "a\r\nvalue")), [RESPCommand("SET", "key", "a\r\nvalue")]),
            (ByteBuffer(string: "ECHO \"quoted \\x41\" 'single'\r\n"), [RESPCommand("ECHO", "quoted A", "single")]),
            (ByteBuffer(string: "*0\r\n" + multibulk("A", "", "B")), [RESPCommand("A", "", "B")]),
            (ByteBuffer(string: "\r\n"), []),
            (ByteBuffer(string: multibulk("X") + multibulk("Y")), [RESPCommand("X"), RESPCommand("Y")]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { RESPCommandDecoder() }
    }

    @Test func randomCommandsSurviveRandomSplits() {
        var rng = SplitMix64(seed: 42)
        let alphabet: [UInt8] = Array("ab \"'\\\r\n$*:x0".utf8) + [0, 255]
        for round in 0..<200 {
            var commands: [[[UInt8]]] = []
            var wire: [UInt8] = []
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                var arguments: [[UInt8]] = []
                for _ in 0..<Int.random(in: 1...5, using: &rng) {
                    let length = Int.random(in: 0...40, using: &rng)
                    arguments.append((0..<length).map { _ in alphabet.randomElement(using: &rng)! })
                }
                commands.append(arguments)
                var buffer = ByteBuffer()
                RESPValue.encodeCommand(arguments.map { ByteBuffer(bytes: $0) }, into: &buffer)
                wire += Array(buffer.readableBytesView)
            }
            for split in [Split.whole, .byteByByte, .random(seed: UInt64(round))] {
                var decoder = RESPCommandDecoder()
                var buffer = ByteBuffer()
                var decoded: [[[UInt8]]] = []
                for chunk in split.chunks(wire) {
                    buffer.writeBytes(chunk)
                    while let command = try? decoder.next(&buffer) {
                        decoded.append(command.arguments.map { Array($0.readableBytesView) })
                    }
                }
                #expect(decoded == commands, "round \(round) \(split)")
                #expect(decoder.isIdle)
            }
        }
    }
}
