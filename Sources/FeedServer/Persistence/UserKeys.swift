import Synchronization

/// The store's id of each user, by the engine's number for them.
///
/// The engine numbers users in the order this process meets them; the store
/// keys them by an id it assigns once (`users.id`, from a sequence), which
/// every process sharing the database reads back. The loader fills this in
/// at start-up, the writer as it inserts new users; store reads use it to
/// name authors. -1 means the store has not given the user an id yet (their
/// first write is still in the journal), so the store has nothing of theirs.
final class UserKeys: Sendable {
    private let ids = Mutex<[Int64]>([])

    /// The store ids of `numbers`, leaving out users without one.
    func ids(of numbers: [UInt32]) -> [Int64] {
        self.ids.withLock { ids in
            numbers.compactMap { number in
                let index = Int(number)
                return index < ids.count && ids[index] >= 0 ? ids[index] : nil
            }
        }
    }

    /// The store id of one user, or nil.
    func id(of number: UInt32) -> Int64? { self.ids(of: [number]).first }

    /// The store ids of `numbers` that have one.
    func map(_ numbers: some Sequence<UInt32>) -> [UInt32: Int64] {
        self.ids.withLock { ids in
            var result: [UInt32: Int64] = [:]
            for number in numbers where Int(number) < ids.count && ids[Int(number)] >= 0 { result[number] = ids[Int(number)] }
            return result
        }
    }

    /// Records store ids for engine numbers.
    func set(_ pairs: some Sequence<(number: UInt32, id: Int64)>) {
        self.ids.withLock { ids in
            for (number, id) in pairs {
                let index = Int(number)
                if index >= ids.count { ids.append(contentsOf: repeatElement(-1, count: index - ids.count + 1)) }
                ids[index] = id
            }
        }
    }

    /// Which of `numbers` have no store id yet.
    func unknown(_ numbers: some Sequence<UInt32>) -> Set<UInt32> {
        self.ids.withLock { ids in
            Set(numbers.filter { Int($0) >= ids.count || ids[Int($0)] < 0 })
        }
    }
}
