/// Mutes, blocks and follows that hide reposts: per-user sets, kept whole in
/// memory (they are small and every read consults them), journaled, and
/// applied when a feed is read, never by rewriting timelines — so a mute
/// takes effect on the next read and an unmute undoes it exactly.
extension FeedEngine {
    /// FEED.MUTE: true when new.
    public mutating func mute(user name: String, target targetName: String, now: Int64) throws(FeedError) -> Bool {
        try self.validate(pair: name, targetName, sameUser: .muteSelf)
        let user = self.intern(name, now: now)
        let target = self.intern(targetName, now: now)
        guard Self.insert(target, into: &self.mutes, for: user, usage: &self.usage) else { return false }
        self.usage.mutes += 1
        self.record(.muted(user: user, target: target))
        return true
    }

    /// FEED.UNMUTE: true when the mute existed.
    public mutating func unmute(user name: String, target targetName: String) throws(FeedError) -> Bool {
        try self.validate(pair: name, targetName, sameUser: .muteSelf)
        guard let user = self.numbers[name], let target = self.numbers[targetName],
            Self.remove(target, from: &self.mutes, for: user, usage: &self.usage)
        else { return false }
        self.usage.mutes -= 1
        self.record(.unmuted(user: user, target: target))
        return true
    }

    /// FEED.BLOCK: true when new. Both follows between the two go (each
    /// journaled as an unfollow), and neither can follow the other until
    /// the block is lifted.
    public mutating func block(user name: String, target targetName: String, now: Int64) throws(FeedError) -> Bool {
        try self.validate(pair: name, targetName, sameUser: .blockSelf)
        let user = self.intern(name, now: now)
        let target = self.intern(targetName, now: now)
        guard !(self.blocks[user]?.contains(target) ?? false) else { return false }
        _ = try self.unfollow(follower: name, followee: targetName)
        _ = try self.unfollow(follower: targetName, followee: name)
        Self.insert(target, into: &self.blocks, for: user, usage: &self.usage)
        Self.insert(user, into: &self.blockedBy, for: target, usage: &self.usage)
        self.usage.blocks += 1
        self.record(.blocked(user: user, target: target))
        return true
    }

    /// FEED.UNBLOCK: true when the block existed. Follows do not come back.
    public mutating func unblock(user name: String, target targetName: String) throws(FeedError) -> Bool {
        try self.validate(pair: name, targetName, sameUser: .blockSelf)
        guard let user = self.numbers[name], let target = self.numbers[targetName],
            Self.remove(target, from: &self.blocks, for: user, usage: &self.usage)
        else { return false }
        Self.remove(user, from: &self.blockedBy, for: target, usage: &self.usage)
        self.usage.blocks -= 1
        self.record(.unblocked(user: user, target: target))
        return true
    }

    /// Both user ids valid and not the same user.
    private func validate(pair name: String, _ targetName: String, sameUser: FeedError) throws(FeedError) {
        try self.validate(user: name)
        try self.validate(user: targetName)
        guard name != targetName else { throw sameUser }
    }

    /// FEED.MUTES: whom the user mutes, paged as FEED.FOLLOWERS.
    public func mutes(of user: String, count: Int, after: String? = nil) throws(FeedError) -> [String] {
        try self.page(of: user, count: count, after: after) { self.mutes[$0] }
    }

    /// FEED.BLOCKS: whom the user blocks.
    public func blocks(of user: String, count: Int, after: String? = nil) throws(FeedError) -> [String] {
        try self.page(of: user, count: count, after: after) { self.blocks[$0] }
    }

    /// Whether the follow hides the followee's reposts.
    public func hidesReposts(_ follower: String, _ followee: String) -> Bool {
        guard let a = self.numbers[follower], let b = self.numbers[followee] else { return false }
        return self.hiddenReposts[a]?.contains(b) ?? false
    }

    /// Sets whether a follow hides the followee's reposts; journals a change.
    mutating func setRepostsHidden(follower: UInt32, followee: UInt32, hidden: Bool) {
        let changed =
            hidden
            ? Self.insert(followee, into: &self.hiddenReposts, for: follower, usage: &self.usage)
            : Self.remove(followee, from: &self.hiddenReposts, for: follower, usage: &self.usage)
        guard changed else { return }
        self.usage.hiddenRepostFollows += hidden ? 1 : -1
        self.record(.repostsHidden(follower: follower, followee: followee, hidden: hidden))
    }

    /// Whether either of the two blocks the other.
    func blockedEitherWay(_ a: UInt32, _ b: UInt32) -> Bool {
        (self.blocks[a]?.contains(b) ?? false) || (self.blockedBy[a]?.contains(b) ?? false)
    }

    @discardableResult
    static func insert(_ member: UInt32, into sets: inout [UInt32: FollowSet], for user: UInt32, usage: inout MemoryUsage)
        -> Bool
    {
        guard sets[user, default: FollowSet()].insert(member) else { return false }
        usage.filterEntries += 1
        return true
    }

    @discardableResult
    static func remove(_ member: UInt32, from sets: inout [UInt32: FollowSet], for user: UInt32, usage: inout MemoryUsage)
        -> Bool
    {
        guard sets[user]?.remove(member) == true else { return false }
        if sets[user]!.isEmpty { sets[user] = nil }
        usage.filterEntries -= 1
        return true
    }

