/// Which 4 KiB pages of a device's memory were written since its reader last
/// looked: a framebuffer's display refresh draws only those.
///
/// Writes that do not go through the device (the CPU's stores through the
/// soft TLB, DMA, the bus's slow path) mark pages here too, as QEMU's dirty
/// logging does: the CPU keeps a fast write path only to pages that are
/// already dirty, so the first store to a clean page reaches `markDirty`.
/// When the reader cleans pages, `cleaned` listeners (the CPU's MMU, through
/// the address space that maps the memory) withdraw their fast write paths
/// to them, so the next store is seen again.
public final class DirtyPageLog {
    public static let pageShift = 12
    public static let pageSize = 1 << pageShift
    /// The host memory the log covers, a whole number of pages.
    public let base: UnsafeMutableRawPointer
    public let pageCount: Int
    /// One flag per page: nonzero when written since it was last cleaned.
    public let flags: UnsafeMutablePointer<UInt8>
    /// Dirty pages in `flags`: lets a refresh with nothing written skip the work.
    public private(set) var dirtyCount: Int
    /// Told the host range of pages just cleaned (only when one of them was dirty).
    private var cleanedListeners: [(UnsafeMutableRawPointer, Int) -> Void] = []

    /// Every page starts dirty: nothing has been drawn from it yet.
    public init(base: UnsafeMutableRawPointer, bytes: Int) {
        precondition(bytes > 0 && bytes % DirtyPageLog.pageSize == 0, "a dirty log covers whole pages")
        self.base = base
        pageCount = bytes >> DirtyPageLog.pageShift
        flags = .allocate(capacity: pageCount)
        flags.initialize(repeating: 1, count: pageCount)
        dirtyCount = pageCount
    }

    deinit { flags.deallocate() }

    public var bytes: Int { pageCount << DirtyPageLog.pageShift }

    public func addCleanedListener(_ listener: @escaping (UnsafeMutableRawPointer, Int) -> Void) {
        cleanedListeners.append(listener)
    }

    @inline(__always)
    public func isDirty(page: Int) -> Bool { flags[page] != 0 }

    @inline(__always)
    public func markDirty(page: Int) {
        guard flags[page] == 0 else { return }
        flags[page] = 1
        dirtyCount += 1
    }

    /// Marks the pages of a byte range, clipped to the log.
    public func markDirty(offset: Int, count: Int) {
        guard let pages = pageRange(offset: offset, count: count) else { return }
        for page in pages { markDirty(page: page) }
    }

    public func markAllDirty() {
        flags.update(repeating: 1, count: pageCount)
        dirtyCount = pageCount
    }

    /// Whether any page of the byte range (clipped to the log) is dirty.
    public func isDirty(offset: Int, count: Int) -> Bool {
        guard dirtyCount > 0, let pages = pageRange(offset: offset, count: count) else { return false }
        for page in pages where flags[page] != 0 { return true }
        return false
    }

    /// Takes the pages of a byte range (clipped to the log) back to clean and,
    /// if any was dirty, tells the listeners, which withdraw fast writes to them.
    public func clean(offset: Int, count: Int) {
        guard dirtyCount > 0, let pages = pageRange(offset: offset, count: count) else { return }
        var cleaned = 0
        for page in pages where flags[page] != 0 {
            flags[page] = 0
            cleaned += 1
        }
        guard cleaned > 0 else { return }
        dirtyCount -= cleaned
        let start = base + (pages.lowerBound << DirtyPageLog.pageShift)
        for listener in cleanedListeners { listener(start, pages.count << DirtyPageLog.pageShift) }
    }

    public func cleanAll() { clean(offset: 0, count: bytes) }

    /// The pages a byte range touches, clipped to the log; nil when none.
    private func pageRange(offset: Int, count: Int) -> Range<Int>? {
        guard count > 0, offset < bytes else { return nil }
        let first = max(0, offset)
        let end = offset > bytes - count ? bytes : offset + count
        guard first < end else { return nil }
        return (first >> DirtyPageLog.pageShift)..<((end - 1) >> DirtyPageLog.pageShift) + 1
    }
}
