@testable import FeedServer
import Testing

/// The pure parts of cluster mode: the key → slot map and the views a node
/// gives of the cluster (docs/adr/0015-cluster.md).
@Suite struct ClusterTests {
    @Test func slotsAreRedisClustersCRC16() {
        #expect(HashSlot.crc16(Array("123456789".utf8)) == 0x31C3)  // CRC-16/XMODEM's check value
        #expect(HashSlot.of("123456789") == 0x31C3 & 0x3FFF)
        #expect(HashSlot.of("{user:42}.followers") == HashSlot.of("user:42"))
        #expect(HashSlot.of("{user:42}.following") == HashSlot.of("{user:42}.followers"))
        // An empty first tag: the whole key is hashed.
        #expect(HashSlot.of("foo{}{bar}") == Int(HashSlot.crc16(Array("foo{}{bar}".utf8)) & 0x3FFF))
        #expect(HashSlot.of("foo{{bar}}zap") == HashSlot.of("{bar"))
        #expect((0..<1000).allSatisfy { (0..<HashSlot.count).contains(HashSlot.of("user:\($0)")) })
    }

    private func view(joined: Bool) -> ClusterView {
        let a = ClusterView.Node(id: String(repeating: "a", count: 40), host: "127.0.0.1", port: 7001, configEpoch: 1, joined: joined)
        let b = ClusterView.Node(id: String(repeating: "b", count: 40), host: "127.0.0.1", port: 7002, configEpoch: 2, joined: joined)
        var owners = [String?](repeating: nil, count: HashSlot.count)
        for slot in 0...99 { owners[slot] = a.id }
        owners[200] = a.id
        for slot in 100...199 { owners[slot] = b.id }
        return ClusterView(myself: a, registered: [a, b], owners: owners)
    }

    @Test func aNodeThatHasNotJoinedKnowsOnlyItself() {
        let alone = self.view(joined: false)
        #expect(alone.nodes.count == 1 && alone.assignedSlots == 101)  // the other node's slots are not known
        #expect(alone.infoText.contains("cluster_known_nodes:1\r\n") && alone.infoText.contains("cluster_state:fail"))
    }

    @Test func nodesAndInfoReadAsRedisWritesThem() {
        let view = self.view(joined: true)
        #expect(view.ranges(of: view.myself.id) == [0...99, 200...200])
        let lines = view.nodesText.split(separator: "\n")
        #expect(lines[0] == "\(String(repeating: "a", count: 40)) 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-99 200")
        #expect(lines[1] == "\(String(repeating: "b", count: 40)) 127.0.0.1:7002@17002 master - 0 0 2 connected 100-199")
        #expect(view.infoText.contains("cluster_slots_assigned:201\r\n") && view.infoText.contains("cluster_size:2\r\n"))
        #expect(view.infoText.contains("cluster_current_epoch:2\r\n") && view.infoText.contains("cluster_my_epoch:1\r\n"))
    }
}
