import CPrefetch

/// Where some storage was when it was taken, as a number.
///
/// A read on a borrowed engine cannot reach a string's or an array's
/// storage without retaining it (the compiler must keep it alive through
/// the call), and a retain is an atomic write to the storage's header: a
/// cache miss of its own, and a line both event loops' cores then take
/// from each other. So the engine keeps some addresses aside:
/// - as prefetch hints only, handed to `feed_prefetch`, which does not
///   fault: a stale one (the storage replaced or freed) costs a useless
///   prefetch, never a wrong result;
/// - or exact, where the owner sets it again after every change that can
///   move the storage, and reads through it only while the owner is
///   borrowed (`ChunkedArray`'s chunks, `PostBodyCache`'s bodies: a Swift
///   array's or string's storage stays where it is while nothing changes it).
/// A string's UTF-8 bytes for a read on a borrowed engine: in place where
/// `AddressHint.Bytes` says they are on the heap, else the string itself,
/// which holds up to 15 bytes in its own value (copying it counts no
/// reference). Valid while the engine is borrowed.
enum BorrowedBytes {
    case inPlace(UnsafeRawBufferPointer)
    case small(String)

    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        switch self {
        case .inPlace(let bytes): body(bytes)
        case .small(let string): string.withUTF8Bytes(body)
        }
    }
}

struct AddressHint: Sendable, Equatable {
    private var bits: UInt = 0

    init() {}

    init(_ address: UnsafeRawPointer?) {
        self.bits = UInt(bitPattern: address)
    }

    /// The UTF-8 bytes of `string`, when they are on the heap (a string of
    /// up to 15 bytes is kept inside its own value: no hint).
    init(ofBytesOf string: String) {
        guard string.utf8.count > 15 else { return }
        var string = string  // shares the storage: withUTF8 needs a var
        self.bits = string.withUTF8 { UInt(bitPattern: $0.baseAddress) }
    }

    /// A string's UTF-8 bytes on the heap: where, and how many (`at` is
    /// none for a string of up to 15 bytes, kept in the string itself).
    struct Bytes: Sendable {
        let at: AddressHint
        let count: UInt32

        init(of string: String) {
            self.at = AddressHint(ofBytesOf: string)
            self.count = UInt32(truncatingIfNeeded: string.utf8.count)
        }

        /// The bytes in place, when on the heap.
        var buffer: UnsafeRawBufferPointer? {
            self.at.address.map { UnsafeRawBufferPointer(start: $0, count: Int(self.count)) }
        }

        /// Starts loading the first and the last of the bytes (a hint).
        @inline(__always)
        func prefetch() { self.at.prefetch(count: Int(self.count)) }
    }

    /// The address, to prefetch or compare; nil for none.
    var address: UnsafeRawPointer? { UnsafeRawPointer(bitPattern: self.bits) }

    /// Starts loading the first and the last of `count` bytes from here.
    @inline(__always)
    func prefetch(count: Int = 1) {
        guard let start = self.address else { return }
        feed_prefetch(start)
        if count > 32 { feed_prefetch(start + (count - 1)) }
    }

    /// Starts loading element `index` of `Element`s from here.
    @inline(__always)
    func prefetch<Element>(element index: Int, of _: Element.Type) {
        guard let start = self.address else { return }
        feed_prefetch(start + index * MemoryLayout<Element>.stride)
    }
}
