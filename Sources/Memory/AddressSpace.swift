import Glibc
import PCEmuSupport

/// What one guest-physical region is backed by.
public enum RegionKind {
    /// RAM: `offset` into the guest RAM block.
    case ram(offset: Int)
    /// Read-only memory with its own pinned storage; writes are dropped.
    case rom(UnsafeMutableRawPointer)
    /// Device registers.
    case mmio(MMIOHandler)
    /// Writable memory a device owns and keeps pinned (a framebuffer behind a
    /// PCI BAR): reached like RAM, with no per-access device call. With a
    /// dirty log (covering the storage from its first byte), every write
    /// through the address space or the CPU marks its page in the log.
    case deviceRAM(UnsafeMutableRawPointer, dirtyLog: DirtyPageLog? = nil)
    /// A ROM device (a flash chip in read-array mode): reads come straight from
    /// its storage as ROM's do, writes go to its handler (a command).
    case romDevice(UnsafeMutableRawPointer, MMIOHandler)
}

/// One named, page-aligned range of the physical address space.
public struct Region {
    public let name: String
    public let start: PhysicalAddress
    public let size: UInt64
    public let kind: RegionKind
    public var end: PhysicalAddress { start + size }
}

/// What backs a physical address, as the CPU's miss path asks: plain values,
/// so a lookup copies no region name or device reference.
public enum BackingKind: UInt8 {
    case none, ram, rom, deviceRAM, mmio
}

/// A region's backing: its kind, and for RAM, ROM and device RAM the host
/// address of its first byte; for logged device RAM its dirty log (kept
/// alive by the region itself, so copying a backing retains nothing).
struct RegionBacking {
    var kind: BackingKind = .none
    var start: UInt64 = 0
    var host: UnsafeMutableRawPointer?
    unowned(unsafe) var dirtyLog: DirtyPageLog?
}

/// The guest-physical address space: non-overlapping RAM, ROM and MMIO regions,
/// from 0 up to `physicalLimit`.
///
/// Two page tables of 16-bit region indices make a lookup one load, which is
/// what the TLB's miss path needs: one for every 4 KiB page of the low 4 GiB,
/// where all the devices and most accesses are, and one for the pages from
/// 4 GiB to `physicalLimit`, where a PC has only the RAM that did not fit
/// below the PCI hole. The high table is reserved address space (60 GiB of
/// physical pages need 30 MiB of entries) that the host commits only where
/// a region is mapped: it holds index + 1, so its untouched zeros mean
/// "nothing". Regions must be page aligned; every PC region is (the sub-page
/// devices sit on I/O ports).
public final class AddressSpace {
    /// The top of the 32-bit space: what the low table covers, where the BIOS ROM ends.
    public static let lowLimit: UInt64 = 1 << 32
    /// One past the highest physical address: MAXPHYADDR 36, as the CPU declares
    /// it (CPUID 0x80000008) and its page walker enforces.
    public static let physicalLimit: UInt64 = 1 << 36
    static let pageShift = 12
    static let pageCount = Int(lowLimit >> UInt64(pageShift))
    static let highPageCount = Int((physicalLimit - lowLimit) >> UInt64(pageShift))
    /// Page-table value for a page no region covers.
    static let unmapped: UInt16 = 0xFFFF

    public let ram: GuestRAM
    public private(set) var regions: [Region?] = []
    private let pageRegion: UnsafeMutablePointer<UInt16>
    /// Pages from 4 GiB up: region index + 1, 0 for nothing (mmap'd zeros).
    private let highPageRegion: UnsafeMutablePointer<UInt16>
    /// `regions`' backings by the same index, for `backingKind` and `hostPointer`.
    var backings: UnsafeMutablePointer<RegionBacking>
    private var backingCapacity = 64

    public init(ram: GuestRAM) {
        self.ram = ram
        pageRegion = .allocate(capacity: AddressSpace.pageCount)
        pageRegion.initialize(repeating: AddressSpace.unmapped, count: AddressSpace.pageCount)
        backings = .allocate(capacity: backingCapacity)
        backings.initialize(repeating: RegionBacking(), count: backingCapacity)
        highPageRegion = AddressSpace.reserveZeroed(count: AddressSpace.highPageCount)
    }

    deinit {
        pageRegion.deallocate()
        backings.deallocate()
        munmap(highPageRegion, AddressSpace.highPageCount * MemoryLayout<UInt16>.stride)
    }

    /// Anonymous zero pages the host commits only when written.
    private static func reserveZeroed(count: Int) -> UnsafeMutablePointer<UInt16> {
        let bytes = count * MemoryLayout<UInt16>.stride
        let pointer = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let pointer, pointer != MAP_FAILED else {
            fatalError("cannot reserve \(bytes >> 20) MiB of address space for the physical page table")
        }
        return pointer.bindMemory(to: UInt16.self, capacity: count)
    }

