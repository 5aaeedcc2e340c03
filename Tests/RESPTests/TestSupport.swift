import NIOCore
import RESP
import TestSupport

/// What a decoder made of some input: the commands, then the error it stopped at (if any).
struct DecodeOutcome: Equatable, CustomStringConvertible {
    var commands: [[String]]
    var error: RESPProtocolError?
    var leftover: Int

    var description: String { "commands=\(self.commands) error=\(String(describing: self.error)) leftover=\(self.leftover)" }
}

/// How an input is cut into reads.
enum Split: CustomStringConvertible {
    case whole
    case byteByByte
    case random(seed: UInt64)

    var description: String {
        switch self {
        case .whole: return "whole"
        case .byteByByte: return "byte by byte"
        case .random(let seed): return "random(seed: \(seed))"
        }
    }

    static let all: [Split] = [.whole, .byteByByte] + (1...8).map { .random(seed: $0) }

    func chunks(_ bytes: [UInt8]) -> [[UInt8]] {
        switch self {
        case .whole:
            return [bytes]
        case .byteByByte:
            return bytes.map { [$0] }
        case .random(let seed):
            var rng = SplitMix64(seed: seed)
            var chunks: [[UInt8]] = []
            var index = 0
            while index < bytes.count {
                let size = Int.random(in: 1...max(1, min(bytes.count - index, 37)), using: &rng)
                chunks.append(Array(bytes[index..<(index + size)]))
                index += size
            }
            return chunks
        }
    }
}

/// Feeds `bytes` to a fresh decoder in the chunks `split` makes, the way a
/// connection does: appending each read to what is left over, then decoding
/// everything available.
func decode(
    _ bytes: [UInt8],
    split: Split = .whole,
    limits: RESPDecoderLimits = RESPDecoderLimits(),
    unauthenticated: Bool = false
) -> DecodeOutcome {
    var decoder = RESPCommandDecoder(limits: limits)
    decoder.unauthenticated = unauthenticated
    var buffer = ByteBuffer()
    var commands: [[String]] = []
    for chunk in split.chunks(bytes) {
        buffer.writeBytes(chunk)
        do {
            while let command = try decoder.next(&buffer) {
                commands.append(command.arguments.map { String(decoding: $0.readableBytesView, as: UTF8.self) })
            }
        } catch {
            return DecodeOutcome(commands: commands, error: error, leftover: buffer.readableBytes)
        }
        // Compact as a connection would, to prove remembered offsets survive it.
        if buffer.readerIndex > 0 { buffer.discardReadBytes() }
    }
    return DecodeOutcome(commands: commands, error: nil, leftover: buffer.readableBytes)
}

func decode(_ text: String, split: Split = .whole, unauthenticated: Bool = false) -> DecodeOutcome {
    decode(Array(text.utf8), split: split, unauthenticated: unauthenticated)
}

/// Encodes a request as clients do.
func multibulk(_ arguments: String...) -> String {
    var text = "*\(arguments.count)\r\n"
    for argument in arguments { text += "$\(argument.utf8.count)\r\n\(argument)\r\n" }
    return text
}
