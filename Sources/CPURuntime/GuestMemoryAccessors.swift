import IR
import X86State

/// The guest load and store functions generated code and the interpreter
/// call: the TLB hit path works from the state pointer alone (the TLB sits
/// at a fixed offset from it), so a hit touches no object and no reference
/// count; only a miss reaches the CPU object and its MMU.
enum GuestMemoryAccessors {
    @inline(__always)
    static func entry(_ state: UnsafeMutableRawPointer, _ linear: LinearAddress, mmu: UInt32) -> UnsafeMutablePointer<TLBEntry> {
        (state + CPUStateBlock.tlbOffset).assumingMemoryBound(to: TLBEntry.self)
            + Int(mmu) * CPUStateBlock.tlbEntries + (Int(truncatingIfNeeded: linear >> 12) & (CPUStateBlock.tlbEntries - 1))
    }

    /// The hit path of a load: the raw (zero-extended) value, or nil on a miss.
    @inline(__always)
    static func hitLoad(_ state: UnsafeMutableRawPointer, _ linear: LinearAddress, bytes: Int, mmu: UInt32) -> UInt64? {
        let slot = entry(state, linear, mmu: mmu)
        guard slot.pointee.readTag == linear & SoftMMU.pageMask, Int(linear & 0xFFF) <= 4096 - bytes else { return nil }
        let host = UnsafeRawPointer(bitPattern: Int(truncatingIfNeeded: linear) &+ slot.pointee.addend)!
        switch bytes {
        case 1: return UInt64(host.load(as: UInt8.self))
        case 2: return UInt64(host.loadUnaligned(as: UInt16.self))
        case 4: return UInt64(host.loadUnaligned(as: UInt32.self))
        default: return host.loadUnaligned(as: UInt64.self)
        }
    }

    /// The hit path of a store: false on a miss (nothing written).
    @inline(__always)
    static func hitStore(_ state: UnsafeMutableRawPointer, _ linear: LinearAddress, _ value: UInt64, bytes: Int, mmu: UInt32) -> Bool {
        let slot = entry(state, linear, mmu: mmu)
        guard slot.pointee.writeTag == linear & SoftMMU.pageMask, Int(linear & 0xFFF) <= 4096 - bytes else { return false }
        let host = UnsafeMutableRawPointer(bitPattern: Int(truncatingIfNeeded: linear) &+ slot.pointee.addend)!
        switch bytes {
        case 1: host.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
        case 2: host.storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
        case 4: host.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
        default: host.storeBytes(of: value, as: UInt64.self)
        }
        return true
    }

    static let load: GuestLoadFunction = { state, linear, access, mmu in
        let kind = MemoryAccess(rawValue: UInt8(truncatingIfNeeded: access))
        if let raw = GuestMemoryAccessors.hitLoad(state, linear, bytes: kind.bytes, mmu: mmu) {
            return kind.isSigned ? kind.extend(raw) : raw
        }
        return GuestMemoryAccessors.missLoad(state, linear, kind, mmu)
    }

    static let store: GuestStoreFunction = { state, linear, value, access, mmu in
        let bytes = MemoryAccess(rawValue: UInt8(truncatingIfNeeded: access)).bytes
        if GuestMemoryAccessors.hitStore(state, linear, value, bytes: bytes, mmu: mmu) { return }
        GuestMemoryAccessors.missStore(state, linear, value, bytes: bytes, mmu: mmu)
    }

    @inline(never)
    static func missLoad(_ state: UnsafeMutableRawPointer, _ linear: LinearAddress, _ kind: MemoryAccess, _ mmu: UInt32) -> UInt64 {
        let raw = X86CPU.withOwner(of: state) { $0.mmu.slowLoad(linear, bytes: kind.bytes, mmu: Int(mmu)) }
        return kind.isSigned ? kind.extend(raw) : raw
    }

    @inline(never)
    static func missStore(_ state: UnsafeMutableRawPointer, _ linear: LinearAddress, _ value: UInt64, bytes: Int, mmu: UInt32) {
        X86CPU.withOwner(of: state) { $0.mmu.slowStore(linear, value, bytes: bytes, mmu: Int(mmu)) }
    }
}
