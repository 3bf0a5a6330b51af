import Foundation
import Memory
import PCEmuSupport

/// The adapter's video memory: one pinned block shared by the legacy planar
/// view and the Bochs VBE linear framebuffer (BAR0), as on QEMU's std VGA.
///
/// The planar view keeps the four planes interleaved: plane `p` of planar
/// address `a` is byte `4a + p`, so the latches are one 32-bit load and the
/// write modes work on all four planes at once. Chain-4 byte address `a` is
/// then simply byte `a`, and odd/even puts the even and odd bytes of a word in
/// planes 0 and 1 of one planar address.
///
/// Every write marks its 4 KiB page in `dirtyLog`: those through the 0xA0000
/// window here, those through BAR0 in the address space and the CPU's MMU
/// (the log is BAR0's), so the renderer draws only what changed.
public final class VideoMemory {
    /// Bochs VBE's 16 MiB (`VBE_DISPI_INDEX_VIDEO_MEMORY_64K` reports 256).
    public static let size = 16 << 20
    /// Planar addresses: 64 KiB per plane, four planes.
    public static let planarAddresses = 0x1_0000
    static let pageShift = DirtyPageLog.pageShift

    public let base: UnsafeMutableRawPointer
    public let dirtyLog: DirtyPageLog

    public init() {
        let pointer = mmap(nil, VideoMemory.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        precondition(pointer != nil && pointer != MAP_FAILED, "cannot reserve 16 MiB of video memory")
        base = pointer!
        dirtyLog = DirtyPageLog(base: base, bytes: VideoMemory.size)
    }

    deinit {
        munmap(base, VideoMemory.size)
    }

    /// The four planes of planar address `address` (callers bound it to 64K).
    @inline(__always)
    func planes(_ address: Int) -> UInt32 {
        base.load(fromByteOffset: address << 2, as: UInt32.self)
    }

    @inline(__always)
    func setPlanes(_ address: Int, _ value: UInt32) {
        base.storeBytes(of: value, toByteOffset: address << 2, as: UInt32.self)
        dirtyLog.markDirty(page: (address << 2) >> VideoMemory.pageShift)
    }

    @inline(__always)
    func byte(_ offset: Int) -> UInt8 { base.load(fromByteOffset: offset, as: UInt8.self) }

    @inline(__always)
    func setByte(_ offset: Int, _ value: UInt8) {
        base.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
        dirtyLog.markDirty(page: offset >> VideoMemory.pageShift)
    }

    /// Whether any page of the byte range was written since it was last cleaned.
    func isDirty(from start: Int, count: Int) -> Bool { dirtyLog.isDirty(offset: start, count: count) }

    /// The renderer drew the byte range: its pages are clean again (and the
    /// CPU's next store to each is seen).
    func clean(from start: Int, count: Int) { dirtyLog.clean(offset: start, count: count) }

    public func markAllDirty() { dirtyLog.markAllDirty() }

    /// Zeroes a range (a VBE mode set without NOCLEARMEM).
    func clear(from start: Int, count: Int) {
        let start = max(0, min(start, VideoMemory.size)), end = max(start, min(start + count, VideoMemory.size))
        (base + start).initializeMemory(as: UInt8.self, repeating: 0, count: end - start)
        markAllDirty()
    }
}

/// The 0xA0000-0xBFFFF window as the address space sees it; every access goes
/// to the VGA's sequencer and graphics controller logic.
public final class VGAMemoryWindow: MMIOHandler {
    public static let base: UInt64 = 0xA_0000
    public static let size: UInt64 = 0x2_0000
    unowned let vga: VGA

    init(vga: VGA) { self.vga = vga }

    public override func read(offset: UInt32, size: AccessSize) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<UInt32(size.rawValue) {
            value |= UInt32(vga.readWindow(offset &+ i)) << (8 * i)
        }
        return value
    }

    public override func write(offset: UInt32, value: UInt32, size: AccessSize) {
        for i in 0..<UInt32(size.rawValue) {
            vga.writeWindow(offset &+ i, UInt8(truncatingIfNeeded: value >> (8 * i)))
        }
    }
}

extension VGA {
    /// Each of the low four bits widened to a byte lane (set/reset, map mask).
    @inline(__always)
    static func laneMask(_ bits: UInt8) -> UInt32 {
        var mask: UInt32 = 0
        for plane in 0..<4 where bits & (1 << plane) != 0 { mask |= 0xFF << (8 * UInt32(plane)) }
        return mask
    }

