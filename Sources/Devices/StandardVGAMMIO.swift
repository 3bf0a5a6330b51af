import Memory
import PCEmuSupport

/// BAR2 of QEMU's standard VGA, 4 KiB of registers: the EDID blob at 0x000
/// (up to 0x400), the VGA ports 0x3C0-0x3DF at 0x400, the Bochs DISPI
/// registers at 0x500 (register N's 16 bits at 0x500 + 2N), and QEMU's
/// extended registers at 0x600 (the region's size, then the framebuffer's byte
/// order). Linux's bochs-drm uses this BAR instead of the ports when it is
/// there, and reads the EDID from it.
public final class StandardVGAMMIO: MMIOHandler {
    public static let size: UInt32 = 0x1000

    public enum Region {
        public static let edid: UInt32 = 0x000
        public static let edidSize: UInt32 = 0x400
        public static let vgaPorts: UInt32 = 0x400
        /// The VGA ports it covers: 0x3C0-0x3DF.
        public static let vgaPortBase: UInt16 = 0x3C0
        public static let vgaPortsSize: UInt32 = 0x20
        public static let dispi: UInt32 = 0x500
        public static let dispiSize: UInt32 = 0x0B * 2
        public static let extended: UInt32 = 0x600
        public static let extendedSize: UInt32 = 8
    }

    public enum Extended {
        /// Reads as the extended region's size.
        public static let size: UInt32 = 0x0
        /// The framebuffer's byte order: written by the driver, read back.
        public static let byteOrder: UInt32 = 0x4
        public static let littleEndian: UInt32 = 0x1E1E_1E1E
        public static let bigEndian: UInt32 = 0xBEBE_BEBE
    }

    private let vga: VGA
    private let vbe: BochsVBE
    /// The EDID bytes at offset 0; empty with edid=off (the region reads as zeros).
    public internal(set) var edid: [UInt8]
    public internal(set) var byteOrder = Extended.littleEndian

    public init(vga: VGA, vbe: BochsVBE, edid: [UInt8]) {
        precondition(edid.count <= Int(Region.edidSize))
        self.vga = vga
        self.vbe = vbe
        self.edid = edid
        super.init()
    }

    /// A new blob (a new preferred mode); the guest reads it at its next look.
    public func replaceEDID(_ bytes: [UInt8]) {
        precondition(bytes.count <= Int(Region.edidSize))
        edid = bytes
    }

    public func reset() {
        byteOrder = Extended.littleEndian
    }

    public override func read(offset: UInt32, size: AccessSize) -> UInt32 {
        switch offset {
        case Region.edid..<Region.edidSize:
            var value: UInt32 = 0
            for i in 0..<UInt32(size.rawValue) where Int(offset + i) < edid.count {
                value |= UInt32(edid[Int(offset + i)]) << (8 * i)
            }
            return value
        case Region.vgaPorts..<Region.vgaPorts + Region.vgaPortsSize:
            var value: UInt32 = 0
            for i in 0..<UInt32(size.rawValue) where offset + i < Region.vgaPorts + Region.vgaPortsSize {
                value |= (vga.read(offset: vgaPortOffset(offset + i), size: .byte) & 0xFF) << (8 * i)
            }
            return value
        case Region.dispi..<Region.dispi + Region.dispiSize:
            vbe.write(offset: 0, value: (offset - Region.dispi) >> 1, size: .word)
            return vbe.read(offset: 1, size: .word) & size.mask
        case Region.extended..<Region.extended + Region.extendedSize:
            switch offset - Region.extended {
            case Extended.size: return Region.extendedSize & size.mask
            case Extended.byteOrder: return byteOrder & size.mask
            default: return 0
            }
        default:
            return 0
        }
    }

    public override func write(offset: UInt32, value: UInt32, size: AccessSize) {
        switch offset {
        case Region.vgaPorts..<Region.vgaPorts + Region.vgaPortsSize:
            for i in 0..<UInt32(size.rawValue) where offset + i < Region.vgaPorts + Region.vgaPortsSize {
                vga.write(offset: vgaPortOffset(offset + i), value: (value >> (8 * i)) & 0xFF, size: .byte)
            }
        case Region.dispi..<Region.dispi + Region.dispiSize:
            vbe.write(offset: 0, value: (offset - Region.dispi) >> 1, size: .word)
            vbe.write(offset: 1, value: value & 0xFFFF, size: .word)
        case Region.extended + Extended.byteOrder where size == .dword:
            // Only little-endian framebuffers are drawn; the value is kept for the driver to read back.
            if value != Extended.littleEndian && value != Extended.bigEndian {
                Log.write(.guestErrors, "vga: byte order 0x\(String(value, radix: 16)) refused")
                return
            }
            if value == Extended.bigEndian { Log.write(.unimplemented, "vga: big-endian framebuffer drawn as little-endian") }
            byteOrder = value
        default:
            Log.write(.guestErrors, "vga: write to BAR2 offset 0x\(String(offset, radix: 16)) ignored")
        }
    }

    /// The VGA's own port offset (it sits at 0x3B0) for an offset in the port region.
    private func vgaPortOffset(_ offset: UInt32) -> UInt16 {
        UInt16(offset - Region.vgaPorts) + Region.vgaPortBase - VGA.base
    }
}
