import Memory
import X86State

/// Linear-to-host translation for guest loads and stores: a direct-mapped TLB
/// per MMU mode whose hit path is a tag compare and an add, and a slow path
/// that walks the address space (paging is not implemented yet: linear
/// addresses are physical, masked by the A20 gate).
final class SoftMMU {
    unowned(unsafe) let cpu: X86CPU
    let addressSpace: AddressSpace
    static let pageMask: UInt32 = ~0xFFF

    init(cpu: X86CPU, addressSpace: AddressSpace) {
        self.cpu = cpu
        self.addressSpace = addressSpace
    }

    @inline(__always)
    func entry(_ linear: UInt32, mmu: Int) -> UnsafeMutablePointer<TLBEntry> {
        cpu.stateBlock.tlb(mmu: mmu) + Int((linear >> 12) & UInt32(CPUStateBlock.tlbEntries - 1))
    }

    @inline(__always)
    func load(_ linear: UInt32, bytes: Int, mmu: Int) -> UInt64 {
        let slot = entry(linear, mmu: mmu)
        if slot.pointee.readTag == linear & SoftMMU.pageMask, Int(linear & 0xFFF) <= 4096 - bytes {
            let host = UnsafeRawPointer(bitPattern: Int(linear) &+ slot.pointee.addend)!
            switch bytes {
            case 1: return UInt64(host.load(as: UInt8.self))
            case 2: return UInt64(host.loadUnaligned(as: UInt16.self))
            case 4: return UInt64(host.loadUnaligned(as: UInt32.self))
            default: return host.loadUnaligned(as: UInt64.self)
            }
        }
        return slowLoad(linear, bytes: bytes, mmu: mmu)
    }

    @inline(__always)
    func store(_ linear: UInt32, _ value: UInt64, bytes: Int, mmu: Int) {
        let slot = entry(linear, mmu: mmu)
        if slot.pointee.writeTag == linear & SoftMMU.pageMask, Int(linear & 0xFFF) <= 4096 - bytes {
            let host = UnsafeMutableRawPointer(bitPattern: Int(linear) &+ slot.pointee.addend)!
            switch bytes {
            case 1: host.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
            case 2: host.storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
            case 4: host.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
            default: host.storeBytes(of: value, as: UInt64.self)
            }
            return
        }
        slowStore(linear, value, bytes: bytes, mmu: mmu)
    }

    /// The physical address of a linear one. Without paging this is the A20 mask.
    @inline(__always)
    func physical(_ linear: UInt32) -> UInt32 {
        linear & cpu.state.pointee.a20Mask
    }

    @inline(never)
    func slowLoad(_ linear: UInt32, bytes: Int, mmu: Int) -> UInt64 {
        if Int(linear & 0xFFF) > 4096 - bytes {
            // Crosses a page: byte by byte, little-endian.
            var value: UInt64 = 0
            for index in 0..<bytes {
                value |= load(linear &+ UInt32(index), bytes: 1, mmu: mmu) << (8 * UInt64(index))
                if cpu.state.pointee.pendingException >= 0 { return 0 }
            }
            return value
        }
        let address = physical(linear)
        fill(linear: linear, physical: address, mmu: mmu)
        if let region = addressSpace.region(at: address), case .mmio = region.kind {
            return UInt64(addressSpace.read(address, size: AccessSize(rawValue: bytes) ?? .dword))
        }
        if entry(linear, mmu: mmu).pointee.readTag == linear & SoftMMU.pageMask {
            return load(linear, bytes: bytes, mmu: mmu)
        }
        return bytes == 8 ? UInt64.max : UInt64(AccessSize(rawValue: bytes)!.mask)
    }

    @inline(never)
    func slowStore(_ linear: UInt32, _ value: UInt64, bytes: Int, mmu: Int) {
        if Int(linear & 0xFFF) > 4096 - bytes {
            for index in 0..<bytes {
                store(linear &+ UInt32(index), (value >> (8 * UInt64(index))) & 0xFF, bytes: 1, mmu: mmu)
                if cpu.state.pointee.pendingException >= 0 { return }
            }
            return
        }
        let address = physical(linear)
        if cpu.translationCache.holdsCode(physicalPage: address >> 12) {
            cpu.invalidateCode(physicalPage: address >> 12)
        }
        fill(linear: linear, physical: address, mmu: mmu)
        guard let region = addressSpace.region(at: address) else { return }
        switch region.kind {
        case .mmio:
            addressSpace.write(address, value: UInt32(truncatingIfNeeded: value), size: AccessSize(rawValue: bytes) ?? .dword)
        case .rom:
            return
        case .ram:
            if entry(linear, mmu: mmu).pointee.writeTag == linear & SoftMMU.pageMask {
                store(linear, value, bytes: bytes, mmu: mmu)
            }
        }
    }

    /// Loads the TLB entry for a page: RAM gets read and write tags, ROM a read
    /// tag, MMIO and holes none (they always take the slow path); a page holding
    /// translated code gets no write tag, so writes to it are seen.
    func fill(linear: UInt32, physical: UInt32, mmu: Int) {
        let slot = entry(linear, mmu: mmu)
        var fresh = TLBEntry()
        let page = linear & SoftMMU.pageMask
        let physicalPage = physical & SoftMMU.pageMask
        fresh.physicalPage = physicalPage
        if let host = addressSpace.hostPointer(at: physicalPage), let region = addressSpace.region(at: physicalPage) {
            fresh.addend = Int(bitPattern: host) &- Int(page)
            fresh.readTag = page
            fresh.codeTag = page
            if case .ram = region.kind, !cpu.translationCache.holdsCode(physicalPage: physicalPage >> 12) {
                fresh.writeTag = page
            }
        }
        slot.pointee = fresh
    }

    /// Reads code bytes for the translator; never faults without paging.
    func readCode(linear: UInt32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        for index in 0..<buffer.count {
            let address = physical(linear &+ UInt32(index))
            guard let host = addressSpace.hostPointer(at: address) else { return index }
            buffer[index] = host.load(as: UInt8.self)
        }
        return buffer.count
    }
}
