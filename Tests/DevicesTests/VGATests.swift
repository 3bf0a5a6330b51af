import Memory
import XCTest
@testable import Devices

/// The VGA driven through its ports and its 0xA0000 window the way BIOSes,
/// DOS programs and Linux's vgacon drive it; frames checked pixel by pixel.
final class VGATests: XCTestCase {
    var harness: PortHarness!
    var memory: VideoMemory!
    var vbe: BochsVBE!
    var vga: VGA!
    var renderer: VGARenderer!
    /// BAR0's mapping, as the PCI function's BAR puts it.
    var space: AddressSpace!
    static let framebufferBAR: UInt64 = 0xE000_0000

    override func setUpWithError() throws {
        harness = PortHarness()
        memory = VideoMemory()
        vbe = BochsVBE(memory: memory)
        vga = VGA(clock: harness.clock, memory: memory, vbe: vbe)
        try vga.attach(to: harness.bus)
        try vbe.attach(to: harness.bus)
        renderer = VGARenderer(vga: vga, clock: harness.clock)
        space = AddressSpace(ram: try GuestRAM(size: 1 << 20))
        try space.map("vga-framebuffer", at: VGATests.framebufferBAR, size: UInt64(VideoMemory.size),
                      kind: .deviceRAM(memory.base, dirtyLog: memory.dirtyLog))
    }

    // MARK: Helpers that read like guest code

    func sequencer(_ index: UInt8, _ value: UInt8) { harness.out(0x3C4, index); harness.out(0x3C5, value) }
    func graphics(_ index: UInt8, _ value: UInt8) { harness.out(0x3CE, index); harness.out(0x3CF, value) }
    func crtc(_ index: UInt8, _ value: UInt8) { harness.out(0x3D4, index); harness.out(0x3D5, value) }
    func attribute(_ index: UInt8, _ value: UInt8) {
        _ = harness.inb(0x3DA)  // the flip-flop to "index"
        harness.out(0x3C0, index)
        harness.out(0x3C0, value)
    }
    func dac(_ index: UInt8, _ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        harness.out(0x3C8, index)
        harness.out(0x3C9, red); harness.out(0x3C9, green); harness.out(0x3C9, blue)
    }
    func poke(_ address: UInt32, _ value: UInt8) {
        vga.window.write(offset: address - 0xA0000, value: UInt32(value), size: .byte)
    }
    /// A little-endian store through BAR0 at a framebuffer offset, as a
    /// device or the CPU's slow path makes it (the page is marked written).
    func framebuffer<T: FixedWidthInteger>(_ offset: Int, _ value: T) {
        for index in 0..<MemoryLayout<T>.size {
            space.write(VGATests.framebufferBAR + UInt64(offset + index), value: UInt32(truncatingIfNeeded: value >> (8 * index)) & 0xFF, size: .byte)
        }
    }
    func peek(_ address: UInt32) -> UInt8 {
        UInt8(vga.window.read(offset: address - 0xA0000, size: .byte))
    }
    func planes(_ planar: Int) -> [UInt8] { (0..<4).map { memory.byte(planar << 2 | $0) } }
    /// Screen on: the attribute index with the palette address source bit.
    func enableDisplay() { _ = harness.inb(0x3DA); harness.out(0x3C0, 0x20) }

    /// Planar graphics as mode 12h sets it: sequential, A0000 64K, all planes.
    func planarMode() {
        harness.out(0x3C2, 0xE3)
        sequencer(2, 0x0F)
        sequencer(4, 0x06)
        graphics(5, 0x00)
        graphics(6, 0x05)
        graphics(8, 0xFF)
    }

    // MARK: Write and read modes

