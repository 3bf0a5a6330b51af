/// Dirty logging of device RAM (a framebuffer) as the CPU's MMU sees it:
/// whether a page's fast write path must be withheld, the mark a slow-path
/// store leaves, and the news that a device's reader cleaned pages (so the
/// MMU withdraws the fast write paths it gave to them).
extension AddressSpace {
    /// Whether `address` is logged device RAM whose page is clean: the
    /// first write to it must reach `markWritten`.
    @inline(__always)
    public func isLoggedClean(_ address: PhysicalAddress) -> Bool {
        let index = regionIndex(address)
        guard index != AddressSpace.unmapped, let log = backings[Int(index)].dirtyLog else { return false }
        return !log.isDirty(page: Int(truncatingIfNeeded: (address &- backings[Int(index)].start) >> 12))
    }

    /// A write reached `address` behind the device's back: marks its page
    /// when it is logged device RAM.
    @inline(__always)
    public func markWritten(_ address: PhysicalAddress) {
        let index = regionIndex(address)
        guard index != AddressSpace.unmapped, let log = backings[Int(index)].dirtyLog else { return }
        log.markDirty(page: Int(truncatingIfNeeded: (address &- backings[Int(index)].start) >> 12))
    }

    /// `listener` is told the host range of pages a dirty log mapped here
    /// just took back to clean.
    public func addDirtyLogCleanedListener(_ listener: @escaping (UnsafeMutableRawPointer, Int) -> Void) {
        dirtyLogCleanedListeners.append(listener)
    }

    /// Forwards a newly mapped log's cleanings to this space's listeners (once per log).
    func listenForCleaning(_ log: DirtyPageLog) {
        guard listenedLogs.insert(ObjectIdentifier(log)).inserted else { return }
        log.addCleanedListener { [weak self] host, bytes in
            guard let self else { return }
            for listener in self.dirtyLogCleanedListeners { listener(host, bytes) }
        }
    }
}
