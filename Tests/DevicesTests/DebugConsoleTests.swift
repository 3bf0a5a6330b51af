import XCTest
@testable import Devices

final class DebugConsoleTests: XCTestCase {
    func testBytesReachTheBackendAndReadsAreE9() throws {
        let harness = PortHarness()
        let backend = RecordingBackend()
        let seabios = DebugConsole(backend: backend)
        let bochs = DebugConsole(backend: backend)
        try harness.bus.attach(seabios, name: "debugcon", base: DebugConsole.seaBIOSPort, count: 1)
        try harness.bus.attach(bochs, name: "e9", base: DebugConsole.bochsPort, count: 1)
        for byte in Array("SeaBIOS\n".utf8) { harness.out(0x402, byte) }
        harness.out(0xE9, UInt8(ascii: "!"))
        XCTAssertEqual(String(decoding: backend.bytes, as: UTF8.self), "SeaBIOS\n!")
        XCTAssertEqual(harness.inb(0xE9), 0xE9)
        XCTAssertEqual(harness.inb(0x402), 0xE9)
        // A word write is two bytes at consecutive ports: only the first is the console.
        harness.bus.write(0xE9, value: 0x0A41, size: .word)
        XCTAssertEqual(backend.bytes.last, 0x41)
    }

    func testNoBackendIsHarmless() {
        let console = DebugConsole()
        console.write(offset: 0, value: 0x41, size: .byte)
        XCTAssertEqual(console.read(offset: 0, size: .byte), 0xE9)
    }
}
