/// The operand-size and mode variants of the FSTENV/FLDENV environment
/// (SDM Vol. 1, 8.1.10, Figures 8-9 to 8-12) and of the FSAVE/FRSTOR image,
/// which is the environment followed by ST(0)-ST(7), 10 bytes each.
public enum X87EnvironmentLayout: Sendable {
    case real16, protected16, real32, protected32

    public var environmentSize: Int { is32 ? 28 : 14 }
    public var saveAreaSize: Int { environmentSize + 80 }

    var is32: Bool { self == .real32 || self == .protected32 }
    var isReal: Bool { self == .real16 || self == .real32 }
}

extension X87State {
    /// FNSTENV: writes the environment, then masks all exceptions.
    public mutating func storeEnvironment(_ layout: X87EnvironmentLayout, to memory: UnsafeMutableRawPointer) {
        writeEnvironment(layout, to: memory)
        controlWord |= X87Bits.exceptions
    }

    /// FLDENV. The status word is taken as stored (ES included).
    public mutating func loadEnvironment(_ layout: X87EnvironmentLayout, from memory: UnsafeRawPointer) {
        readEnvironment(layout, from: memory)
    }

    /// FNSAVE: environment and registers, then FNINIT.
    public mutating func save(_ layout: X87EnvironmentLayout, to memory: UnsafeMutableRawPointer) {
        writeEnvironment(layout, to: memory)
        let registers = memory + layout.environmentSize
        for i in 0..<8 {
            let value = self[st: i]
            (registers + i * 10).storeBytes(of: value.significand.littleEndian, as: UInt64.self)
            (registers + i * 10 + 8).storeBytes(of: value.signExponent.littleEndian, as: UInt16.self)
        }
        initialize()
    }

    /// FRSTOR.
    public mutating func restore(_ layout: X87EnvironmentLayout, from memory: UnsafeRawPointer) {
        readEnvironment(layout, from: memory)
        let registers = memory + layout.environmentSize
        for i in 0..<8 {
            self[st: i] = X87Register(
                significand: UInt64(littleEndian: (registers + i * 10).loadUnaligned(as: UInt64.self)),
                signExponent: UInt16(littleEndian: (registers + i * 10 + 8).loadUnaligned(as: UInt16.self)))
        }
    }

    private func writeEnvironment(_ layout: X87EnvironmentLayout, to memory: UnsafeMutableRawPointer) {
        func put16(_ offset: Int, _ value: UInt16) { (memory + offset).storeBytes(of: value.littleEndian, as: UInt16.self) }
        func put32(_ offset: Int, _ value: UInt32) { (memory + offset).storeBytes(of: value.littleEndian, as: UInt32.self) }
        let opcode = UInt32(fop & 0x7FF)
        if layout.is32 {
            // Reserved upper halves read as ones.
            put32(0, 0xFFFF_0000 | UInt32(controlWord))
            put32(4, 0xFFFF_0000 | UInt32(statusWord))
            put32(8, 0xFFFF_0000 | UInt32(fullTagWord))
            if layout.isReal {
                put32(12, 0xFFFF_0000 | fip & 0xFFFF)
                put32(16, (fip >> 16) << 12 | opcode)
                put32(20, 0xFFFF_0000 | fdp & 0xFFFF)
                put32(24, (fdp >> 16) << 12)
            } else {
                put32(12, fip)
                put32(16, opcode << 16 | UInt32(fcs))
                put32(20, fdp)
                put32(24, 0xFFFF_0000 | UInt32(fds))
            }
        } else {
            put16(0, controlWord)
            put16(2, statusWord)
            put16(4, fullTagWord)
            if layout.isReal {
                put16(6, UInt16(truncatingIfNeeded: fip))
                put16(8, UInt16(truncatingIfNeeded: (fip >> 16) << 12 | opcode))
                put16(10, UInt16(truncatingIfNeeded: fdp))
                put16(12, UInt16(truncatingIfNeeded: (fdp >> 16) << 12))
            } else {
                put16(6, UInt16(truncatingIfNeeded: fip))
                put16(8, fcs)
                put16(10, UInt16(truncatingIfNeeded: fdp))
                put16(12, fds)
            }
        }
    }

    private mutating func readEnvironment(_ layout: X87EnvironmentLayout, from memory: UnsafeRawPointer) {
        func get16(_ offset: Int) -> UInt16 { UInt16(littleEndian: (memory + offset).loadUnaligned(as: UInt16.self)) }
        func get32(_ offset: Int) -> UInt32 { UInt32(littleEndian: (memory + offset).loadUnaligned(as: UInt32.self)) }
        let step = layout.is32 ? 4 : 2
        controlWord = get16(0) & Self.controlWordWritableBits | Self.controlWordFixedBits
        statusWord = get16(step)
        setFullTagWord(get16(2 * step))
        if layout.is32 {
            if layout.isReal {
                fip = get32(12) & 0xFFFF | (get32(16) >> 12 & 0xFFFF) << 16
                fop = UInt16(get32(16) & 0x7FF)
                fdp = get32(20) & 0xFFFF | (get32(24) >> 12 & 0xFFFF) << 16
            } else {
                fip = get32(12)
                fcs = get16(16)
                fop = get16(18) & 0x7FF
                fdp = get32(20)
                fds = get16(24)
            }
        } else {
            if layout.isReal {
                fip = UInt32(get16(6)) | UInt32(get16(8) >> 12) << 16
                fop = get16(8) & 0x7FF
                fdp = UInt32(get16(10)) | UInt32(get16(12) >> 12) << 16
            } else {
                fip = UInt32(get16(6))
                fcs = get16(8)
                fdp = UInt32(get16(10))
                fds = get16(12)
            }
        }
    }
}
