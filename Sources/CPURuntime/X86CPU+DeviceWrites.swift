import Memory

extension X86CPU {
    /// A device (a DMA engine) wrote guest-physical memory behind the MMU's
    /// back: blocks translated from those pages are stale, as after a store.
    public func physicalMemoryWritten(at address: PhysicalAddress, length: Int) {
        guard length > 0, address < AddressSpace.physicalLimit else { return }
        let first = PhysicalPage(address >> 12)
        let end = min(address &+ PhysicalAddress(length), AddressSpace.physicalLimit)
        let last = (end - 1) >> 12
        var page = first
        while true {
            if translationCache.holdsCode(physicalPage: page) { invalidateCode(physicalPage: page) }
            if page == last { break }
            page += 1
        }
    }

    /// The same for a device whose addresses are 32 bits wide.
    public func physicalMemoryWritten(at address: UInt32, length: Int) {
        physicalMemoryWritten(at: PhysicalAddress(address), length: length)
    }
}
