@testable import FeedServer
import Testing

@Suite struct SupportTests {
    @Test func globPatternsFollowRedis() {
        #expect(GlobPattern.matches("*", "anything"))
        #expect(GlobPattern.matches("*max*", "maxclients"))
        #expect(GlobPattern.matches("max?lients", "maxclients"))
        #expect(GlobPattern.matches("[ms]ave", "save"))
        #expect(GlobPattern.matches("[a-t]ave", "save"))
        #expect(!GlobPattern.matches("[^s]ave", "save"))
        #expect(GlobPattern.matches("SAVE", "save", caseInsensitive: true))
        #expect(!GlobPattern.matches("SAVE", "save"))
        #expect(GlobPattern.matches("a\\*b", "a*b"))
        #expect(!GlobPattern.matches("a\\*b", "axb"))
        #expect(!GlobPattern.matches("save", "saves"))
        #expect(GlobPattern.matches("", ""))
    }

    @Test func byteSizesReadLikeRedisConfig() {
        #expect(ByteSize.parse("1024") == 1024)
        #expect(ByteSize.parse("64kb") == 65536)
        #expect(ByteSize.parse("256MB") == 256 * 1024 * 1024)
        #expect(ByteSize.parse("1gb") == 1 << 30)
        #expect(ByteSize.parse("2k") == 2000)
        #expect(ByteSize.parse("-1") == nil)
        #expect(ByteSize.parse("lots") == nil)
        #expect(ByteSize.parse("99999999999999gb") == nil)
    }

    @Test func humanSizesReadLikeRedisInfo() {
        #expect(InfoReport.human(512) == "512B")
        #expect(InfoReport.human(1536) == "1.50K")
        #expect(InfoReport.human(10 * 1024 * 1024 + 1024 * 1024 / 20) == "10.05M")
    }
}