    func testWriteMode0WithSetResetBitMaskAndMapMask() {
        planarMode()
        poke(0xA0000, 0xA5)
        XCTAssertEqual(planes(0), [0xA5, 0xA5, 0xA5, 0xA5], "all planes take the CPU byte")
        sequencer(2, 0x05)  // planes 0 and 2 only
        poke(0xA0001, 0x3C)
        XCTAssertEqual(planes(1), [0x3C, 0, 0x3C, 0])
        sequencer(2, 0x0F)
        graphics(0, 0x09)   // set/reset value: planes 0 and 3 ones
        graphics(1, 0x0F)   // enabled on every plane
        poke(0xA0002, 0x00)
        XCTAssertEqual(planes(2), [0xFF, 0x00, 0x00, 0xFF], "set/reset replaces the CPU data")
        graphics(1, 0x00)
        // The bit mask keeps latched bits: load the latches from address 0 first.
        _ = peek(0xA0000)
        graphics(8, 0x0F)
        poke(0xA0000, 0xFF)
        XCTAssertEqual(planes(0), [0xAF, 0xAF, 0xAF, 0xAF])
    }

    func testRotateAndLogicalFunctions() {
        planarMode()
        poke(0xA0010, 0xF0)
        _ = peek(0xA0010)
        graphics(3, 0x18 | 4)  // XOR with the latches, rotate right by 4
        poke(0xA0010, 0xF0)    // rotated: 0x0F; XOR 0xF0 = 0xFF
        XCTAssertEqual(planes(0x10), [0xFF, 0xFF, 0xFF, 0xFF])
        graphics(3, 0x08)      // AND
        _ = peek(0xA0010)
        poke(0xA0010, 0x81)
        XCTAssertEqual(planes(0x10), [0x81, 0x81, 0x81, 0x81])
        graphics(3, 0x10)      // OR
        _ = peek(0xA0010)
        poke(0xA0010, 0x02)
        XCTAssertEqual(planes(0x10), [0x83, 0x83, 0x83, 0x83])
    }

    func testWriteMode1CopiesTheLatches() {
        planarMode()
        sequencer(2, 0x01); poke(0xA0100, 0x11)
        sequencer(2, 0x02); poke(0xA0100, 0x22)
        sequencer(2, 0x04); poke(0xA0100, 0x33)
        sequencer(2, 0x08); poke(0xA0100, 0x44)
        sequencer(2, 0x0F)
        graphics(5, 0x01)
        _ = peek(0xA0100)
        poke(0xA0200, 0x00)  // the CPU byte does not matter
        XCTAssertEqual(planes(0x200), [0x11, 0x22, 0x33, 0x44])
    }

    func testWriteMode2And3() {
        planarMode()
        graphics(5, 0x02)
        graphics(8, 0xF0)
        _ = peek(0xA0000)  // latches all zero
        poke(0xA0000, 0x06)  // colour 6: planes 1 and 2
        XCTAssertEqual(planes(0), [0x00, 0xF0, 0xF0, 0x00])
        graphics(5, 0x03)
        graphics(8, 0xFF)
        graphics(0, 0x0C)    // colour 12: planes 2 and 3
        _ = peek(0xA0001)
        poke(0xA0001, 0x81)  // the rotated CPU byte is the bit mask
        XCTAssertEqual(planes(1), [0x00, 0x00, 0x81, 0x81])
    }

    func testReadMode0SelectsAPlaneAndReadMode1ComparesColours() {
        planarMode()
        sequencer(2, 0x01); poke(0xA0000, 0x0F)
        sequencer(2, 0x02); poke(0xA0000, 0x33)
        sequencer(2, 0x04); poke(0xA0000, 0x55)
        sequencer(2, 0x08); poke(0xA0000, 0xFF)
        for plane in 0..<4 {
            graphics(4, UInt8(plane))
            XCTAssertEqual(peek(0xA0000), [0x0F, 0x33, 0x55, 0xFF][plane])
        }
        graphics(5, 0x08)   // read mode 1
        graphics(7, 0x0F)   // every plane counts
        graphics(2, 0x0F)   // colour 15
        // Pixels of colour 15: bits set in all four planes.
        XCTAssertEqual(peek(0xA0000), 0x0F & 0x33 & 0x55 & 0xFF)
        graphics(7, 0x01)   // only plane 0 counts
        graphics(2, 0x01)
        XCTAssertEqual(peek(0xA0000), 0x0F)
    }

