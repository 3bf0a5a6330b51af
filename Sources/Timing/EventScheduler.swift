import PCEmuSupport

/// One timer of a device. It fires once per `schedule`; a periodic device
/// schedules it again from its callback.
public final class TimerEvent {
    public let name: String
    let action: () -> Void
    public fileprivate(set) var deadline: Int64 = 0
    fileprivate var sequence: UInt64 = 0
    /// Position in the scheduler's heap, or -1 when not pending.
    fileprivate var heapIndex = -1

    public init(name: String, action: @escaping () -> Void) {
        self.name = name
        self.action = action
    }

    public var isPending: Bool { heapIndex >= 0 }
}

/// All timers of the machine in one binary heap ordered by deadline; timers
/// with the same deadline fire in the order they were scheduled. Used only on
/// the CPU thread.
public final class EventScheduler {
    private var heap: [TimerEvent] = []
    private var nextSequence: UInt64 = 0

    public init() {}

    /// The earliest pending deadline, if any timer is pending.
    public var nextDeadline: Int64? { heap.first?.deadline }

    public var pendingCount: Int { heap.count }

    /// Arms `timer` to fire at `deadline` (guest nanoseconds); re-arms it if pending.
    public func schedule(_ timer: TimerEvent, at deadline: Int64) {
        if timer.isPending { remove(timer) }
        timer.deadline = deadline
        timer.sequence = nextSequence
        nextSequence &+= 1
        timer.heapIndex = heap.count
        heap.append(timer)
        siftUp(heap.count - 1)
        Log.write(.timer, "schedule \(timer.name) at \(deadline)")
    }

    public func cancel(_ timer: TimerEvent) {
        if timer.isPending { remove(timer) }
    }

    /// Fires, in order, every timer whose deadline is at or before `now`.
    /// Returns how many fired. A timer re-armed for `now` or earlier from its own
    /// callback fires again in the same call, after the others already due.
    @discardableResult
    public func runExpired(now: Int64) -> Int {
        var fired = 0
        while let first = heap.first, first.deadline <= now {
            remove(first)
            Log.write(.timer, "fire \(first.name) due \(first.deadline) at \(now)")
            first.action()
            fired += 1
        }
        return fired
    }

    private func remove(_ timer: TimerEvent) {
        let index = timer.heapIndex
        let last = heap.count - 1
        if index != last {
            heap.swapAt(index, last)
            heap[index].heapIndex = index
        }
        heap.removeLast()
        timer.heapIndex = -1
        if index < heap.count {
            siftDown(index)
            siftUp(index)
        }
    }

    private func precedes(_ a: TimerEvent, _ b: TimerEvent) -> Bool {
        a.deadline != b.deadline ? a.deadline < b.deadline : a.sequence < b.sequence
    }

    private func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(heap[child], heap[parent]) else { break }
            swap(child, parent)
            child = parent
        }
    }

    private func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, precedes(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, precedes(heap[right], heap[smallest]) { smallest = right }
            if smallest == parent { return }
            swap(parent, smallest)
            parent = smallest
        }
    }

    private func swap(_ i: Int, _ j: Int) {
        heap.swapAt(i, j)
        heap[i].heapIndex = i
        heap[j].heapIndex = j
    }
}
