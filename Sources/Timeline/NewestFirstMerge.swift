/// Merges lists of post ids, each newest first, into one newest-first
/// sequence without duplicates: a timeline with the recent posts of the
/// celebrities a reader follows, or every followee's posts in a rebuild.
///
/// A binary max-heap of the lists' heads: O(log k) per id for k lists.
struct NewestFirstMerge: IteratorProtocol, Sequence {
    private var sources: [CappedPostList.NewestFirst]
    private var heap: [(id: UInt64, source: Int)] = []
    private var last: UInt64?

    init(_ sources: [CappedPostList.NewestFirst]) {
        self.sources = sources
        self.heap.reserveCapacity(sources.count)
        for index in self.sources.indices {
            if let id = self.sources[index].next() { self.heap.append((id, index)) }
        }
        if self.heap.count > 1 {
            for index in stride(from: self.heap.count / 2 - 1, through: 0, by: -1) { self.siftDown(index) }
        }
    }

    mutating func next() -> UInt64? {
        while let top = self.heap.first {
            if let following = self.sources[top.source].next() {
                self.heap[0] = (following, top.source)
            } else {
                self.heap[0] = self.heap[self.heap.count - 1]
                self.heap.removeLast()
            }
            if !self.heap.isEmpty { self.siftDown(0) }
            if top.id != self.last {
                self.last = top.id
                return top.id
            }
        }
        return nil
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let count = self.heap.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { return }
            var largest = left
            let right = left + 1
            if right < count && self.heap[right].id > self.heap[left].id { largest = right }
            guard self.heap[largest].id > self.heap[parent].id else { return }
            self.heap.swapAt(parent, largest)
            parent = largest
        }
    }
}