    func testChain4MapsByteAddressesToPlanes() {
        harness.out(0x3C2, 0x63)
        sequencer(2, 0x0F)
        sequencer(4, 0x0E)  // chain-4
        graphics(5, 0x40)
        graphics(6, 0x05)
        for offset in 0..<8 { poke(0xA0000 + UInt32(offset), UInt8(0x10 + offset)) }
        XCTAssertEqual(planes(0), [0x10, 0x11, 0x12, 0x13])
        XCTAssertEqual(planes(1), [0x14, 0x15, 0x16, 0x17])
        XCTAssertEqual(peek(0xA0005), 0x15)
        sequencer(2, 0x01)  // the map mask still gates planes
        poke(0xA0009, 0xEE)
        XCTAssertEqual(peek(0xA0009), 0x00)
    }

    func testOddEvenPutsCharactersAndAttributesInPlanes0And1() {
        textMode()
        poke(0xB8000, 0x41)
        poke(0xB8001, 0x1F)
        poke(0xB8002, 0x42)
        XCTAssertEqual(Array(planes(0)[0..<2]), [0x41, 0x1F])
        XCTAssertEqual(planes(1)[0], 0x42)
        XCTAssertEqual(peek(0xB8001), 0x1F)
        XCTAssertEqual(peek(0xA0000), 0xFF, "the text map leaves 0xA0000 undecoded")
    }

    // MARK: Registers

    func testDACIndexesAutoIncrementAndReportTheirState() {
        dac(5, 1, 2, 3)
        harness.out(0x3C9, 4); harness.out(0x3C9, 5); harness.out(0x3C9, 0x7F)  // entry 6, masked to 6 bits
        XCTAssertEqual(harness.inb(0x3C8), 7)
        XCTAssertEqual(harness.inb(0x3C7), 0, "write mode")
        harness.out(0x3C7, 5)
        XCTAssertEqual(harness.inb(0x3C7), 3, "read mode")
        XCTAssertEqual((0..<6).map { _ in harness.inb(0x3C9) }, [1, 2, 3, 4, 5, 0x3F])
    }

    func testAttributeFlipFlopIsResetByInputStatus1() {
        harness.out(0x3C2, 0x01)
        _ = harness.inb(0x3DA)
        harness.out(0x3C0, 0x31)   // index 0x11 with the display on
        harness.out(0x3C0, 0x2A)   // overscan
        XCTAssertEqual(harness.inb(0x3C0), 0x31)
        XCTAssertEqual(harness.inb(0x3C1), 0x2A)
        harness.out(0x3C0, 0x12)   // an index again (the flip-flop toggled back)
        _ = harness.inb(0x3DA)
        harness.out(0x3C0, 0x14)   // reset: this is an index too
        harness.out(0x3C0, 0x05)
        XCTAssertEqual(vga.attribute[0x14], 0x05)
        XCTAssertEqual(vga.attribute[0x12], 0x00)
    }

    func testInputStatus1ShowsVerticalRetraceOncePerFrame() {
        harness.out(0x3C2, 0x01)
        var sawRetrace = false, sawActive = false
        for _ in 0..<400 {
            harness.clock.advance(instructions: 50_000)
            let status = harness.inb(0x3DA)
            if status & 0x08 != 0 { sawRetrace = true; XCTAssertEqual(status & 0x01, 0x01) } else { sawActive = true }
        }
        XCTAssertTrue(sawRetrace && sawActive)
    }