    /// Called after every map and unmap: whoever caches translations of the
    /// old map (a CPU's TLB and translated code) drops them here, so code
    /// that changes the map (PAM, BARs) never flushes by hand.
    private var mapChangeListeners: [() -> Void] = []

    public func addMapChangeListener(_ listener: @escaping () -> Void) {
        mapChangeListeners.append(listener)
    }

    /// Told the host range of logged device RAM just cleaned (see `AddressSpace+DirtyLog.swift`).
    var dirtyLogCleanedListeners: [(UnsafeMutableRawPointer, Int) -> Void] = []
    /// The dirty logs this space already listens to.
    var listenedLogs: Set<ObjectIdentifier> = []

    private func mapChanged() {
        for listener in mapChangeListeners { listener() }
    }

    /// Adds a region; refuses one that is misaligned, past `physicalLimit` or overlaps another.
    @discardableResult
    public func map(_ name: String, at start: UInt64, size: UInt64, kind: RegionKind) throws -> Int {
        let pageMask = UInt64(GuestRAM.pageSize - 1)
        guard size > 0, start & pageMask == 0, size & pageMask == 0 else {
            throw EmulatorError.configuration("region \(name) at 0x\(hex(start)) size 0x\(hex(size)) is not page aligned")
        }
        guard start < AddressSpace.physicalLimit, size <= AddressSpace.physicalLimit - start else {
            throw EmulatorError.configuration("region \(name) at 0x\(hex(start)) size 0x\(hex(size)) ends past the physical address space")
        }
        guard start >= AddressSpace.lowLimit || start + size <= AddressSpace.lowLimit else {
            throw EmulatorError.configuration("region \(name) at 0x\(hex(start)) size 0x\(hex(size)) straddles 4 GiB")
        }
        if case let .ram(offset) = kind, offset < 0 || offset + Int(size) > ram.size {
            throw EmulatorError.configuration("region \(name) maps past the end of guest RAM")
        }
        if case let .deviceRAM(storage, log?) = kind, storage != log.base || size > UInt64(log.bytes) {
            throw EmulatorError.configuration("region \(name) is not covered by its dirty log")
        }
        if let other = regions.compactMap({ $0 }).first(where: { $0.start < start + size && start < $0.end }) {
            throw EmulatorError.configuration("region \(name) at 0x\(hex(start)) overlaps \(other.name) at 0x\(hex(other.start))")
        }
        let index = regions.firstIndex(where: { $0 == nil }) ?? regions.count
        guard index < Int(AddressSpace.unmapped) else {
            throw EmulatorError.configuration("too many memory regions")
        }
        let region = Region(name: name, start: start, size: size, kind: kind)
        if index == regions.count { regions.append(region) } else { regions[index] = region }
        setBacking(index, of: region)
        setPages(of: region, to: UInt16(index))
        if case let .deviceRAM(_, log?) = kind { listenForCleaning(log) }
        mapChanged()
        return index
    }

    /// Removes a region by the index `map` returned (a PCI BAR moving, a ROM shadowed).
    public func unmap(_ index: Int) {
        guard index < regions.count, let region = regions[index] else { return }
        setPages(of: region, to: AddressSpace.unmapped)
        regions[index] = nil
        backings[index] = RegionBacking()
        mapChanged()
    }

    private func setBacking(_ index: Int, of region: Region) {
        if index >= backingCapacity {
            let grown = UnsafeMutablePointer<RegionBacking>.allocate(capacity: backingCapacity * 2)
            grown.moveInitialize(from: backings, count: backingCapacity)
            (grown + backingCapacity).initialize(repeating: RegionBacking(), count: backingCapacity)
            backings.deallocate()
            backings = grown
            backingCapacity *= 2
        }
        switch region.kind {
        case let .ram(offset): backings[index] = RegionBacking(kind: .ram, start: region.start, host: ram.uncheckedPointer(at: offset))
        case let .rom(storage), let .romDevice(storage, _): backings[index] = RegionBacking(kind: .rom, start: region.start, host: storage)
        case let .deviceRAM(storage, log): backings[index] = RegionBacking(kind: .deviceRAM, start: region.start, host: storage, dirtyLog: log)
        case .mmio: backings[index] = RegionBacking(kind: .mmio, start: region.start, host: nil)
        }
    }

    /// The page tables' entry for a physical address: `unmapped` past
    /// `physicalLimit`.
    @inline(__always)
    func regionIndex(_ address: PhysicalAddress) -> UInt16 {
        guard address < AddressSpace.lowLimit else { return highRegionIndex(address) }
        return pageRegion[Int(address >> UInt64(AddressSpace.pageShift))]
    }

