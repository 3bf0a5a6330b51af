import Memory
import XCTest
@testable import Devices

/// BAR2 of the standard VGA as Linux's bochs-drm uses it: the EDID at 0x000,
/// the VGA ports at 0x400, the DISPI registers at 0x500, QEMU's extended
/// registers at 0x600; and the PCI function's BAR2 itself.
final class StandardVGAMMIOTests: XCTestCase {
    var harness: PortHarness!
    var memory: VideoMemory!
    var vbe: BochsVBE!
    var vga: VGA!
    var window: StandardVGAMMIO!
    let edid = EDID.block(preferredWidth: 1024, preferredHeight: 768)

    override func setUpWithError() throws {
        harness = PortHarness()
        memory = VideoMemory()
        vbe = BochsVBE(memory: memory)
        vga = VGA(clock: harness.clock, memory: memory, vbe: vbe)
        try vga.attach(to: harness.bus)
        try vbe.attach(to: harness.bus)
        window = StandardVGAMMIO(vga: vga, vbe: vbe, edid: edid)
    }

    func testEDIDReadsFromOffsetZeroInAnyWidth() {
        let bytes = (0..<128).map { UInt8(window.read(offset: UInt32($0), size: .byte)) }
        XCTAssertEqual(bytes, edid, "bochs-drm reads it with readb")
        XCTAssertEqual(window.read(offset: 0, size: .dword), 0xFFFF_FF00, "the header's first four bytes")
        XCTAssertEqual(window.read(offset: 4, size: .word), 0xFFFF)
        XCTAssertEqual(window.read(offset: 127, size: .word), UInt32(edid[127]), "past the block reads zeros")
        XCTAssertEqual(window.read(offset: 0x3FC, size: .dword), 0)
        window.write(offset: 0, value: 0x12345678, size: .dword)
        XCTAssertEqual(window.read(offset: 0, size: .byte), 0, "the EDID is read-only")
    }

    func testNoEDIDReadsZeros() {
        let bare = StandardVGAMMIO(vga: vga, vbe: vbe, edid: [])
        XCTAssertEqual((0..<8).map { bare.read(offset: UInt32($0), size: .byte) }, [0, 0, 0, 0, 0, 0, 0, 0],
                       "no header: bochs-drm falls back to its own modes")
    }

    func testVGAPortsAt0x400() {
        // The DAC through the window, read back through the ports.
        window.write(offset: 0x400 + 0x08, value: 7, size: .byte)  // 0x3C8
        for component in [0x11, 0x22, 0x33] { window.write(offset: 0x400 + 0x09, value: UInt32(component), size: .byte) }
        harness.out(0x3C7, 7)
        XCTAssertEqual([harness.inb(0x3C9), harness.inb(0x3C9), harness.inb(0x3C9)], [0x11, 0x22, 0x33])
        // The sequencer index and data as one 16-bit store, read back through the window.
        window.write(offset: 0x400 + 0x04, value: 0x0F02, size: .word)  // 0x3C4 = 2, 0x3C5 = 0x0F
        harness.out(0x3C4, 2)
        XCTAssertEqual(harness.inb(0x3C5), 0x0F)
        XCTAssertEqual(window.read(offset: 0x400 + 0x05, size: .byte), 0x0F)
        // bochs-drm's blanking: input status 1 resets the flip-flop, then the attribute index.
        _ = window.read(offset: 0x400 + 0x1A, size: .byte)  // 0x3DA
        window.write(offset: 0x400, value: 0x20, size: .byte)
        XCTAssertEqual(harness.inb(0x3C0), 0x20)
    }

    func testDISPIRegistersAt0x500() {
        XCTAssertEqual(window.read(offset: 0x500, size: .word), 0xB0C5, "the ID register")
        XCTAssertEqual(window.read(offset: 0x500 + 2 * 10, size: .word), 256, "16 MiB in 64 KiB units")
        // bochs_hw_setmode's sequence through the window.
        for (register, value) in [(4, 0), (3, 32), (1, 1280), (2, 800), (5, 0), (6, 1280), (8, 0), (9, 0), (4, 0x41)] {
            window.write(offset: 0x500 + UInt32(register) * 2, value: UInt32(value), size: .word)
        }
        XCTAssertEqual(vbe.mode, BochsVBE.Mode(width: 1280, height: 800, bitsPerPixel: 32, pitch: 5120, start: 0))
        harness.outw(0x1CE, 1)
        XCTAssertEqual(harness.inw(0x1CF), 1280, "the ports see the same registers")
        XCTAssertEqual(window.read(offset: 0x500 + 2, size: .word), 1280)
        XCTAssertEqual(window.read(offset: 0x500 + 2 * 11, size: .word), 0, "past the DISPI registers")
    }

    func testExtendedRegistersAt0x600() {
        XCTAssertEqual(window.read(offset: 0x600, size: .dword), 8, "the region's size: bochs-drm needs 4 to 4096")
        XCTAssertEqual(window.read(offset: 0x604, size: .dword), 0x1E1E_1E1E, "little-endian")
        window.write(offset: 0x604, value: 0xBEBE_BEBE, size: .dword)
        XCTAssertEqual(window.read(offset: 0x604, size: .dword), 0xBEBE_BEBE)
        window.write(offset: 0x604, value: 0x1234_5678, size: .dword)
        XCTAssertEqual(window.read(offset: 0x604, size: .dword), 0xBEBE_BEBE, "nonsense is refused")
        window.reset()
        XCTAssertEqual(window.read(offset: 0x604, size: .dword), 0x1E1E_1E1E)
        XCTAssertEqual(window.read(offset: 0x700, size: .dword), 0, "outside every region")
        XCTAssertEqual(window.read(offset: 0xFFC, size: .dword), 0)
    }

    func testPCIFunctionHasA4KiBRegisterBAR() {
        let function = StandardVGAFunction(romImage: nil)
        XCTAssertEqual(function.configRead(offset: 0x18, size: .dword), 0, "BAR2: 32-bit memory, not prefetchable")
        function.configWrite(offset: 0x18, value: 0xFFFF_FFFF, size: .dword)
        XCTAssertEqual(function.configRead(offset: 0x18, size: .dword), 0xFFFF_F000, "4 KiB")
        XCTAssertGreaterThanOrEqual(function.configRead(offset: 0x08, size: .byte), 2, "revision 2: bochs-drm looks for the extended registers")
        let without = StandardVGAFunction(romImage: nil, registerWindow: false)
        without.configWrite(offset: 0x18, value: 0xFFFF_FFFF, size: .dword)
        XCTAssertEqual(without.configRead(offset: 0x18, size: .dword), 0, "mmio=off: no BAR2")
    }
}
