import Memory
import X86State

/// Dirty logging of device RAM through the TLB, as QEMU does it for its VGA:
/// an entry for a clean page of logged memory (a framebuffer behind a PCI
/// BAR) is filled with `TLBEntry.notDirty` in its write tag, so the first
/// store takes the slow path, which marks the page in the log and gives the
/// tag back; later stores to the page are plain hits. When the log's reader
/// (the display refresh) takes pages back to clean, the address space tells
/// `withholdWrites`, which sets the bit again in every entry mapping them.
extension SoftMMU {
    /// The slow path's part: the page is now dirty, so this entry writes directly.
    @inline(never)
    func logFirstWrite(_ slot: UnsafeMutablePointer<TLBEntry>, physical: PhysicalAddress) {
        addressSpace.markWritten(physical)
        slot.pointee.writeTag &= ~TLBEntry.notDirty
    }

    /// Pages of logged memory at host `host..<host + bytes` were cleaned:
    /// every entry (both modes and the victims) with a direct write path to
    /// them loses it. Entries with no write tag or a slow-path one are left as
    /// they are: their stores reach `physicalStore`, which marks the page.
    func withholdWrites(host: UnsafeMutableRawPointer, bytes: Int) {
        let low = Int(bitPattern: host), high = low &+ bytes
        stateBlock.forEachFilled { entry in
            let tag = entry.pointee.writeTag
            guard tag & (TLBEntry.invalid | TLBEntry.slowPath | TLBEntry.notDirty) == 0 else { return }
            let pageHost = Int(truncatingIfNeeded: tag & SoftMMU.pageMask) &+ entry.pointee.addend
            if pageHost >= low && pageHost < high { entry.pointee.writeTag = tag | TLBEntry.notDirty }
        }
    }
}
