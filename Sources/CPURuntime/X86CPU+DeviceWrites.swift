extension X86CPU {
    /// A device (a DMA engine) wrote guest-physical memory behind the MMU's
    /// back: blocks translated from those pages are stale, as after a store.
    public func physicalMemoryWritten(at address: UInt32, length: Int) {
        guard length > 0 else { return }
        let first = PhysicalPage(address >> 12)
        let last = (PhysicalPage(address) + PhysicalPage(length) - 1) >> 12
        var page = first
        while true {
            if translationCache.holdsCode(physicalPage: page) { invalidateCode(physicalPage: page) }
            if page == last || page == 0xF_FFFF { break }
            page += 1
        }
    }
}
