import NIOCore
import RESP
import Timeline

/// A refusal with the text the client sees after `-`.
struct CommandError: Error {
    let message: String

    init(_ message: String) { self.message = message }

    static let syntax = CommandError(RedisError.syntax)
    static let notAnInteger = CommandError(RedisError.notAnInteger)
    static let backlogFull = CommandError("TRYAGAIN persistence backlog full")
    /// Redis's words for a write refused past maxmemory.
    static let outOfMemory = CommandError("OOM command not allowed when used memory > 'maxmemory'.")
    static let storeUnavailable = CommandError("TRYAGAIN PostgreSQL unavailable: cannot read what is not in memory")
    static func feed(_ error: FeedError) -> CommandError { CommandError("ERR " + error.message) }
}

/// Reading FEED command arguments: user ids and bodies as UTF-8 text, post
/// ids as positive 64-bit integers, and the COUNT / BEFORE / AFTER options.
/// Everything is checked before the engine is touched, so a bad request
/// changes nothing.
enum FeedArguments {
    /// The argument as UTF-8 text.
    static func text(_ call: CommandCall, _ index: Int, what: String) throws(CommandError) -> String {
        guard let text = String(validating: call.arguments[index].readableBytesView, as: UTF8.self) else {
            throw CommandError("ERR \(what) must be valid UTF-8")
        }
        return text
    }

    /// A user id: non-empty UTF-8 of at most the configured length.
    static func user(_ call: CommandCall, _ index: Int) throws(CommandError) -> String {
        let bytes = call.arguments[index].readableBytes
        let limit = call.server.configuration.feed.maxUserIDBytes
        if bytes == 0 { throw .feed(.emptyUserID) }
        if bytes > limit { throw .feed(.userIDTooLong(limit: limit)) }
        return try self.text(call, index, what: "user id")
    }

    /// A post body: non-empty UTF-8 within `--max-body-bytes`.
    static func body(_ call: CommandCall, _ index: Int) throws(CommandError) -> String {
        let bytes = call.arguments[index].readableBytes
        let limit = call.server.configuration.feed.maxBodyBytes
        if bytes == 0 { throw .feed(.emptyBody) }
        if bytes > limit { throw .feed(.bodyTooLarge(limit: limit)) }
        return try self.text(call, index, what: "post body")
    }

    /// A post id: a positive integer that fits a signed 64-bit integer.
    static func postID(_ call: CommandCall, _ index: Int) throws(CommandError) -> UInt64 {
        guard let value = call.integer(index), value > 0 else { throw .notAnInteger }
        return UInt64(value)
    }

    /// The options of FEED.READ, FEED.POSTS, FEED.FOLLOWERS and FEED.FOLLOWING.
    struct Page {
        var count: Int
        var before: UInt64?
        var after: String?
        /// FEED.READ … AFTER post-id (catch-up, oldest first).
        var afterPost: UInt64?
        /// Entries as maps with their links and counts.
        var withMeta = false
        /// FEED.READ … RANKED, and the PAGE token of a page after the first.
        var ranked = false
        var pageToken: String?
    }

