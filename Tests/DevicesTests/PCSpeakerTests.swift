import XCTest
@testable import Devices

final class PCSpeakerTests: XCTestCase {
    func testCounterTwoSquareWaveIsHeardOnlyWithBothPortBBits() {
        let harness = PortHarness()
        let pit = PIT8254(clock: harness.clock, scheduler: harness.scheduler, irq0: .unconnected())
        try! harness.bus.attach(pit, name: "pit", base: 0x40, count: 4)
        let portB = SystemControlPortB(pit: pit, clock: harness.clock)
        try! harness.bus.attach(portB, name: "port-b", base: 0x61, count: 1)
        let speaker = PCSpeaker(pit: pit, portB: portB)
        var captured: [Int16] = []
        let mixer = AudioMixer(sampleRate: 44_100, clock: harness.clock, scheduler: harness.scheduler) { captured.append(contentsOf: $0) }
        mixer.add(speaker)
        mixer.start()
        // What Linux's pcspkr does for a 1000 Hz beep: mode 3, count 1193.
        harness.out(0x43, 0xB6)
        harness.out(0x42, UInt8(1193 & 0xFF))
        harness.out(0x42, UInt8(1193 >> 8))
        harness.out(0x61, 0x01)
        harness.advance(by: 100_000_000)
        XCTAssertTrue(captured.allSatisfy { $0 == 0 }, "gate alone: the speaker data bit is off")
        harness.out(0x61, 0x03)
        XCTAssertEqual(speaker.frequency!, 1_193_182.0 / 1193, accuracy: 0.01)
        captured = []
        harness.advance(by: 1_000_000_000)
        var crossings = 0
        for index in stride(from: 2, to: captured.count, by: 2) where captured[index - 2] < 0 && captured[index] >= 0 {
            crossings += 1
        }
        XCTAssertEqual(crossings, 1000, accuracy: 2)
        XCTAssertEqual(captured.map { abs(Int($0)) }.max(), 8192)
        harness.out(0x61, 0x00)
        captured = []
        harness.advance(by: 50_000_000)
        XCTAssertTrue(captured.allSatisfy { $0 == 0 })
    }
}
