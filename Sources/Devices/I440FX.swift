import Memory
import PCEmuSupport

/// The 82441FX PCI and memory controller, the host bridge at 00.0. Its
/// programmable attribute map (PAM) decides, per area of the 0xC0000-0xFFFFF
/// window, whether reads and writes reach RAM or the ROM/PCI side; BIOSes
/// use it to shadow themselves into RAM. The SMRAM register is kept with its
/// lock, but SMM itself is not modelled.
public final class I440FX: PCIDevice {
    public static let vendorID: UInt16 = 0x8086
    public static let deviceID: UInt16 = 0x1237
    public static let slot = 0
    static let revision: UInt8 = 0x02
    static let hostBridgeClass: UInt32 = 0x06_00_00

    enum Register {
        static let pmcConfig = 0x50
        static let dramTiming = 0x58
        static let pamFirst = 0x59
        static let pamLast = 0x5F
        static let dramRowBoundaryFirst = 0x60
        static let dramRowBoundaryLast = 0x67
        static let smram = 0x72
    }

    enum SMRAM {
        static let open: UInt8 = 0x40
        static let closed: UInt8 = 0x20
        static let locked: UInt8 = 0x10
        static let globalEnable: UInt8 = 0x08
        /// C_BASE_SEG: hard-wired to 010, the 0xA0000 segment.
        static let baseSegment: UInt8 = 0x02
        static let writable: UInt8 = open | closed | locked | globalEnable
    }

    /// One PAM attribute nibble: read enable (RAM answers reads) and write
    /// enable (RAM takes writes).
    enum PAMBit {
        static let readEnable: UInt8 = 0x1
        static let writeEnable: UInt8 = 0x2
        static let nibbleMask: UInt8 = 0x3
        /// PAM0's low nibble is reserved; its high nibble is the BIOS area.
        static let pam0Writable: UInt8 = 0x30
        static let writable: UInt8 = 0x33
    }

    /// A range of the shadow window with its own attributes.
    public struct PAMArea: Equatable, Sendable {
        public let start: UInt32
        public let size: UInt32
    }

    /// Where accesses to an area go.
    public enum PAMMode: Equatable, Sendable {
        /// Reads and writes go to the ROM/PCI side (the power-on state).
        case rom
        /// Reads from RAM, writes to the ROM side (dropped): a write-protected shadow.
        case readOnlyRAM
        /// Reads from ROM, writes to RAM: how a BIOS copies itself.
        case writeOnlyRAM
        case ram
    }

    /// The 13 areas: the 64 KiB BIOS area at 0xF0000 (PAM0 high nibble),
    /// then twelve 16 KiB areas from 0xC0000 (PAM1-PAM6, low nibble first).
    public static let pamAreas: [PAMArea] = [PAMArea(start: 0xF0000, size: 0x10000)]
        + (0..<12).map { PAMArea(start: 0xC0000 + UInt32($0) * 0x4000, size: 0x4000) }

    /// Called for each area whose mode changes; the machine remaps it.
    public var pamChanged: (PAMArea, PAMMode) -> Void

    public init(pamChanged: @escaping (PAMArea, PAMMode) -> Void = { _, _ in }) {
        self.pamChanged = pamChanged
        super.init(name: "i440fx", vendorID: I440FX.vendorID, deviceID: I440FX.deviceID,
                   revision: I440FX.revision, classCode: I440FX.hostBridgeClass)
        for offset in Register.pmcConfig...Register.dramTiming { setWritable(offset, byte: 0xFF) }
        setWritable(Register.pamFirst, byte: PAMBit.pam0Writable)
        for offset in Register.pamFirst + 1...Register.pamLast { setWritable(offset, byte: PAMBit.writable) }
        for offset in Register.dramRowBoundaryFirst...Register.dramRowBoundaryLast { setWritable(offset, byte: 0xFF) }
        setConfig(Register.smram, byte: SMRAM.baseSegment)
        // SMRAM is written by hand below, for its lock.
    }

    /// The mode of area `index` of `pamAreas`.
    public func pamMode(ofArea index: Int) -> PAMMode { I440FX.pamMode(ofArea: index, in: pamRegisters) }

    /// PAM0-PAM6 packed in one integer, PAM0 in the low byte: a snapshot
    /// taken before a write without allocating.
    var pamRegisters: UInt64 {
        var packed: UInt64 = 0
        for offset in (Register.pamFirst...Register.pamLast).reversed() { packed = packed << 8 | UInt64(configByte(offset)) }
        return packed
    }

    static func pamMode(ofArea index: Int, in registers: UInt64) -> PAMMode {
        let (register, shift) = pamLocation(ofArea: index)
        let byte = UInt8(truncatingIfNeeded: registers >> (8 * UInt64(register - Register.pamFirst)))
        return mode(of: (byte >> shift) & PAMBit.nibbleMask)
    }

    static func pamLocation(ofArea index: Int) -> (register: Int, shift: UInt8) {
        guard index > 0 else { return (Register.pamFirst, 4) }
        return (Register.pamFirst + 1 + (index - 1) / 2, (index - 1) % 2 == 0 ? 0 : 4)
    }

    static func mode(of nibble: UInt8) -> PAMMode {
        switch nibble {
        case PAMBit.readEnable: return .readOnlyRAM
        case PAMBit.writeEnable: return .writeOnlyRAM
        case PAMBit.readEnable | PAMBit.writeEnable: return .ram
        default: return .rom
        }
    }

    public override func configWrite(offset: Int, value: UInt32, size: AccessSize) {
        let pamBefore = pamRegisters
        super.configWrite(offset: offset, value: value, size: size)
        let smramByte = Register.smram - offset
        if smramByte >= 0 && smramByte < size.rawValue {
            writeSMRAM(UInt8(truncatingIfNeeded: value >> (8 * UInt32(smramByte))))
        }
        if pamRegisters != pamBefore { reportPAMChanges(from: pamBefore) }
    }

    public override func reset() {
        let pamBefore = pamRegisters
        super.reset()
        if pamRegisters != pamBefore { reportPAMChanges(from: pamBefore) }
    }

    func reportPAMChanges(from before: UInt64) {
        for (index, area) in I440FX.pamAreas.enumerated()
        where pamMode(ofArea: index) != I440FX.pamMode(ofArea: index, in: before) {
            Log.write(.device, "i440fx: PAM 0x\(String(area.start, radix: 16)) -> \(pamMode(ofArea: index))")
            pamChanged(area, pamMode(ofArea: index))
        }
    }

    /// Once D_LCK is set, D_OPEN cannot be set and D_LCK cannot be cleared
    /// until reset.
    private func writeSMRAM(_ byte: UInt8) {
        let old = configByte(Register.smram)
        var new = byte & SMRAM.writable | SMRAM.baseSegment
        if old & SMRAM.locked != 0 {
            new = new & ~SMRAM.open | SMRAM.locked
            if byte & SMRAM.open != 0 { Log.write(.guestErrors, "i440fx: SMRAM is locked, D_OPEN stays clear") }
        }
        if new & SMRAM.open != 0 && new & SMRAM.closed != 0 {
            Log.write(.guestErrors, "i440fx: SMRAM both open and closed")
        }
        setConfig(Register.smram, byte: new)
    }

    public var smramControl: UInt8 { configByte(Register.smram) }
}