    /// Parses `[COUNT n] [BEFORE id] [AFTER user]` from `start`; each option
    /// at most once, in any order, keywords in any case.
    static func page(
        _ call: CommandCall, from start: Int, before allowsBefore: Bool, after allowsAfter: Bool,
        afterPost allowsAfterPost: Bool = false
    ) throws(CommandError) -> Page {
        let feed = call.server.configuration.feed
        var page = Page(count: feed.defaultReadCount)
        var seen = Set<String>()
        var index = start
        while index < call.count {
            let option: String
            if allowsBefore && call.argument(index, is: "WITHMETA") {
                guard seen.insert("WITHMETA").inserted else { throw .syntax }
                page.withMeta = true
                index += 1
                continue
            }
            if allowsAfterPost && call.argument(index, is: "RANKED") {
                guard seen.insert("RANKED").inserted else { throw .syntax }
                page.ranked = true
                index += 1
                continue
            }
            if call.argument(index, is: "COUNT") {
                option = "COUNT"
            } else if allowsAfterPost && call.argument(index, is: "PAGE") {
                option = "PAGE"
            } else if allowsBefore && call.argument(index, is: "BEFORE") {
                option = "BEFORE"
            } else if (allowsAfter || allowsAfterPost) && call.argument(index, is: "AFTER") {
                option = "AFTER"
            } else {
                // Unknown options and repeats.
                throw .syntax
            }
            guard index + 1 < call.count, seen.insert(option).inserted else { throw .syntax }
            switch option {
            case "COUNT":
                guard let count = call.integer(index + 1) else { throw .notAnInteger }
                guard count >= 1 && count <= Int64(feed.maxReadCount) else {
                    throw CommandError("ERR COUNT must be between 1 and \(feed.maxReadCount)")
                }
                page.count = Int(count)
            case "BEFORE":
                page.before = try self.postID(call, index + 1)
            case "PAGE":
                // "0" is the first page, as SCAN's cursor.
                let token = try self.text(call, index + 1, what: "page token")
                page.pageToken = token == "0" ? nil : token
            default:
                if allowsAfterPost {
                    // AFTER 0: from the beginning (an event stream's cursor before any post).
                    guard let value = call.integer(index + 1), value >= 0 else { throw .notAnInteger }
                    page.afterPost = UInt64(value)
                } else {
                    page.after = try self.user(call, index + 1)
                }
            }
            index += 2
        }
        // BEFORE pages back, AFTER catches up: not both at once.
        if page.before != nil && page.afterPost != nil { throw .syntax }
        // A ranked read pages with its tokens; PAGE belongs to it.
        if page.ranked && (page.before != nil || page.afterPost != nil) { throw .syntax }
        if seen.contains("PAGE") && !page.ranked { throw .syntax }
        return page
    }
}

/// Writes a read's entries as RESP straight from the engine's bytes:
/// `[id, author, created_ms, body]` each, the body nil when unknown, and nil
/// for a missing post. The same bytes in RESP2 and RESP3 but for the nils.
///
/// In collecting mode it keeps the entries as values instead, for a reply
/// the store must complete.
struct RESPEntryWriter: FeedEntryWriter {
    var reply: ReplyWriter
    /// Entries whose body memory no longer holds.
    var missingBodies = 0
    /// Entries memory no longer describes at all.
    var unresolved = 0
    /// Non-nil in collecting mode.
    var collected: FeedEntryCollector?
    /// WITHMETA: each entry a map of its fields, links and counts.
    var withMeta = false

    /// Plain entries written straight to RESP show no meta.
    var wantsMeta: Bool { self.withMeta || self.collected != nil }

    mutating func beginEntries(count: Int) {
        if self.collected != nil { return self.collected!.beginEntries(count: count) }
        self.reply.arrayHeader(count)
    }

    mutating func entry(
        id: UInt64, author: UnsafeRawBufferPointer, createdMilliseconds: Int64, body: UnsafeRawBufferPointer?,
        meta: EntryMeta
    ) {
        if body == nil { self.missingBodies += 1 }
        if self.collected != nil {
            return self.collected!.entry(id: id, author: author, createdMilliseconds: createdMilliseconds, body: body, meta: meta)
        }
        if self.withMeta {
            let entry = FeedEntry(
                id: id, author: String(decoding: author, as: UTF8.self), createdMilliseconds: createdMilliseconds,
                body: body.map { String(decoding: $0, as: UTF8.self) }, meta: meta)
            return self.reply.entry(entry, withMeta: true)
        }
        // Post ids go as decimal strings: JavaScript clients would round a
        // 64-bit integer (docs/adr/0010-post-ids-as-strings.md).
        if let body {
            // The common entry in one reservation of the reply (hot-paths.md).
            typealias Sizes = RESPReservedWriter
            let size =
                4 + Sizes.bulkDecimalSize(Int64(id)) + Sizes.bulkSize(count: author.count)
                + Sizes.lineSize(createdMilliseconds) + Sizes.bulkSize(count: body.count)
            return self.reply.buffer.writeRESPElements(size: size) { out in
                out.line(prefix: UInt8(ascii: "*"), 4)
                out.bulkDecimal(Int64(id))
                out.bulk(author)
                out.line(prefix: UInt8(ascii: ":"), createdMilliseconds)
                out.bulk(body)
            }
        }
        // A body memory no longer holds: nil, which RESP2 and RESP3 spell apart.
        self.reply.buffer.writeStaticString("*4\r\n")
        self.reply.buffer.writeRESPBulkDecimal(Int64(id))
        self.reply.buffer.writeRESPBulkString(bytes: author, count: author.count)
        self.reply.buffer.writeRESPInteger(createdMilliseconds)
        self.reply.null()
    }