    /// The planar (or chain-4 byte) address of a window offset under the
    /// graphics controller's memory map select, or nil outside the map.
    @inline(__always)
    private func windowAddress(_ offset: UInt32) -> Int? {
        let offset = Int(offset & 0x1_FFFF)
        // A VBE mode shows a 64 KiB bank at 0xA0000, as QEMU sets the map select when one starts.
        if vbe.isEnabled { return offset < 0x1_0000 ? offset + vbe.bankOffset : nil }
        switch (graphics[GraphicsIndex.miscellaneous] >> 2) & 3 {
        case 0: return offset
        case 1: return offset < 0x1_0000 ? offset + vbe.bankOffset : nil
        case 2: return offset >= 0x1_0000 && offset < 0x1_8000 ? offset - 0x1_0000 : nil
        default: return offset >= 0x1_8000 ? offset - 0x1_8000 : nil
        }
    }

    func readWindow(_ offset: UInt32) -> UInt8 {
        guard let address = windowAddress(offset) else { return 0xFF }
        let memoryMode = sequencer[SequencerIndex.memoryMode]
        if vbe.isEnabled || memoryMode & MemoryMode.chain4 != 0 {
            return address < VideoMemory.size ? memory.byte(address) : 0xFF
        }
        if memoryMode & MemoryMode.sequential == 0 {
            // Odd/even: the address's low bit picks plane 0/1 (or 2/3 with the read map's bit 1).
            let plane = Int(graphics[GraphicsIndex.readMapSelect] & 2) | (address & 1)
            let planar = address >> 1
            return memory.byte(planar << 2 | plane)
        }
        let planar = address & (VideoMemory.planarAddresses - 1)
        latch = memory.planes(planar)
        if graphics[GraphicsIndex.mode] & GraphicsMode.readMode1 == 0 {
            return UInt8(truncatingIfNeeded: latch >> (8 * UInt32(graphics[GraphicsIndex.readMapSelect] & 3)))
        }
        // Read mode 1: a bit is set where every plane included by "colour don't care" matches "colour compare".
        var differ = (latch ^ VGA.laneMask(graphics[GraphicsIndex.colorCompare])) & VGA.laneMask(graphics[GraphicsIndex.colorDontCare])
        differ |= differ >> 16
        differ |= differ >> 8
        return ~UInt8(truncatingIfNeeded: differ)
    }

    func writeWindow(_ offset: UInt32, _ value: UInt8) {
        guard let address = windowAddress(offset) else { return }
        let memoryMode = sequencer[SequencerIndex.memoryMode]
        let mapMask = sequencer[SequencerIndex.mapMask] & 0xF
        if vbe.isEnabled {
            if address < VideoMemory.size { memory.setByte(address, value) }
            return
        }
        if memoryMode & MemoryMode.chain4 != 0 {
            // Chain-4 (mode 13h): the low two address bits pick the plane.
            guard address < VideoMemory.planarAddresses << 2, mapMask & (1 << (address & 3)) != 0 else { return }
            memory.setByte(address, value)
            return
        }
        if memoryMode & MemoryMode.sequential == 0 {
            let plane = address & 1
            guard mapMask & (1 << plane) != 0 else { return }
            let planar = (address >> 1) & (VideoMemory.planarAddresses - 1)
            memory.setByte(planar << 2 | plane, value)
            return
        }
        let planar = address & (VideoMemory.planarAddresses - 1)
        let mode = graphics[GraphicsIndex.mode]
        let rotate = graphics[GraphicsIndex.dataRotate] & 7
        let rotated = UInt8(truncatingIfNeeded: (UInt16(value) >> UInt16(rotate)) | (UInt16(value) << UInt16(8 - rotate)))
        var bitMask = graphics[GraphicsIndex.bitMask]
        var data: UInt32
        switch mode & 3 {
        case 0:
            data = UInt32(rotated) * 0x0101_0101
            let enable = VGA.laneMask(graphics[GraphicsIndex.enableSetReset])
            data = (data & ~enable) | (VGA.laneMask(graphics[GraphicsIndex.setReset]) & enable)
        case 1:
            // The latches go back unchanged (a fast copy within video memory).
            writePlanes(planar, latch, mapMask: mapMask)
            return
        case 2:
            data = VGA.laneMask(value)
        default:
            bitMask &= rotated
            data = VGA.laneMask(graphics[GraphicsIndex.setReset])
        }
        switch (graphics[GraphicsIndex.dataRotate] >> 3) & 3 {
        case 1: data &= latch
        case 2: data |= latch
        case 3: data ^= latch
        default: break
        }
        let wideMask = UInt32(bitMask) * 0x0101_0101
        data = (data & wideMask) | (latch & ~wideMask)
        writePlanes(planar, data, mapMask: mapMask)
    }

    @inline(__always)
    private func writePlanes(_ planar: Int, _ data: UInt32, mapMask: UInt8) {
        let enabled = VGA.laneMask(mapMask)
        memory.setPlanes(planar, (memory.planes(planar) & ~enabled) | (data & enabled))
    }
}
