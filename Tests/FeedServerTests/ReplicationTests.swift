@testable import FeedServer
import NIOCore
import Testing
import Timeline
import TestSupport

/// Several nodes without sockets or PostgreSQL (docs/adr/0015-cluster.md):
/// three engines, each serving the users whose hash slot falls to it, run
/// random operations; after each, the acting engine's journaled mutations go
/// through the change feed's encoding (`ClusterChange`, users by a shared id)
/// and are applied to the two others as `ChangeApplier` applies them. Every
/// user's feed, posts, notifications and counts on their own engine must be
/// what a single engine gives for the same operations.
@Suite struct ReplicationTests {
    @Test func changesRoundTripThroughTheFeedsEncoding() throws {
        let group = NotificationKey(verb: .reply, object: 77, day: 20_775)
        let changes: [ClusterChange] = [
            .post(id: 1 << 40, author: 3, body: "héllo @bob", kind: .post, link: 0, linkAuthor: -1),
            .post(id: 5, author: 3, body: "", kind: .repost, link: 4, linkAuthor: 9),
            .delete(id: 5, author: 3), .follow(follower: 1, followee: 2, on: true), .follow(follower: 1, followee: 2, on: false),
            .hideReposts(follower: 1, followee: 2, hidden: true), .like(user: 8, post: 4, on: true), .like(user: 8, post: 4, on: false),
            .mute(user: 1, target: 2, on: true), .block(user: 2, target: 1, on: false),
            .notified(user: 2, group: group, actor: 1, source: NotificationSource(id: 9, at: 1_795_000_000_000, order: 1 << 50), added: true),
            .notified(user: 2, group: group, actor: 1, source: NotificationSource(id: 9, at: 1, order: 2), added: false),
            .groupRemoved(user: 2, group: group), .mark(user: 2, group: nil, order: 12), .mark(user: 2, group: group, order: 13),
        ]
        #expect(try ClusterChange.decode(ClusterChange.encode(changes)) == changes)
        var truncated = ClusterChange.encode(changes)
        truncated.moveWriterIndex(to: truncated.writerIndex - 3)
        #expect(throws: ClusterChange.Malformed.self) { try ClusterChange.decode(truncated) }
    }

    @Test func whatStaysOnItsNodeDoesNotTravel() {
        #expect(ClusterChange(.userCreated(user: 1, name: "a"), id: { Int64($0) }) == nil)
        #expect(ClusterChange(.affinity(user: 1, author: 2, counts: nil), id: { Int64($0) }) == nil)
        #expect(ClusterChange(.liked(user: 1, post: 9), id: { Int64($0) + 100 }) == .like(user: 101, post: 9, on: true))
    }

    /// Three engines as three nodes, and one as the single node to match.
    struct Cluster {
        var nodes: [FeedEngine]
        var single: FeedEngine
        /// The store's ids, shared by every node.
        var storeIDs: [String: Int64] = [:]
        var names: [Int64: String] = [:]
        var now: Int64 = 1_795_046_400_000 - 30_000  // crosses midnight UTC: notification groups split by day
        let events = FeedEvents(pubsub: PubSubRegistry(), streams: EventStreamRegistry())
        var applied = 0

        init() {
            var configuration = FeedConfiguration()
            configuration.celebrityThreshold = 4
            configuration.recordsMutations = true
            self.nodes = (1...3).map { node in
                var engine = FeedEngine(configuration: configuration)
                engine.useNode(node)
                return engine
            }
            self.single = FeedEngine(configuration: configuration)
        }

        static func node(of user: String) -> Int { HashSlot.of(user) % 3 }

