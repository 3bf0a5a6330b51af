import XCTest
import Timing
@testable import Lifecycle

/// A small real device for the registry's tests: a latch with a timer.
private final class Latch: StatefulDevice {
    static let stateVersion: UInt32 = 1
    static let stateName = "latch"
    var value: UInt8 = 0
    var resets = 0
    func reset() { value = 0; resets += 1 }
    func save(into record: inout StateRecord) { record.put("value", value) }
    func load(from record: StateRecord) throws { value = try record.unsigned("value") }
}

private final class Stateless: MachineDevice {
    func reset() {}
}

final class DeviceRegistryTests: XCTestCase {
    func testResetReachesEveryDeviceAndListingNamesThem() {
        let registry = DeviceRegistry()
        let a = Latch(), b = Latch()
        registry.register(a, as: "com1")
        registry.register(b, as: "com2")
        a.value = 7
        registry.resetAll()
        XCTAssertEqual([a.resets, b.resets], [1, 1])
        XCTAssertEqual(a.value, 0)
        XCTAssertEqual(registry.listing, ["com1: Latch", "com2: Latch"])
        XCTAssertTrue(registry.owns(a))
        XCTAssertFalse(registry.owns(Latch()))
    }

    func testMachineRoundTripAndRefusals() throws {
        let registry = DeviceRegistry()
        let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
        let a = Latch()
        registry.register(clock, as: "clock")
        registry.register(a, as: "latch0")
        a.value = 42
        clock.advance(instructions: 10)
        let saved = try StateRecordCodec.decode(StateRecordCodec.encode(try registry.save()))
        a.value = 1
        clock.advance(instructions: 10)
        try registry.load(saved)
        XCTAssertEqual(a.value, 42)
        XCTAssertEqual(clock.now, 10)

        // Another configuration: a device more, or one missing, is refused and nothing changes.
        a.value = 5
        clock.advance(instructions: 10)
        var other = saved
        other.put("latch1", a.savedState())
        XCTAssertThrowsError(try registry.load(other))
        XCTAssertEqual(a.value, 5)
        // A device whose part is wrong: the others are put back as they were.
        var wrong = saved
        var badLatch = a.makeRecord()
        badLatch.put("value", UInt64(300))
        wrong.put("latch0", badLatch)
        XCTAssertThrowsError(try registry.load(wrong)) {
            XCTAssertEqual($0 as? StateRecordError, .outOfRange(record: "latch", field: "value"))
        }
        XCTAssertEqual(a.value, 5)
        XCTAssertEqual(clock.now, 20)

        registry.register(Stateless(), as: "hotplug")
        XCTAssertEqual(registry.devicesWithoutState, ["hotplug"])
        XCTAssertThrowsError(try registry.save())
    }
}
