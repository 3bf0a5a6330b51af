@testable import CPURuntime
@testable import Devices
import Memory
import Timing
import X86State
import XCTest

/// The linear framebuffer's dirty logging through the soft TLB: translated
/// code storing to video memory through the BAR marks the page it wrote,
/// after a refresh took that page back to clean too, and the renderer
/// redraws exactly the lines on written pages.
final class FramebufferDirtyLogTests: XCTestCase {
    /// Where the test maps the framebuffer: low enough for real-mode code
    /// (ES = 0x4000) to reach it, 256 KiB of it, enough for 320x200x32.
    static let framebufferBase: UInt64 = 0x4_0000
    static let framebufferSize: UInt64 = 0x4_0000
    static let pitch = 320 * 4

    let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
    var ram: GuestRAM!
    var cpu: X86CPU!
    var memory: VideoMemory!
    var vbe: BochsVBE!
    var renderer: VGARenderer!

    override func setUpWithError() throws {
        ram = try GuestRAM(size: 1 << 20)
        let space = AddressSpace(ram: ram)
        try space.map("ram", at: 0, size: FramebufferDirtyLogTests.framebufferBase, kind: .ram(offset: 0))
        memory = VideoMemory()
        vbe = BochsVBE(memory: memory)
        let vga = VGA(clock: clock, memory: memory, vbe: vbe)
        try space.map("vga-framebuffer", at: FramebufferDirtyLogTests.framebufferBase, size: FramebufferDirtyLogTests.framebufferSize,
                      kind: .deviceRAM(memory.base, dirtyLog: memory.dirtyLog))
        cpu = X86CPU(addressSpace: space, ports: IOPortBus(), clock: clock)
        renderer = VGARenderer(vga: vga, clock: clock)
        // 320x200, 32 bits per pixel, linear, as Linux's bochs driver sets it.
        for (index, value) in [(1, 320), (2, 200), (3, 32), (4, 0x41)] {
            vbe.write(offset: 0, value: UInt32(index), size: .word)
            vbe.write(offset: 1, value: UInt32(value), size: .word)
        }
    }

    /// Real-mode code at `segment`:0 that stores each pixel at its offset
    /// into the framebuffer (through ES:DI), then jmp $.
    func program(at segment: UInt16, _ stores: [(offset: Int, pixel: UInt32)]) {
        var code: [UInt8] = []
        for store in stores {
            let linear = Int(FramebufferDirtyLogTests.framebufferBase) + store.offset
            let es = (linear >> 4) & 0xF000, di = linear - (es << 4)
            code += [0xB8, UInt8(es & 0xFF), UInt8(es >> 8), 0x8E, 0xC0]  // mov ax, es; mov es, ax
            code += [0xBF, UInt8(di & 0xFF), UInt8(di >> 8)]  // mov di, offset
            code += [0x66, 0xB8] + withUnsafeBytes(of: store.pixel.littleEndian, Array.init)  // mov eax, pixel
            code += [0x26, 0x66, 0x89, 0x05]  // mov es:[di], eax
        }
        code += [0xEB, 0xFE]  // jmp $
        let base = Int(segment) << 4
        for (index, byte) in code.enumerated() { ram.uncheckedPointer(at: base + index).storeBytes(of: byte, as: UInt8.self) }
    }

    func run(segment: UInt16) {
        cpu.loadRealModeSegment(.cs, selector: segment)
        cpu.state.pointee.eip = 0
        XCTAssertEqual(cpu.run(until: clock.now + 10_000), .yielded)
    }

    static func offset(x: Int, y: Int) -> Int { y * pitch + x * 4 }

    /// The supervisor TLB entry's write tag for the framebuffer page holding `offset`.
    func writeTag(_ offset: Int) -> LinearAddress {
        let linear = FramebufferDirtyLogTests.framebufferBase + UInt64(offset)
        return cpu.mmu.entry(linear, mmu: SoftMMU.supervisorIndex).pointee.writeTag
    }

    func testStoresThroughTheTLBMarkPagesAndOnlyTheirLinesAreRedrawn() {
        let first = FramebufferDirtyLogTests.offset(x: 5, y: 10), second = FramebufferDirtyLogTests.offset(x: 6, y: 10)
        let page = first >> 12
        let pageLinear = (FramebufferDirtyLogTests.framebufferBase + UInt64(first)) & ~0xFFF
        // Segment 0x100: one pixel; 0x200: two pixels on the same page (the second a plain hit).
        program(at: 0x100, [(first, 0x0011_2233)])
        program(at: 0x200, [(first, 0x0044_5566), (second, 0x0077_8899)])

        XCTAssertTrue(renderer.update(), "the mode's first frame")
        XCTAssertFalse(memory.dirtyLog.isDirty(page: page), "the refresh cleaned what it showed")
        XCTAssertFalse(renderer.update(), "a still screen")

        run(segment: 0x100)
        XCTAssertTrue(memory.dirtyLog.isDirty(page: page), "the store marked its page")
        XCTAssertEqual(writeTag(first), pageLinear, "the write tag is given back once the page is dirty")

        // A store behind the log's back (no device does this): its clean page is not redrawn.
        let unseen = FramebufferDirtyLogTests.offset(x: 0, y: 150)
        memory.base.storeBytes(of: UInt32(0x00FF_FFFF), toByteOffset: unseen, as: UInt32.self)

        XCTAssertTrue(renderer.update())
        XCTAssertEqual(renderer.frame.pixel(x: 5, y: 10), 0x11_2233)
        XCTAssertEqual(renderer.frame.pixel(x: 0, y: 150), 0, "a clean page's line is not drawn")
        // Line 10 is in the page with lines 9-12 (1280 bytes a line).
        XCTAssertEqual(renderer.frame.changedLines, 10..<11, "only the changed line of the written page")
        XCTAssertFalse(memory.dirtyLog.isDirty(page: page))
        XCTAssertEqual(writeTag(first), pageLinear | TLBEntry.notDirty, "the refresh withdrew the fast write path")

        // After the refresh: the first store takes the slow path and marks the page, the next is a hit.
        run(segment: 0x200)
        XCTAssertTrue(memory.dirtyLog.isDirty(page: page))
        XCTAssertEqual(writeTag(first), pageLinear)
        XCTAssertTrue(renderer.update())
        XCTAssertEqual(renderer.frame.pixel(x: 5, y: 10), 0x44_5566)
        XCTAssertEqual(renderer.frame.pixel(x: 6, y: 10), 0x77_8899)
        XCTAssertEqual(renderer.frame.pixel(x: 0, y: 150), 0)
        XCTAssertFalse(renderer.update(), "nothing written since")
    }

    /// A guest storing to a page that is not shown keeps its fast path: the
    /// refresh cleans only what the frame shows.
    func testPagesOutsideTheFrameStayDirty() {
        let beyond = 200 * FramebufferDirtyLogTests.pitch + 4096  // past the 320x200 frame
        program(at: 0x100, [(beyond, 1)])
        renderer.update()
        run(segment: 0x100)
        let pageLinear = (FramebufferDirtyLogTests.framebufferBase + UInt64(beyond)) & ~0xFFF
        XCTAssertEqual(writeTag(beyond), pageLinear)
        XCTAssertFalse(renderer.update())
        XCTAssertTrue(memory.dirtyLog.isDirty(page: beyond >> 12))
        XCTAssertEqual(writeTag(beyond), pageLinear, "not withdrawn: the frame does not show the page")
    }
}