    // MARK: Restore

    /// Start-up: a mute the store has.
    public mutating func restoreMute(user: UInt32, target: UInt32) {
        guard Int(user) < self.names.count, Int(target) < self.names.count, user != target,
            Self.insert(target, into: &self.mutes, for: user, usage: &self.usage)
        else { return }
        self.usage.mutes += 1
    }

    /// Start-up: a block the store has.
    public mutating func restoreBlock(user: UInt32, target: UInt32) {
        guard Int(user) < self.names.count, Int(target) < self.names.count, user != target,
            Self.insert(target, into: &self.blocks, for: user, usage: &self.usage)
        else { return }
        Self.insert(user, into: &self.blockedBy, for: target, usage: &self.usage)
        self.usage.blocks += 1
    }

    /// Start-up: a follow that hides the followee's reposts.
    public mutating func restoreHiddenReposts(follower: UInt32, followee: UInt32) {
        guard Int(follower) < self.names.count, Int(followee) < self.names.count,
            Self.insert(followee, into: &self.hiddenReposts, for: follower, usage: &self.usage)
        else { return }
        self.usage.hiddenRepostFollows += 1
    }

    // MARK: Reading

    /// What one reader's feed leaves out, for one read.
    func readerFilter(_ reader: UInt32) -> ReaderFilter {
        ReaderFilter(
            reader: reader, following: self.following[Int(reader)], mutes: self.mutes[reader],
            blocks: self.blocks[reader], blockedBy: self.blockedBy[reader], hiddenReposts: self.hiddenReposts[reader],
            falloff: self.configuration.repostFalloff)
    }
}

/// The rules a read applies to the posts of the people a reader follows
/// (and the reader's own), in two steps:
///
/// 1. `passes`: an entry is left out when its author is muted, blocked, or
///    blocks the reader; when it is a repost of such a user's post, or a
///    repost by a followee whose reposts the reader hides; when it is a
///    followee's reply to a post by someone the reader neither is nor
///    follows (or has muted or blocked). The reader's own entries stay,
///    except reposts of a muted or blocked user's posts.
/// 2. `collapse`: of the entries that pass, a repost is left out when the
///    post it reposts, or another repost of it, is among the `falloff`
///    entries below it. So a post reposted by five followees in a row shows
///    once (the oldest repost), an unrepost brings the next one back, and a
///    post reposted long after it was seen comes back to the top.
///
/// Both depend only on the entry and the entries below it, so paging with
/// BEFORE the last id returned neither skips nor repeats an entry.
public struct ReaderFilter: Sendable {
    let reader: UInt32
    let following: FollowSet
    let mutes: FollowSet?
    let blocks: FollowSet?
    let blockedBy: FollowSet?
    let hiddenReposts: FollowSet?
    public let falloff: Int

    /// Whether nothing can be filtered for this reader but replies and reposts.
    var hidesNoUsers: Bool { self.mutes == nil && self.blocks == nil && self.blockedBy == nil }

    @inline(__always)
    func hides(_ user: UInt32) -> Bool {
        if self.hidesNoUsers { return false }
        return (self.mutes?.contains(user) ?? false) || (self.blocks?.contains(user) ?? false)
            || (self.blockedBy?.contains(user) ?? false)
    }

    /// Step 1 for an entry by `author` of `kind` pointing at a post by `linkAuthor`.
    @inline(__always)
    public func passes(author: UInt32, kind: PostKind, linkAuthor: UInt32) -> Bool {
        if author == self.reader { return kind != .repost || !self.hides(linkAuthor) }
        if self.hides(author) { return false }
        switch kind {
        case .post:
            return true
        case .reply:
            return !self.hides(linkAuthor) && (linkAuthor == self.reader || self.following.contains(linkAuthor))
        case .repost:
            return !self.hides(linkAuthor) && !(self.hiddenReposts?.contains(author) ?? false)
        }
    }

    /// Step 2: which of `entries` (newest first, all passing step 1) show,
    /// for the first `count` shown. Nil when that cannot be told yet: an
    /// entry among them has fewer than `falloff` entries below it and
    /// `complete` is false (more may follow).
    public func collapse(_ entries: [(id: UInt64, kind: PostKind, link: UInt64)], count: Int, complete: Bool) -> [Int]? {
        var shown: [Int] = []
        shown.reserveCapacity(Swift.min(count, entries.count))
        var index = 0
        while shown.count < count && index < entries.count {
            let entry = entries[index]
            if entry.kind == .repost && self.falloff > 0 {
                let end = index + self.falloff
                if end >= entries.count && !complete { return nil }
                var seen = false
                var below = index + 1
                while below <= Swift.min(end, entries.count - 1) {
                    let other = entries[below]
                    if other.id == entry.link || (other.kind == .repost && other.link == entry.link) {
                        seen = true
                        break
                    }
                    below += 1
                }
                if !seen { shown.append(index) }
            } else {
                shown.append(index)
            }
            index += 1
        }
        if shown.count < count && !complete { return nil }
        return shown
    }
}