    func testCRTCPortsFollowMiscOutputAndProtectBit() {
        harness.out(0x3C2, 0x00)   // monochrome: CRTC at 0x3B4
        harness.out(0x3B4, 0x0C); harness.out(0x3B5, 0x12)
        XCTAssertEqual(harness.inb(0x3D5), 0xFF, "the colour ports are off")
        harness.out(0x3C2, 0x01)
        harness.out(0x3D4, 0x0C)
        XCTAssertEqual(harness.inb(0x3D5), 0x12)
        crtc(0x11, 0x80)           // protect 0-7
        crtc(0x01, 0x4F)
        XCTAssertEqual(vga.crtc[1], 0)
    }

    // MARK: Rendering

    /// Mode 3 as the BIOS leaves it: 80x25, 9-dot characters 16 lines high.
    func textMode(rows50: Bool = false) {
        harness.out(0x3C2, 0x67)
        sequencer(1, 0x00); sequencer(2, 0x03); sequencer(3, 0x00); sequencer(4, 0x02)
        graphics(4, 0x00); graphics(5, 0x10); graphics(6, 0x0E); graphics(8, 0xFF)
        crtc(0x11, 0x0E)
        crtc(0x01, 0x4F); crtc(0x07, 0x1F); crtc(0x09, rows50 ? 0x47 : 0x4F); crtc(0x12, 0x8F); crtc(0x13, 0x28)
        crtc(0x0A, 0x0D); crtc(0x0B, 0x0E); crtc(0x0C, 0); crtc(0x0D, 0); crtc(0x0E, 0); crtc(0x0F, 0)
        crtc(0x18, 0xFF)
        for index in 0..<16 { attribute(UInt8(index), UInt8(index)) }
        attribute(0x10, 0x0C); attribute(0x12, 0x0F); attribute(0x14, 0x00)
        enableDisplay()
        dac(0, 0, 0, 0)
        dac(1, 0, 0, 42)
        dac(7, 42, 42, 42)
        dac(15, 63, 63, 63)
    }

    /// Writes a glyph into plane 2 the way the BIOS loads fonts.
    func loadGlyph(_ character: Int, _ rows: [UInt8]) {
        sequencer(2, 0x04); sequencer(4, 0x06)
        graphics(4, 0x02); graphics(5, 0x00); graphics(6, 0x04)
        for (line, bits) in rows.enumerated() { poke(0xA0000 + UInt32(character * 32 + line), bits) }
        sequencer(2, 0x03); sequencer(4, 0x02)
        graphics(4, 0x00); graphics(5, 0x10); graphics(6, 0x0E)
    }

    func testTextModeDrawsGlyphsFromPlane2WithAttributeColours() {
        textMode()
        let glyph: [UInt8] = [0x80, 0x40, 0x20, 0x10, 0x08, 0x04, 0x02, 0x01] + [UInt8](repeating: 0xFF, count: 8)
        loadGlyph(0x41, glyph)
        poke(0xB8000 + 2 * 81, 0x41)  // row 1, column 1
        poke(0xB8000 + 2 * 81 + 1, 0x1F)  // white on blue
        crtc(0x0A, 0x20)  // no cursor
        XCTAssertTrue(renderer.update())
        let frame = renderer.frame
        XCTAssertEqual(frame.width, 720)
        XCTAssertEqual(frame.height, 400)
        let white: UInt32 = 0xFFFFFF, blue: UInt32 = 0x0000A8  // 6-bit 42 widened as QEMU does
        for line in 0..<16 {
            for x in 0..<9 {
                let expected: UInt32
                if line < 8 { expected = x == line ? white : blue } else { expected = x < 8 ? white : blue }
                XCTAssertEqual(frame.pixel(x: 9 + x, y: 16 + line), expected, "line \(line) x \(x)")
            }
        }
        XCTAssertEqual(frame.pixel(x: 0, y: 0), 0, "space in black elsewhere")
    }

