import Lifecycle
import Memory
import XCTest
@testable import Devices

/// The standard VGA saved in a text mode with a palette write half done and
/// the attribute flip-flop on "data", and again in a Bochs VBE mode, loaded
/// into a fresh adapter: every register reads back alike, video memory is
/// equal, the DAC and the flip-flop go on where they were, and the frame
/// renders the same.
final class VGAStateTests: XCTestCase {
    final class Rig {
        let harness = PortHarness()
        let memory = VideoMemory()
        let vbe: BochsVBE
        let vga: VGA
        let mmio: StandardVGAMMIO
        let renderer: VGARenderer

        init() {
            vbe = BochsVBE(memory: memory)
            vga = VGA(clock: harness.clock, memory: memory, vbe: vbe)
            mmio = StandardVGAMMIO(vga: vga, vbe: vbe, edid: [0x00, 0xFF, 0xFF, 0xFF])
            try! vga.attach(to: harness.bus)
            try! vbe.attach(to: harness.bus)
            renderer = VGARenderer(vga: vga, clock: harness.clock)
        }

        func indexed(_ index: UInt16, _ data: UInt16, count: Int) -> [UInt8] {
            let saved = harness.inb(index)
            defer { harness.out(index, saved) }
            return (0..<count).flatMap { i -> [UInt8] in harness.out(index, UInt8(i)); return [harness.inb(data)] }
        }

        /// The register files as a guest reads them (each index restored after).
        var registers: [UInt8] {
            indexed(0x3C4, 0x3C5, count: 5) + indexed(0x3CE, 0x3CF, count: 9) + indexed(0x3D4, 0x3D5, count: 25)
                + [0x3CC, 0x3CA, 0x3C6, 0x3C7, 0x3C8, 0x3C0].map { harness.inb($0) }
        }
        var vbeRegisters: [UInt16] {
            (0..<11).map { i -> UInt16 in harness.outw(0x1CE, UInt16(i)); return harness.inw(0x1CF) }
        }
        var vram: [UInt8] { Array(UnsafeRawBufferPointer(start: memory.base, count: VideoMemory.size)) }
    }

    /// Text mode 3 as SeaVGABIOS leaves it, a few characters, and a DAC
    /// write stopped after red and green of entry 7.
    func textMode(_ rig: Rig) {
        let h = rig.harness
        h.out(0x3C2, 0x67)
        for (index, value) in [(1, 0x00), (2, 0x03), (3, 0x00), (4, 0x02)] as [(UInt8, UInt8)] { h.out(0x3C4, index); h.out(0x3C5, value) }
        for (index, value) in [(5, 0x10), (6, 0x0E), (8, 0xFF)] as [(UInt8, UInt8)] { h.out(0x3CE, index); h.out(0x3CF, value) }
        for (index, value) in [(0x09, 0x4F), (0x0A, 0x0D), (0x0C, 0x01), (0x0D, 0x40), (0x0E, 0x02), (0x0F, 0x10), (0x12, 0x8F)]
            as [(UInt8, UInt8)] { h.out(0x3D4, index); h.out(0x3D5, value) }
        for (offset, byte) in Array("PCEmu saved".utf8).enumerated() {
            rig.vga.window.write(offset: 0x18000 + UInt32(offset) * 2, value: UInt32(byte), size: .byte)
            rig.vga.window.write(offset: 0x18000 + UInt32(offset) * 2 + 1, value: 0x1F, size: .byte)
        }
        _ = h.inb(0x3DA)
        h.out(0x3C0, 0x20)  // display on
        h.out(0x3C0, 0x01)  // index 1 ... the data byte comes after the save
        h.out(0x3C8, 7)
        h.out(0x3C9, 0x2A)
        h.out(0x3C9, 0x15)
    }