        /// Runs an operation on the user's node and on the single engine;
        /// the node's changes then reach the two other nodes. Returns both results.
        mutating func run<T>(_ user: String, _ body: (inout FeedEngine, Bool, Int64) throws(FeedError) -> T) -> (T?, T?) {
            self.now += 7
            let acting = Self.node(of: user)
            let clustered = try? body(&self.nodes[acting], true, self.now)
            let single = try? body(&self.single, false, self.now)
            _ = self.single.drainMutations()
            let mutations = self.nodes[acting].drainMutations()
            for case .userCreated(_, let name) in mutations where self.storeIDs[name] == nil {
                self.storeIDs[name] = Int64(self.storeIDs.count + 1)
                self.names[self.storeIDs[name]!] = name
            }
            let engine = self.nodes[acting]
            let changes = mutations.compactMap { ClusterChange($0, id: { self.storeIDs[engine.name(of: $0)]! }) }
            for index in self.nodes.indices where index != acting {
                for change in changes {
                    self.nodes[index].replaying = true
                    do throws(FeedError) {
                        try ChangeApplier.apply(change, names: self.names, to: &self.nodes[index], events: self.events, now: self.now)
                    } catch {
                        // A change that cannot happen here the same way is skipped, as the applier does.
                    }
                    self.nodes[index].replaying = false
                    self.applied += 1
                }
                // Replaying journals only the users it names.
                #expect(self.nodes[index].drainMutations().allSatisfy { if case .userCreated = $0 { true } else { false } })
            }
            return (clustered, single)
        }
    }

    @Test(arguments: [1, 2, 3])
    func randomOperationsOnThreeNodesMatchOneNode(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var cluster = Cluster()
        let users = (0..<12).map { "u\($0)" }
        #expect(Set(users.map(Cluster.node(of:))).count == 3)
        var posts: [(clustered: UInt64, single: UInt64)] = []
        func record(_ result: (UInt64?, UInt64?)) {
            guard let clustered = result.0, let single = result.1, !posts.contains(where: { $0.clustered == clustered }) else { return }
            posts.append((clustered, single))
        }
        for user in users {
            record(cluster.run(user) { (engine, _, now) throws(FeedError) in try engine.post(author: user, body: "hi from \(user)", now: now) })
        }
        for step in 0..<1_500 {
            let user = users[Int(rng.next() % 12)]
            let other = users[Int(rng.next() % 12)]
            let target = posts[Int(rng.next() % UInt64(posts.count))]
            let roll = rng.next() % 100
            switch roll {
            case 0..<20:
                let body = "post \(step)" + (rng.next() % 3 == 0 ? " @\(other)" : "")
                record(cluster.run(user) { (engine, _, now) throws(FeedError) in try engine.post(author: user, body: body, now: now) })
            case 20..<28:
                record(cluster.run(user) { (engine, clustered, now) throws(FeedError) in
                    try engine.post(author: user, body: "reply \(step) @\(other)", replyTo: clustered ? target.clustered : target.single, now: now)
                })
            case 28..<36:
                record(cluster.run(user) { (engine, clustered, now) throws(FeedError) in
                    try engine.repost(user: user, post: clustered ? target.clustered : target.single, now: now)
                })
            case 36..<40:
                let (a, b) = cluster.run(user) { (engine, clustered, now) throws(FeedError) in
                    try engine.unrepost(user: user, post: clustered ? target.clustered : target.single, now: now)
                }
                #expect(a == b, "step \(step) unrepost")
            case 40..<46:
                // The author's delete, on the author's node.
                let author = cluster.single.get([target.single]).first??.author ?? user
                let (a, b) = cluster.run(author) { (engine, clustered, now) throws(FeedError) in
                    try engine.delete(author: author, post: clustered ? target.clustered : target.single, now: now)
                }
                #expect(a == b, "step \(step) delete")
            case 46..<62:
                let (a, b) = cluster.run(user) { (engine, clustered, now) throws(FeedError) in
                    try engine.like(user: user, post: clustered ? target.clustered : target.single, now: now)
                }
                #expect(a == b, "step \(step) like")
            case 62..<67:
                let (a, b) = cluster.run(user) { (engine, clustered, _) throws(FeedError) in
                    try engine.unlike(user: user, post: clustered ? target.clustered : target.single)
                }
                #expect(a == b, "step \(step) unlike")
            case 67..<81:
                let hiding = rng.next() % 3 == 0
                let (a, b) = cluster.run(user) { (engine, _, now) throws(FeedError) in
                    try engine.follow(follower: user, followee: other, hidingReposts: hiding, now: now)
                }
                #expect(a == b, "step \(step) follow")
            case 81..<86:
                let (a, b) = cluster.run(user) { (engine, _, _) throws(FeedError) in try engine.unfollow(follower: user, followee: other) }
                #expect(a == b, "step \(step) unfollow")
            case 86..<90:
                let muting = rng.next() % 3 != 0
                let (a, b) = cluster.run(user) { (engine, _, now) throws(FeedError) in
                    muting ? try engine.mute(user: user, target: other, now: now) : try engine.unmute(user: user, target: other)
                }
                #expect(a == b, "step \(step) mute")
            case 90..<93:
                let blocking = rng.next() % 2 == 0
                let (a, b) = cluster.run(user) { (engine, _, now) throws(FeedError) in
                    blocking ? try engine.block(user: user, target: other, now: now) : try engine.unblock(user: user, target: other)
                }
                #expect(a == b, "step \(step) block")
            case 93..<96:
                let (a, b) = cluster.run(user) { (engine, _, now) throws(FeedError) in engine.markNotificationsSeen(user: user, now: now) }
                #expect(a == b, "step \(step) mark seen")
            default:
                // A READ mark of a group the user has, by its key (object: the post on each side).
                let group = (try? cluster.single.notifications(of: user, count: 5))?.last?.key
                let (a, b) = cluster.run(user) { (engine, clustered, now) throws(FeedError) -> Int in
                    guard var key = group else { return 0 }
                    if clustered, key.object != 0, let index = posts.firstIndex(where: { $0.single == key.object }) {
                        key.object = posts[index].clustered
                    }
                    return engine.markNotificationsRead(user: user, groups: [key], now: now)
                }
                #expect(a == b, "step \(step) mark read")
            }
            if step % 100 == 99 { Self.compare(&cluster, users: users, posts: posts, step: step) }
        }
        Self.compare(&cluster, users: users, posts: posts, step: -1)
        #expect(cluster.applied > 2_000)
    }