    func testTextMode80x50AndStartAddressAndCursor() {
        textMode(rows50: true)
        loadGlyph(0x42, [UInt8](repeating: 0xFF, count: 8))
        poke(0xB8000 + 2 * 80, 0x42); poke(0xB8000 + 2 * 80 + 1, 0x07)
        crtc(0x0D, 80)  // start one row down: the 'B' is on the first row now
        crtc(0x0A, 0x00); crtc(0x0B, 0x07)
        crtc(0x0F, 80 + 5)  // the cursor under column 5 of the first row shown
        poke(0xB8000 + 2 * 85 + 1, 0x07)
        harness.clock.advance(instructions: VGARenderer.cursorBlinkPeriod)  // cursor phase on
        renderer.update()
        XCTAssertEqual(renderer.frame.height, 400)
        XCTAssertEqual(renderer.frame.pixel(x: 3, y: 3), 0xA8A8A8, "the glyph, 8 lines high")
        XCTAssertEqual(renderer.frame.pixel(x: 3, y: 9), 0)
        XCTAssertEqual(renderer.frame.pixel(x: 5 * 9 + 2, y: 4), 0xA8A8A8, "the cursor block")
    }

    func testFortyColumnTextDoublesEachDot() {
        textMode()
        sequencer(1, 0x08)  // half dot clock
        crtc(0x01, 0x27)    // 40 columns
        crtc(0x13, 0x14)
        crtc(0x0A, 0x20)
        loadGlyph(0x41, [0xC0] + [UInt8](repeating: 0, count: 15))
        poke(0xB8000 + 2, 0x41); poke(0xB8000 + 3, 0x0F)
        renderer.update()
        XCTAssertEqual(renderer.frame.width, 640)
        XCTAssertEqual((16..<22).map { renderer.frame.pixel(x: $0, y: 0) }, [0xFFFFFF, 0xFFFFFF, 0xFFFFFF, 0xFFFFFF, 0, 0])
    }

    func testUnchangedScreenIsNotRedrawnAndAWriteIs() {
        textMode()
        crtc(0x0A, 0x20)
        XCTAssertTrue(renderer.update())
        XCTAssertFalse(renderer.update(), "nothing written, nothing drawn")
        poke(0xB8000, 0x41)
        XCTAssertTrue(renderer.update())
    }

    /// A blink of the cursor alone redraws its cell only, and the frame is
    /// still what a whole redraw gives; blinking characters on the screen
    /// bring back whole redraws at the text blink's rate.
    func testCursorBlinkRedrawsItsCellAndBlinkingTextTheScreen() {
        textMode()
        loadGlyph(0x41, [UInt8](repeating: 0xFF, count: 16))
        poke(0xB8000, 0x41); poke(0xB8001, 0x07)
        poke(0xB8007, 0x07)  // the cursor's cell: grey on black
        crtc(0x0F, 3)
        harness.clock.advance(instructions: VGARenderer.cursorBlinkPeriod)  // cursor on
        XCTAssertTrue(renderer.update())
        XCTAssertEqual(renderer.frame.pixel(x: 3 * 9 + 2, y: 13), 0xA8A8A8, "the cursor's lines")
        func sameAsWholeRedraw() -> Bool {
            let whole = VGARenderer(vga: vga, clock: harness.clock)
            whole.update()
            let count = whole.frame.width * whole.frame.height
            return whole.frame.width == renderer.frame.width
                && (0..<count).allSatisfy { whole.frame.pixels[$0] == renderer.frame.pixels[$0] }
        }
        harness.clock.advance(instructions: VGARenderer.cursorBlinkPeriod)  // cursor off, text blink flips too
        XCTAssertTrue(renderer.update())
        XCTAssertEqual(renderer.frame.pixel(x: 3 * 9 + 2, y: 13), 0, "the cursor went out")
        XCTAssertEqual(renderer.frame.changedLines, 0..<16, "the cursor's text row alone changed")
        XCTAssertTrue(sameAsWholeRedraw())
        XCTAssertFalse(renderer.update(), "no blink, nothing drawn")

        poke(0xB8001, 0x87)  // the 'A' blinks
        XCTAssertTrue(renderer.update())
        XCTAssertEqual(renderer.frame.changedLines, 0..<400, "a write redraws the screen")
        let shown = renderer.frame.pixel(x: 2, y: 2)
        harness.clock.advance(instructions: VGARenderer.textBlinkPeriod)
        XCTAssertTrue(renderer.update())
        XCTAssertNotEqual(renderer.frame.pixel(x: 2, y: 2), shown, "the blinking 'A' changed with no write")
        XCTAssertTrue(sameAsWholeRedraw())
    }

