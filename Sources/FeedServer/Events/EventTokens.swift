import Crypto

/// Tokens that let a browser open one user's event stream: minted by the
/// application with FEED.TOKEN and checked by the events endpoint.
///
/// A token is `<expiry>.<mac>`: the expiry in Unix seconds, and the
/// HMAC-SHA256 of the user and the expiry under the server's secret, in
/// unpadded base64url. It names no user, so it is good only for the one it
/// was minted for; it cannot be extended or moved to another user without
/// the secret. Servers that share `--events-secret` accept each other's.
struct EventTokens: Sendable {
    enum Verdict: Equatable, Sendable {
        case valid
        case expired
        case invalid
    }

    private let secret: [UInt8]

    init(secret: [UInt8]) {
        self.secret = secret
    }

    /// The token for `user`, good until `expiresAt` (Unix seconds).
    func mint(user: String, expiresAt: Int64) -> String {
        String(expiresAt) + "." + Base64URL.encode(self.mac(user: user, expiresAt: expiresAt))
    }

    /// Whether `token` opens `user`'s stream at `now` (Unix seconds).
    func verify(_ token: String, user: String, now: Int64) -> Verdict {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.allSatisfy({ (48...57).contains($0) }),
            let expiresAt = Int64(parts[0]),
            let given = Base64URL.decode(String(parts[1])), given.count == 32
        else { return .invalid }
        let expected = self.mac(user: user, expiresAt: expiresAt)
        // Every byte compared, whatever differs first: the time taken tells nothing.
        guard zip(given, expected).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else { return .invalid }
        return now < expiresAt ? .valid : .expired
    }

    private func mac(user: String, expiresAt: Int64) -> [UInt8] {
        let code = HMAC<SHA256>.authenticationCode(
            for: Array("feed-events\n\(user)\n\(expiresAt)".utf8), using: SymmetricKey(data: self.secret))
        return Array(code)
    }

    /// A secret for a server started without `--events-secret`: tokens it
    /// mints are good until it restarts.
    static func randomSecret() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}

/// Unpadded base64url (RFC 4648 §5): URL-safe without escaping.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value: UInt32 = 0
            for (offset, byte) in chunk.enumerated() { value |= UInt32(byte) << UInt32(16 - 8 * offset) }
            for position in 0...chunk.count { output.append(alphabet[Int((value >> UInt32(18 - 6 * position)) & 63)]) }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        for byte in text.utf8 {
            guard let value = alphabet.firstIndex(of: byte) else { return nil }
            values.append(UInt8(value))
        }
        guard values.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        var index = 0
        while index < values.count {
            let chunk = values[index..<min(index + 4, values.count)]
            var value: UInt32 = 0
            for (offset, sextet) in chunk.enumerated() { value |= UInt32(sextet) << UInt32(18 - 6 * offset) }
            for position in 0..<(chunk.count - 1) { output.append(UInt8(truncatingIfNeeded: value >> UInt32(16 - 8 * position))) }
            index += 4
        }
        // Canonical only: the bits past the last byte must be zero.
        guard Self.encode(output) == text else { return nil }
        return output
    }
}