    static func compare(_ cluster: inout Cluster, users: [String], posts: [(clustered: UInt64, single: UInt64)], step: Int) {
        let index = Dictionary(uniqueKeysWithValues: posts.enumerated().flatMap { [($1.clustered, $0), ($1.single, $0)] })
        func entries(_ entries: [FeedEntry]) -> [String] {
            entries.map { entry in
                let meta = entry.meta
                return "P\(index[entry.id] ?? -1) \(entry.author) \(entry.body ?? "-") \(meta.kind) P\(index[meta.link] ?? -1) "
                    + "\(meta.likes)/\(meta.replies)/\(meta.reposts)"
            }
        }
        func groups(_ groups: [NotificationGroupView]) -> [String] {
            groups.map { "\($0.key.verb) P\(index[$0.key.object] ?? -1) \($0.key.day) \($0.actors) \($0.actorCount) \($0.seen) \($0.read)" }
        }
        for user in users {
            let node = Cluster.node(of: user)
            let now = cluster.now
            #expect(
                entries(cluster.nodes[node].read(user: user, count: 500, now: now)) == entries(cluster.single.read(user: user, count: 500, now: now)),
                "step \(step): \(user)'s feed")
            #expect(entries(cluster.nodes[node].posts(author: user, count: 500)) == entries(cluster.single.posts(author: user, count: 500)))
            #expect(
                groups((try? cluster.nodes[node].notifications(of: user, count: 500)) ?? [])
                    == groups((try? cluster.single.notifications(of: user, count: 500)) ?? []), "step \(step): \(user)'s notifications")
            #expect(cluster.nodes[node].notificationCounts(of: user) == cluster.single.notificationCounts(of: user))
            let (a, b) = ((try? cluster.nodes[node].stats(of: user)), (try? cluster.single.stats(of: user)))
            #expect(a?.followers == b?.followers && a?.following == b?.following && a?.posts == b?.posts && a?.celebrity == b?.celebrity)
        }
    }
}