    func testMode13hRendersThroughThePalette() {
        harness.out(0x3C2, 0x63)
        sequencer(1, 0x01); sequencer(2, 0x0F); sequencer(4, 0x0E)
        graphics(5, 0x40); graphics(6, 0x05); graphics(8, 0xFF)
        crtc(0x11, 0x0E)
        crtc(0x01, 0x4F); crtc(0x07, 0x1F); crtc(0x09, 0x41); crtc(0x12, 0x8F); crtc(0x13, 0x28); crtc(0x17, 0xA3); crtc(0x18, 0xFF)
        attribute(0x10, 0x41)
        enableDisplay()
        dac(0x80, 63, 0, 0)
        poke(0xA0000 + 320 * 10 + 7, 0x80)
        renderer.update()
        // As QEMU shows it: 640x400, every pixel twice across and every row twice.
        XCTAssertEqual(renderer.frame.width, 640)
        XCTAssertEqual(renderer.frame.height, 400)
        XCTAssertEqual(renderer.frame.pixel(x: 14, y: 20), 0xFF0000)
        XCTAssertEqual(renderer.frame.pixel(x: 15, y: 21), 0xFF0000)
        XCTAssertEqual(renderer.frame.pixel(x: 16, y: 20), 0)
        XCTAssertEqual(renderer.frame.pixel(x: 14, y: 22), 0)
        // Unchained (mode X): the same byte through plane 3 at planar address 1.
        sequencer(4, 0x06)
        sequencer(2, 0x08)
        poke(0xA0001, 0x80)
        renderer.update()
        XCTAssertEqual(renderer.frame.pixel(x: 14, y: 0), 0xFF0000)
    }

    func testPlanar16ColourModeAndLineCompare() {
        planarMode()
        sequencer(1, 0x01)
        crtc(0x11, 0x0E)
        crtc(0x01, 0x4F); crtc(0x07, 0x3E); crtc(0x09, 0x40); crtc(0x12, 0xDF); crtc(0x13, 0x28); crtc(0x17, 0xE3)
        for index in 0..<16 { attribute(UInt8(index), UInt8(index)) }
        attribute(0x10, 0x01); attribute(0x12, 0x0F)
        enableDisplay()
        dac(9, 0, 0, 63)
        graphics(5, 0x02)
        poke(0xA0000 + 80 * 2, 0x09)  // row 2, first 8 pixels: colour 9
        renderer.update()
        XCTAssertEqual(renderer.frame.width, 640)
        XCTAssertEqual(renderer.frame.height, 480)
        XCTAssertEqual(renderer.frame.pixel(x: 0, y: 2), 0x0000FF)
        XCTAssertEqual(renderer.frame.pixel(x: 8, y: 2), 0)
        // Split screen: start high up, line compare at 99 shows memory from address 0 at row 100.
        crtc(0x0C, 0x40); crtc(0x18, 99); crtc(0x07, 0x2E); crtc(0x09, 0x00)  // line compare bits 8 and 9 clear
        renderer.update()
        XCTAssertEqual(renderer.frame.pixel(x: 0, y: 102), 0x0000FF)
        XCTAssertEqual(renderer.frame.pixel(x: 0, y: 2), 0)
    }

