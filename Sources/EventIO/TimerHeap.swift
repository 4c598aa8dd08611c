/// Deadlines for one event loop, earliest first. Cancelling is lazy: the owner encodes a
/// generation in `id` and ignores a timer whose generation is stale, so scheduling and expiry
/// are O(log n) and nothing is searched.
public struct TimerHeap {
    public struct Entry {
        public var deadline: UInt64
        public var id: UInt64
    }

    private var heap: [Entry] = []

    public init(capacity: Int = 1024) { heap.reserveCapacity(capacity) }

    public var isEmpty: Bool { heap.isEmpty }
    public var count: Int { heap.count }
    public var earliest: UInt64? { heap.first?.deadline }

    public mutating func schedule(at deadline: UInt64, id: UInt64) {
        heap.append(Entry(deadline: deadline, id: id))
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[parent].deadline > heap[i].deadline else { break }
            heap.swapAt(parent, i)
            i = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    public mutating func popDue(now: UInt64) -> Entry? {
        guard let first = heap.first, first.deadline <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var smallest = i
                if l < heap.count, heap[l].deadline < heap[smallest].deadline { smallest = l }
                if r < heap.count, heap[r].deadline < heap[smallest].deadline { smallest = r }
                if smallest == i { break }
                heap.swapAt(i, smallest)
                i = smallest
            }
        }
        return first
    }
}
