import Lifecycle

/// The PIIX3 UHCI function: its configuration space (BAR 4 placed where it
/// says, the legacy-support register), the I/O registers, the frame count
/// (the guest time frame `originFrame` started and the next frame to run),
/// the interrupt causes waiting for the frame's end, the frame timer and
/// the idle timer, each port's status and the device on it. A record with
/// another device (or none) on a port is from another configuration.
extension UHCI: PCIFunctionState {
    public static let functionStateVersion: UInt32 = 1

    public func saveFunction(into record: inout StateRecord) {
        saveConfigSpace(into: &record)
        record.put("command", command)
        record.put("status", status)
        record.put("interruptEnable", interruptEnable)
        record.put("stoppedFrameNumber", stoppedFrameNumber)
        record.put("frameListBase", frameListBase)
        record.put("startOfFrame", startOfFrame)
        record.put("portStatus", words: portStatus)
        record.put("originTime", originTime)
        record.put("originFrame", originFrame)
        record.put("nextFrame", nextFrame)
        record.put("quietFrames", quietFrames)
        record.put("completionPending", completionPending)
        record.put("shortPacketPending", shortPacketPending)
        record.putTimer(frameTimer, clock: clock)
        record.put("idleArmed", idleTimer.isPending)
        record.put("idleRemaining", idleTimer.isPending ? idleTimer.deadline &- clock.now : 0)
        record.put("ports", USBDevice.savedPorts(devices))
    }

    public func prepareFunctionLoad(_ record: StateRecord) throws -> () -> Void {
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: record.name, field: field) }
        func masked(_ field: String, _ allowed: UInt16) throws -> UInt16 {
            let value: UInt16 = try record.unsigned(field)
            guard value & ~allowed == 0 else { throw refuse(field) }
            return value
        }
        let saved = try checkedConfigSpace(record)
        let loadedCommand = try masked("command", Command.writable | Command.globalReset)
        let loadedStatus = try masked("status", 0x3F)
        let enable = try masked("interruptEnable", InterruptEnable.writable)
        let stopped = try masked("stoppedFrameNumber", 0x7FF)
        let base: UInt32 = try record.unsigned("frameListBase")
        guard base & 0xFFF == 0 else { throw refuse("frameListBase") }
        let sof: UInt8 = try record.unsigned("startOfFrame")
        let ports = try record.words("portStatus", count: UHCI.portCount, as: UInt16.self)
        let portBits = PortStatus.writable | PortStatus.writeOneToClear | PortStatus.connected | PortStatus.alwaysOne | PortStatus.lowSpeed
        guard ports.allSatisfy({ $0 & ~portBits == 0 && $0 & PortStatus.alwaysOne != 0 }) else { throw refuse("portStatus") }
        let loadedOriginTime = try record.signed("originTime")
        guard loadedOriginTime <= clock.now else { throw refuse("originTime") }
        let loadedOriginFrame = try record.signed("originFrame"), loadedNextFrame = try record.signed("nextFrame")
        guard loadedOriginFrame >= 0, loadedNextFrame >= loadedOriginFrame else { throw refuse("nextFrame") }
        let quiet = try record.int("quietFrames", in: 0...Int.max)
        let completion = try record.bool("completionPending"), shortPacket = try record.bool("shortPacketPending")
        let frame = try record.savedTimer(frameTimer)
        let idleArmed = try record.bool("idleArmed"), idleRemaining = try record.signed("idleRemaining")
        let loadDevices = try USBDevice.preparePortsLoad(devices, try record.records("ports"), controller: record.name)
        return { [unowned self] in
            apply(saved)
            command = loadedCommand
            status = loadedStatus
            interruptEnable = enable
            stoppedFrameNumber = stopped
            frameListBase = base
            startOfFrame = sof
            portStatus = ports
            originTime = loadedOriginTime
            originFrame = loadedOriginFrame
            nextFrame = loadedNextFrame
            quietFrames = quiet
            completionPending = completion
            shortPacketPending = shortPacket
            for load in loadDevices { load() }
            StateRecord.arm(frameTimer, remaining: frame, clock: clock, scheduler: scheduler)
            if idleArmed { idleTimer.schedule(at: clock.now &+ idleRemaining) } else { idleTimer.cancel() }
            updateInterrupt()
        }
    }
}