    func testCGAMode4InterleavesRowsAndPacksTwoBitPixels() {
        harness.out(0x3C2, 0x63)
        sequencer(1, 0x09); sequencer(2, 0x03); sequencer(4, 0x02)
        graphics(5, 0x30); graphics(6, 0x0F); graphics(8, 0xFF)
        crtc(0x11, 0x0E)
        crtc(0x01, 0x27); crtc(0x07, 0x1F); crtc(0x09, 0xC1); crtc(0x12, 0x8F); crtc(0x13, 0x14); crtc(0x17, 0xA2)
        for (index, value) in [0x00, 0x13, 0x15, 0x17].enumerated() { attribute(UInt8(index), UInt8(value)) }
        attribute(0x10, 0x01); attribute(0x12, 0x03)
        enableDisplay()
        dac(0x13, 0, 63, 63); dac(0x15, 63, 0, 63); dac(0x17, 63, 63, 63)
        poke(0xB8000, 0b00_01_10_11)           // row 0, pixels 0-3
        poke(0xB8001, 0b11_00_00_00)           // row 0, pixel 4
        poke(0xB8000 + 0x2000, 0b10_00_00_00)  // row 1 lives in the second 8 KiB
        poke(0xB8000 + 80, 0b01_00_00_00)      // row 2 follows row 0
        renderer.update()
        XCTAssertEqual(renderer.frame.width, 640)
        XCTAssertEqual(renderer.frame.height, 400)
        XCTAssertEqual((0..<5).map { renderer.frame.pixel(x: 2 * $0, y: 0) }, [0, 0x00FFFF, 0xFF00FF, 0xFFFFFF, 0xFFFFFF])
        XCTAssertEqual(renderer.frame.pixel(x: 0, y: 2), 0xFF00FF)
        XCTAssertEqual(renderer.frame.pixel(x: 0, y: 4), 0x00FFFF)
    }

    // MARK: Bochs VBE

    func dispi(_ index: UInt16, _ value: UInt16) { harness.outw(0x1CE, index); harness.outw(0x1CF, value) }
    func dispi(_ index: UInt16) -> UInt16 { harness.outw(0x1CE, index); return harness.inw(0x1CF) }

    func testVBELinearModeRendersTheFramebuffer() {
        XCTAssertEqual(dispi(0), 0xB0C5)
        XCTAssertEqual(dispi(10), 256, "16 MiB in 64K units")
        dispi(4, 0x02)  // capabilities
        XCTAssertGreaterThanOrEqual(dispi(1), 1920)
        XCTAssertGreaterThanOrEqual(dispi(2), 1080)
        dispi(4, 0)
        dispi(1, 1024); dispi(2, 768); dispi(3, 32)
        dispi(4, 0x41)  // enabled, linear
        XCTAssertEqual(dispi(6), 1024, "virtual width follows")
        let pixel = (100 * 1024 + 200) * 4
        framebuffer(pixel, UInt32(0x00123456))
        XCTAssertTrue(renderer.update())
        XCTAssertEqual(renderer.frame.width, 1024)
        XCTAssertEqual(renderer.frame.height, 768)
        XCTAssertEqual(renderer.frame.pixel(x: 200, y: 100), 0x123456)
        XCTAssertFalse(renderer.update(), "an unchanged framebuffer is not drawn again")
        // Panning: y offset 100 brings that row to the top.
        dispi(9, 100)
        renderer.update()
        XCTAssertEqual(renderer.frame.pixel(x: 200, y: 0), 0x123456)
    }

    /// Writes through the linear framebuffer mark their pages in the dirty
    /// log: a still screen draws nothing, and one changed pixel redraws its
    /// line only, after any number of still refreshes; the same bytes
    /// written again change nothing.
    func testVBELineWrittenAfterStillFramesIsDrawnAlone() {
        dispi(1, 800); dispi(2, 600); dispi(3, 32); dispi(4, 0x41)
        XCTAssertTrue(renderer.update())
        for _ in 0..<3 { XCTAssertFalse(renderer.update(), "a still screen") }
        framebuffer((321 * 800 + 7) * 4, UInt32(0x00ABCDEF))
        XCTAssertTrue(renderer.update())
        XCTAssertEqual(renderer.frame.pixel(x: 7, y: 321), 0xABCDEF)
        XCTAssertEqual(renderer.frame.changedLines, 321..<322)
        // The same bytes again, then other bytes again: only the second is a change.
        framebuffer((321 * 800 + 7) * 4, UInt32(0x00ABCDEF))
        XCTAssertFalse(renderer.update())
        framebuffer((321 * 800 + 7) * 4, UInt32(0))
        XCTAssertTrue(renderer.update())
        XCTAssertEqual(renderer.frame.pixel(x: 7, y: 321), 0)
        // Another depth over the same bytes is drawn whole from them.
        framebuffer(0, UInt16(0xF800))
        dispi(4, 0); dispi(3, 16); dispi(4, 0xC1)  // 16 bpp, memory kept
        XCTAssertTrue(renderer.update())
        XCTAssertEqual(renderer.frame.pixel(x: 0, y: 0), 0xF80000)
    }

