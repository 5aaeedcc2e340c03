import NIOCore

/// Redis Cluster's key → slot map: CRC16 (XMODEM: polynomial 0x1021, initial
/// value 0) of the key, modulo 16,384; a key with a non-empty `{…}` hashes
/// only what is between its first `{` and the first `}` after it, so keys
/// that share a hash tag share a slot. The same answer redis-server's CLUSTER
/// KEYSLOT gives, which is what cluster clients compute to route.
enum HashSlot {
    static let count = 16_384

    /// The key's slot, read in place (no copy: routing runs it for every keyed command).
    static func of<Key: Collection<UInt8>>(_ key: Key) -> Int {
        if let open = key.firstIndex(of: UInt8(ascii: "{")) {
            let rest = key[key.index(after: open)...]
            if let close = rest.firstIndex(of: UInt8(ascii: "}")), close != rest.startIndex {
                return Int(Self.crc16(rest[..<close]) & 0x3FFF)
            }
        }
        return Int(Self.crc16(key) & 0x3FFF)
    }

    static func of(_ key: ByteBuffer) -> Int { Self.of(key.readableBytesView) }

    static func of(_ key: String) -> Int { Self.of(key.utf8) }

    static func crc16(_ bytes: some Collection<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes { crc = (crc << 8) ^ Self.table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)] }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
