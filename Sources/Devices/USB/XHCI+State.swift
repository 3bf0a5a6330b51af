import Lifecycle

/// The xHCI function: its configuration space (BAR 0 and MSI), the
/// operational registers, the command ring's place, when R/S last went to
/// one (MFINDEX's base), each port's PORTSC and the device on it, the
/// interrupters with their IMOD timers, the device slots with their
/// endpoints' ring state, and the timer that serves devices with data.
/// A port's connection bit must agree with whether a device is on it.
extension XHCI: PCIFunctionState {
    public static let functionStateVersion: UInt32 = 1

    public func saveFunction(into record: inout StateRecord) {
        saveConfigSpace(into: &record)
        record.put("operational", words: [command, status, notificationControl, configure])
        record.put("deviceContextBaseArray", deviceContextBaseArray)
        record.put("commandRingDequeue", commandRing.dequeue)
        record.put("commandRingCycle", commandRing.cycle)
        record.put("commandRingRunning", commandRingRunning)
        record.put("runStart", runStart)
        record.put("portStatus", words: portStatus)
        record.put("portsWithData", portsWithData)
        record.put("interrupters", interrupters.map(\.savedState))
        record.put("slots", slots.map(\.savedState))
        for timer in moderationTimers + [serviceTimer!] { record.putTimer(timer, clock: clock) }
        record.put("ports", USBDevice.savedPorts(devices))
    }

    public func prepareFunctionLoad(_ record: StateRecord) throws -> () -> Void {
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: record.name, field: field) }
        let saved = try checkedConfigSpace(record)
        let operational = try record.words("operational", count: 4, as: UInt32.self)
        guard operational[0] & ~Command.kept == 0, operational[2] <= 0xFFFF, operational[3] & ~0x3FF == 0,
              operational[3] & 0xFF <= UInt32(XHCI.maxSlots) else { throw refuse("operational") }
        let contextBase: UInt64 = try record.unsigned("deviceContextBaseArray")
        guard contextBase & 0x3F == 0 else { throw refuse("deviceContextBaseArray") }
        let ring = XHCIRingCursor(dequeue: try record.unsigned("commandRingDequeue"), cycle: try record.bool("commandRingCycle"))
        guard ring.dequeue & 0xF == 0 else { throw refuse("commandRingDequeue") }
        let ringRunning = try record.bool("commandRingRunning")
        let start = try record.signed("runStart")
        guard start <= clock.now else { throw refuse("runStart") }
        // Another device (or none) on a port is another configuration, whatever PORTSC says.
        let loadDevices = try USBDevice.preparePortsLoad(devices, try record.records("ports"), controller: record.name)
        let ports = try record.words("portStatus", count: XHCI.portCount, as: UInt32.self)
        guard zip(ports, devices).allSatisfy({ ($0 & PortStatus.connected != 0) == ($1 != nil) }) else { throw refuse("portStatus") }
        let withData: UInt32 = try record.unsigned("portsWithData")
        guard withData >> XHCI.portCount == 0 else { throw refuse("portsWithData") }
        let now = clock.now
        let loadedInterrupters = try record.records("interrupters", count: XHCI.interrupterCount).map {
            try XHCIInterrupter.loaded(from: $0, now: now)
        }
        let loadedSlots = try record.records("slots", count: slots.count).map(XHCISlot.loaded)
        let timers = try (moderationTimers + [serviceTimer!]).map { ($0, try record.savedTimer($0)) }
        return { [unowned self] in
            apply(saved)
            (command, status, notificationControl, configure) = (operational[0], operational[1], operational[2], operational[3])
            deviceContextBaseArray = contextBase
            commandRing = ring
            commandRingRunning = ringRunning
            runStart = start
            portStatus = ports
            portsWithData = withData
            interrupters = loadedInterrupters
            slots = loadedSlots
            for load in loadDevices { load() }
            for (timer, remaining) in timers { StateRecord.arm(timer, remaining: remaining, clock: clock, scheduler: scheduler) }
            updateInterruptLine()
        }
    }
}