    func testVBEDepthsAndBankedWindow() {
        dispi(1, 640); dispi(2, 480); dispi(3, 16); dispi(4, 0x01)
        dispi(5, 1)  // bank 1: the window shows bytes 64K-128K
        poke(0xA0000, 0x00); poke(0xA0001, 0xF8)  // 0xF800: pure red in 5:6:5, at byte 65536
        renderer.update()
        let x = (65536 / 2) % 640, y = (65536 / 2) / 640
        XCTAssertEqual(renderer.frame.pixel(x: x, y: y), 0xF80000)
        dispi(4, 0); dispi(3, 15); dispi(4, 0x81)  // 15 bpp, memory kept
        renderer.update()
        XCTAssertEqual(renderer.frame.pixel(x: x, y: y), 0xF00000, "0xF800 read as 5:5:5 is red 30 of 31")
        dispi(4, 0); dispi(3, 7)
        XCTAssertEqual(dispi(3), 15, "a depth VBE does not have is refused")
        dispi(3, 24); dispi(4, 0x01)
        framebuffer(0, UInt8(0x33))
        framebuffer(1, UInt8(0x22))
        framebuffer(2, UInt8(0x11))
        renderer.update()
        XCTAssertEqual(renderer.frame.pixel(x: 0, y: 0), 0x112233)
    }

    func testVBEEightBitPaletteMode() {
        dispi(1, 320); dispi(2, 200); dispi(3, 8); dispi(4, 0x21)  // 8-bit DAC
        dac(3, 0x80, 0x40, 0xFF)
        framebuffer(5, UInt8(3))
        renderer.update()
        XCTAssertEqual(renderer.frame.pixel(x: 5, y: 0), 0x8040FF)
    }

    func testPCIFunctionDecodesItsROMOnlyWhenEnabled() {
        let rom = [UInt8](repeating: 0x55, count: 40_000)
        let function = StandardVGAFunction(romImage: rom)
        XCTAssertEqual(function.romSize, 65536)
        var mapped: [UInt32?] = []
        function.romMoved = { _, new in mapped.append(new) }
        function.configWrite(offset: 0x30, value: 0xFFFF_FFFE, size: .dword)
        XCTAssertEqual(function.configRead(offset: 0x30, size: .dword), 0xFFFF_0000, "sizing shows 64 KiB")
        function.configWrite(offset: 0x30, value: 0xFEB0_0001, size: .dword)
        XCTAssertEqual(mapped, [], "memory space is off in the command register")
        function.configWrite(offset: 0x04, value: 0x0002, size: .word)
        XCTAssertEqual(mapped, [0xFEB0_0000])
        function.configWrite(offset: 0x30, value: 0xFEB0_0000, size: .dword)
        XCTAssertEqual(mapped, [0xFEB0_0000, nil])
        XCTAssertEqual(function.configRead(offset: 0x10, size: .dword), 0x8, "BAR0: prefetchable memory")
        function.configWrite(offset: 0x10, value: 0xFFFF_FFFF, size: .dword)
        XCTAssertEqual(function.configRead(offset: 0x10, size: .dword), 0xFF00_0008, "16 MiB")
    }
}