    func testRoundTripKeepsRegistersMemoryAndTheDACPosition() throws {
        let rig = Rig()
        textMode(rig)
        rig.mmio.write(offset: 0x604, value: 0xBEBE_BEBE, size: .dword)
        let records = try [rig.vga.savedState(), rig.vbe.savedState(), rig.mmio.savedState()]
            .map { try StateRecordCodec.decode(StateRecordCodec.encode($0)) }
        let copy = Rig()
        try copy.vga.loadState(records[0])
        try copy.vbe.loadState(records[1])
        try copy.mmio.loadState(records[2])
        XCTAssertEqual(copy.vga.savedState(), rig.vga.savedState())
        XCTAssertEqual(copy.registers, rig.registers)
        XCTAssertTrue(copy.vram == rig.vram)
        XCTAssertEqual(copy.mmio.byteOrder, rig.mmio.byteOrder)
        for target in [rig, copy] {
            target.harness.out(0x3C9, 0x3F)  // blue of entry 7
            target.harness.out(0x3C0, 0x3F)  // the attribute data byte
        }
        XCTAssertEqual(copy.registers, rig.registers)
        for target in [rig, copy] { target.harness.out(0x3C7, 7) }
        XCTAssertEqual((0..<3).map { _ in copy.harness.inb(0x3C9) }, [0x2A, 0x15, 0x3F])
        XCTAssertEqual((0..<3).map { _ in rig.harness.inb(0x3C9) }, [0x2A, 0x15, 0x3F])
        _ = rig.renderer.update()
        _ = copy.renderer.update()
        let frame = rig.renderer.frame, copied = copy.renderer.frame
        XCTAssertEqual(copied.width, frame.width)
        XCTAssertEqual(copied.height, frame.height)
        XCTAssertGreaterThan(frame.width * frame.height, 0)
        XCTAssertTrue(Array(UnsafeBufferPointer(start: copied.pixels, count: frame.width * frame.height))
                      == Array(UnsafeBufferPointer(start: frame.pixels, count: frame.width * frame.height)), "the same screen")

        // A VBE mode: registers, the linear framebuffer's contents.
        for (index, value) in [(4, 0), (1, 640), (2, 480), (3, 32), (4, 0x41), (9, 5)] as [(UInt16, UInt16)] {
            rig.harness.outw(0x1CE, index)
            rig.harness.outw(0x1CF, value)
        }
        for pixel in 0..<640 * 8 { rig.memory.base.storeBytes(of: UInt32(truncatingIfNeeded: pixel &* 2_654_435_761), toByteOffset: pixel * 4 + 640 * 4 * 5, as: UInt32.self) }
        let vbeCopy = Rig()
        try vbeCopy.vga.loadState(try StateRecordCodec.decode(StateRecordCodec.encode(rig.vga.savedState())))
        try vbeCopy.vbe.loadState(try StateRecordCodec.decode(StateRecordCodec.encode(rig.vbe.savedState())))
        XCTAssertEqual(vbeCopy.vbeRegisters, rig.vbeRegisters)
        XCTAssertTrue(vbeCopy.vram == rig.vram)
        XCTAssertEqual(vbeCopy.vbe.mode, rig.vbe.mode)
    }

    func testADamagedRecordIsRefusedAndChangesNothing() throws {
        let rig = Rig()
        textMode(rig)
        let savedVGA = rig.vga.savedState(), savedVBE = rig.vbe.savedState()
        let target = Rig()
        target.harness.out(0x3C2, 0x63)
        target.memory.base.storeBytes(of: UInt8(0x55), toByteOffset: 100, as: UInt8.self)
        let before = (target.vga.savedState().materialized(), target.vbe.savedState())

        var component = savedVGA
        component.put("dacComponent", 3)
        XCTAssertThrowsError(try target.vga.loadState(component)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "vga", field: "dacComponent"))
        }
        var shortVRAM = savedVGA
        shortVRAM.put("vram", [UInt8](repeating: 0, count: 4096))
        XCTAssertThrowsError(try target.vga.loadState(shortVRAM)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "vga", field: "vram"))
        }
        var depth = savedVBE
        var registers = try savedVBE.words("registers", count: 11, as: UInt16.self)
        registers[3] = 12
        depth.put("registers", words: registers)
        XCTAssertThrowsError(try target.vbe.loadState(depth)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "bochs-vbe", field: "registers"))
        }
        var pastTheEnd = savedVBE
        registers = try savedVBE.words("registers", count: 11, as: UInt16.self)
        (registers[1], registers[2], registers[3], registers[4], registers[6], registers[9]) = (640, 480, 32, 0x41, 640, 0xFFFF)
        pastTheEnd.put("registers", words: registers)
        XCTAssertThrowsError(try target.vbe.loadState(pastTheEnd))
        XCTAssertEqual(target.vga.savedState(), before.0)
        XCTAssertEqual(target.vbe.savedState(), before.1)
    }
}