    mutating func missingEntry() {
        if self.collected != nil { return self.collected!.missingEntry() }
        self.reply.nullArray()
    }

    /// Only the store can fill it in: a placeholder, which the store's
    /// answer replaces.
    mutating func unresolvedEntry(id: UInt64) {
        self.unresolved += 1
        if self.collected != nil { return self.collected!.unresolvedEntry(id: id) }
        self.reply.nullArray()
    }
}

extension ReplyWriter {
    /// Lends the reply buffer to an entry writer for one engine call. The
    /// buffer is moved, not copied, so writing into it never copies on write.
    mutating func writeEntries(_ body: (inout RESPEntryWriter) -> Void) {
        var writer = RESPEntryWriter(reply: self)
        self = ReplyWriter(buffer: ByteBuffer(), version: self.version)
        body(&writer)
        self = writer.reply
    }

    /// Writes a read's entries (nil: a missing post).
    mutating func entries(_ entries: [FeedEntry?], withMeta: Bool) {
        self.arrayHeader(entries.count)
        for entry in entries {
            if let entry { self.entry(entry, withMeta: withMeta) } else { self.nullArray() }
        }
    }

    mutating func entries(_ entries: [FeedEntry], withMeta: Bool) {
        self.arrayHeader(entries.count)
        for entry in entries { self.entry(entry, withMeta: withMeta) }
    }

    /// Writes one entry (for replies built from values). WITHMETA: a map of
    /// id, author, ts, body, likes, replies, reposts, reply_to, repost_of and
    /// reposted_by; a repost shows its original's author, time, body and
    /// counts, its own id, and who reposted it.
    mutating func entry(_ entry: FeedEntry, withMeta: Bool = false) {
        if withMeta {
            let meta = entry.meta
            let repost = meta.kind == .repost
            self.mapHeader(meta.rank == nil ? 10 : 15)
            self.bulk("id")
            self.bulk(decimal: Int64(entry.id))
            self.bulk("author")
            self.bulk(repost ? meta.linkAuthor ?? "" : entry.author)
            self.bulk("ts")
            self.integer(repost ? PostID.createdMilliseconds(meta.link) : entry.createdMilliseconds)
            self.bulk("body")
            if let body = entry.body { self.bulk(body) } else { self.null() }
            self.bulk("likes")
            self.integer(meta.likes)
            self.bulk("replies")
            self.integer(meta.replies)
            self.bulk("reposts")
            self.integer(meta.reposts)
            self.bulk("reply_to")
            if meta.kind == .reply { self.bulk(decimal: Int64(meta.link)) } else { self.null() }
            self.bulk("repost_of")
            if repost { self.bulk(decimal: Int64(meta.link)) } else { self.null() }
            self.bulk("reposted_by")
            if repost { self.bulk(entry.author) } else { self.null() }
            if let rank = meta.rank {
                for (name, value) in [
                    ("score", rank.score), ("recency", rank.recency), ("affinity", rank.affinity),
                    ("engagement", rank.engagement), ("diversity", rank.diversity),
                ] {
                    self.bulk(name)
                    self.double(value)
                }
            }
            return
        }
        self.arrayHeader(4)
        self.bulk(decimal: Int64(entry.id))
        self.bulk(entry.author)
        self.integer(entry.createdMilliseconds)
        if let body = entry.body { self.bulk(body) } else { self.null() }
    }
}