    @inline(never)
    private func highRegionIndex(_ address: PhysicalAddress) -> UInt16 {
        guard address < AddressSpace.physicalLimit else { return AddressSpace.unmapped }
        // 0 (nothing) wraps to `unmapped`.
        return highPageRegion[Int((address - AddressSpace.lowLimit) >> UInt64(AddressSpace.pageShift))] &- 1
    }

    /// The region holding a physical address, if any.
    @inline(__always)
    public func region(at address: PhysicalAddress) -> Region? {
        let index = regionIndex(address)
        return index == AddressSpace.unmapped ? nil : regions[Int(index)]
    }

    /// Host pointer for a RAM or ROM address, nil for MMIO or nothing. The TLB
    /// stores (this pointer - guest page) as its addend.
    @inline(__always)
    public func hostPointer(at address: PhysicalAddress) -> UnsafeMutableRawPointer? {
        let index = regionIndex(address)
        guard index != AddressSpace.unmapped else { return nil }
        let backing = backings[Int(index)]
        return backing.host.map { $0 + Int(address &- backing.start) }
    }

    /// What backs a physical address.
    @inline(__always)
    public func backingKind(at address: PhysicalAddress) -> BackingKind {
        let index = regionIndex(address)
        return index == AddressSpace.unmapped ? .none : backings[Int(index)].kind
    }

    /// Slow-path physical read, for devices (DMA) and the CPU's miss path.
    public func read(_ address: PhysicalAddress, size: AccessSize) -> UInt32 {
        guard let region = region(at: address) else { return size.mask }
        let inside = address - region.start
        if case let .mmio(handler) = region.kind {
            return handler.read(offset: UInt32(inside), size: size)
        }
        if inside + UInt64(size.rawValue) > region.size { return splitRead(address, size: size) }
        let pointer = hostPointer(at: address)!
        switch size {
        case .byte: return UInt32(pointer.load(as: UInt8.self))
        case .word: return UInt32(pointer.loadUnaligned(as: UInt16.self))
        case .dword: return pointer.loadUnaligned(as: UInt32.self)
        }
    }

    /// Slow-path physical write. Writes to ROM and to nothing are dropped; a
    /// ROM device's handler gets them.
    public func write(_ address: PhysicalAddress, value: UInt32, size: AccessSize) {
        guard let region = region(at: address) else { return }
        let inside = address - region.start
        switch region.kind {
        case let .mmio(handler), let .romDevice(_, handler):
            handler.write(offset: UInt32(inside), value: value, size: size)
        case .rom:
            return
        case .ram, .deviceRAM:
            if inside + UInt64(size.rawValue) > region.size { return splitWrite(address, value: value, size: size) }
            if case .deviceRAM(_, _?) = region.kind {
                // Both ends: a word or dword may run into the next page.
                markWritten(address)
                markWritten(address &+ UInt64(size.rawValue - 1))
            }
            let pointer = hostPointer(at: address)!
            switch size {
            case .byte: pointer.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
            case .word: pointer.storeBytes(of: UInt16(truncatingIfNeeded: value), toByteOffset: 0, as: UInt16.self)
            case .dword: pointer.storeBytes(of: value, toByteOffset: 0, as: UInt32.self)
            }
        }
    }

    /// An access that straddles two regions goes byte by byte, little-endian;
    /// bytes past the end of the physical address space are nothing (no wrap
    /// to 0). Only an access whose first byte is in a region gets here.
    private func splitRead(_ address: PhysicalAddress, size: AccessSize) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<UInt32(size.rawValue) {
            value |= read(address &+ PhysicalAddress(i), size: .byte) << (8 * i)
        }
        return value
    }

    private func splitWrite(_ address: PhysicalAddress, value: UInt32, size: AccessSize) {
        for i in 0..<UInt32(size.rawValue) {
            write(address &+ PhysicalAddress(i), value: (value >> (8 * i)) & 0xFF, size: .byte)
        }
    }

    /// Writes a region's index (`unmapped` to clear) into the table its pages
    /// are in; `map` refuses regions that straddle 4 GiB.
    private func setPages(of region: Region, to value: UInt16) {
        let count = Int(region.size >> UInt64(AddressSpace.pageShift))
        if region.start < AddressSpace.lowLimit {
            let first = Int(region.start >> UInt64(AddressSpace.pageShift))
            (pageRegion + first).update(repeating: value, count: count)
        } else {
            let first = Int((region.start - AddressSpace.lowLimit) >> UInt64(AddressSpace.pageShift))
            // `unmapped` + 1 wraps to 0: nothing.
            (highPageRegion + first).update(repeating: value &+ 1, count: count)
        }
    }
}

func hex<T: BinaryInteger>(_ value: T) -> String { String(value, radix: 16) }
