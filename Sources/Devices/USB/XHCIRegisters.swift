import Memory
import PCEmuSupport

/// The register window, laid out as QEMU lays it out: capability registers
/// at 0 (with two Supported Protocol capabilities at 0x20), operational
/// registers at 0x40 and the port register sets at 0x440, runtime registers
/// at 0x1000, doorbells at 0x2000. Registers are dwords; a narrower access
/// reads its part of the dword and writes its bytes with the others zero.
extension XHCI {
    enum Offset {
        static let capabilityLength: UInt32 = 0x40
        static let operational: UInt32 = 0x40
        static let ports: UInt32 = operational + 0x400
        static let portStride: UInt32 = 0x10
        static let runtime: UInt32 = 0x1000
        static let interrupters: UInt32 = runtime + 0x20
        static let interrupterStride: UInt32 = 0x20
        static let doorbells: UInt32 = 0x2000
        static let extendedCapabilities: UInt32 = 0x20
    }

    enum Capability {
        static let lengthAndVersion: UInt32 = 0x00
        static let structural1: UInt32 = 0x04
        static let structural2: UInt32 = 0x08
        static let structural3: UInt32 = 0x0C
        static let capability1: UInt32 = 0x10
        static let doorbellOffset: UInt32 = 0x14
        static let runtimeOffset: UInt32 = 0x18
        static let capability2: UInt32 = 0x1C
        /// xHCI 1.0.
        static let interfaceVersion: UInt32 = 0x0100
        /// HCCPARAMS1: 64-bit addressing; xECP (in dwords) at 0x20.
        static let addressing64: UInt32 = 1 << 0
    }

    enum Operational {
        static let command: UInt32 = 0x00
        static let status: UInt32 = 0x04
        static let pageSize: UInt32 = 0x08
        static let notificationControl: UInt32 = 0x14
        static let commandRingLow: UInt32 = 0x18
        static let commandRingHigh: UInt32 = 0x1C
        static let contextBaseArrayLow: UInt32 = 0x30
        static let contextBaseArrayHigh: UInt32 = 0x34
        static let configure: UInt32 = 0x38
        /// 4 KiB pages only.
        static let pageSize4K: UInt32 = 1
    }

    /// USBCMD bits.
    public enum Command {
        public static let runStop: UInt32 = 1 << 0
        public static let hostControllerReset: UInt32 = 1 << 1
        public static let interruptEnable: UInt32 = 1 << 2
        public static let hostSystemErrorEnable: UInt32 = 1 << 3
        public static let lightReset: UInt32 = 1 << 7
        public static let saveState: UInt32 = 1 << 8
        public static let restoreState: UInt32 = 1 << 9
        public static let wrapEventEnable: UInt32 = 1 << 10
        /// Bits that hold what the guest wrote (the others are actions reading zero).
        static let kept: UInt32 = runStop | interruptEnable | hostSystemErrorEnable | wrapEventEnable | 1 << 11
    }

    /// USBSTS bits.
    public enum Status {
        public static let halted: UInt32 = 1 << 0
        public static let hostSystemError: UInt32 = 1 << 2
        public static let eventInterrupt: UInt32 = 1 << 3
        public static let portChange: UInt32 = 1 << 4
        public static let saveRestoreError: UInt32 = 1 << 10
        public static let notReady: UInt32 = 1 << 11
        public static let controllerError: UInt32 = 1 << 12
        static let writeOneToClear: UInt32 = hostSystemError | eventInterrupt | portChange | saveRestoreError
    }

    /// CRCR bits.
    enum CommandRingControl {
        static let cycleState: UInt32 = 1 << 0
        static let stop: UInt32 = 1 << 1
        static let abort: UInt32 = 1 << 2
        static let running: UInt32 = 1 << 3
        static let pointerMask: UInt64 = ~0x3F
    }

    enum InterrupterRegister {
        static let management: UInt32 = 0x00
        static let moderation: UInt32 = 0x04
        static let tableSize: UInt32 = 0x08
        static let tableBaseLow: UInt32 = 0x10
        static let tableBaseHigh: UInt32 = 0x14
        static let dequeueLow: UInt32 = 0x18
        static let dequeueHigh: UInt32 = 0x1C
    }

    public enum InterrupterManagement {
        public static let pending: UInt32 = 1 << 0
        public static let enable: UInt32 = 1 << 1
    }

    enum EventRingDequeue {
        static let segmentIndexMask: UInt64 = 0x7
        static let handlerBusy: UInt64 = 1 << 3
        static let pointerMask: UInt64 = ~0xF
    }

    // MARK: Access

    func read(offset: UInt32, size: AccessSize) -> UInt32 {
        let shift = (offset & 3) * 8
        let value = readRegister(offset & ~3) >> shift
        return size == .dword ? value : value & size.mask
    }

    func write(offset: UInt32, value: UInt32, size: AccessSize) {
        let shift = (offset & 3) * 8
        let dword = size == .dword ? value : (value & size.mask) << shift
        work { writeRegister(offset & ~3, dword) }
    }

    func readRegister(_ offset: UInt32) -> UInt32 {
        switch offset {
        case 0..<Offset.operational: return readCapability(offset)
        case Offset.operational..<Offset.ports: return readOperational(offset - Offset.operational)
        case Offset.ports..<Offset.ports + Offset.portStride * UInt32(XHCI.portCount):
            let port = Int((offset - Offset.ports) / Offset.portStride)
            // PORTSC; the power management, link info and LPM registers read zero.
            return (offset - Offset.ports) % Offset.portStride == 0 ? portStatus[port] : 0
        case Offset.runtime:
            // MFINDEX: 125 µs microframes since R/S, 14 bits.
            return isRunning ? UInt32(truncatingIfNeeded: (clock.now - runStart) / 125_000) & 0x3FFF : 0
        case Offset.interrupters..<Offset.interrupters + Offset.interrupterStride * UInt32(XHCI.interrupterCount):
            let index = Int((offset - Offset.interrupters) / Offset.interrupterStride)
            return readInterrupter(index, (offset - Offset.interrupters) % Offset.interrupterStride)
        default:
            // Doorbells and the gaps read zero.
            return 0
        }
    }

    private func readCapability(_ offset: UInt32) -> UInt32 {
        switch offset {
        case Capability.lengthAndVersion: return Capability.interfaceVersion << 16 | Offset.capabilityLength
        case Capability.structural1:
            return UInt32(XHCI.portCount) << 24 | UInt32(XHCI.interrupterCount) << 8 | UInt32(XHCI.maxSlots)
        case Capability.structural2:
            // Isochronous scheduling threshold 15 (a frame), ERST Max, no scratchpad.
            return XHCI.segmentTableMaxExponent << 4 | 0xF
        case Capability.structural3: return 0
        case Capability.capability1: return (Offset.extendedCapabilities / 4) << 16 | Capability.addressing64
        case Capability.doorbellOffset: return Offset.doorbells
        case Capability.runtimeOffset: return Offset.runtime
        case Capability.capability2: return 0
        // Supported Protocol capabilities: USB 2.0 on ports 1-4, next at +0x10; USB 3.0 on ports 5-8, last.
        case 0x20: return 0x0200_0402
        case 0x24, 0x34: return 0x2042_5355  // "USB "
        case 0x28: return UInt32(XHCI.usb2Ports) << 8 | 1
        case 0x30: return 0x0300_0002
        case 0x38: return UInt32(XHCI.usb3Ports) << 8 | UInt32(XHCI.usb2Ports + 1)
        default: return 0
        }
    }

    private func readOperational(_ offset: UInt32) -> UInt32 {
        switch offset {
        case Operational.command: return command
        case Operational.status: return status
        case Operational.pageSize: return Operational.pageSize4K
        case Operational.notificationControl: return notificationControl
        // CRCR reads zero but for CRR.
        case Operational.commandRingLow: return commandRingRunning ? CommandRingControl.running : 0
        case Operational.contextBaseArrayLow: return UInt32(truncatingIfNeeded: deviceContextBaseArray)
        case Operational.contextBaseArrayHigh: return UInt32(truncatingIfNeeded: deviceContextBaseArray >> 32)
        case Operational.configure: return configure
        default: return 0
        }
    }

    private func readInterrupter(_ index: Int, _ register: UInt32) -> UInt32 {
        let interrupter = interrupters[index]
        switch register {
        case InterrupterRegister.management: return interrupter.management
        case InterrupterRegister.moderation: return interrupter.moderation
        case InterrupterRegister.tableSize: return interrupter.tableSize
        case InterrupterRegister.tableBaseLow: return UInt32(truncatingIfNeeded: interrupter.tableBase)
        case InterrupterRegister.tableBaseHigh: return UInt32(truncatingIfNeeded: interrupter.tableBase >> 32)
        case InterrupterRegister.dequeueLow: return UInt32(truncatingIfNeeded: interrupter.dequeue)
        case InterrupterRegister.dequeueHigh: return UInt32(truncatingIfNeeded: interrupter.dequeue >> 32)
        default: return 0
        }
    }

    private func writeRegister(_ offset: UInt32, _ value: UInt32) {
        switch offset {
        case Offset.operational..<Offset.ports: writeOperational(offset - Offset.operational, value)
        case Offset.ports..<Offset.ports + Offset.portStride * UInt32(XHCI.portCount):
            if (offset - Offset.ports) % Offset.portStride == 0 {
                writePortStatus(Int((offset - Offset.ports) / Offset.portStride), value)
            }
        case Offset.interrupters..<Offset.interrupters + Offset.interrupterStride * UInt32(XHCI.interrupterCount):
            let index = Int((offset - Offset.interrupters) / Offset.interrupterStride)
            writeInterrupter(index, (offset - Offset.interrupters) % Offset.interrupterStride, value)
        case Offset.doorbells...Offset.doorbells + 4 * UInt32(XHCI.maxSlots):
            ringDoorbell(Int((offset - Offset.doorbells) / 4), value)
        default:
            // The capability registers and MFINDEX are read-only.
            break
        }
    }

    private func writeOperational(_ offset: UInt32, _ value: UInt32) {
        switch offset {
        case Operational.command: writeCommand(value)
        case Operational.status:
            status &= ~(value & Status.writeOneToClear)
        case Operational.notificationControl: notificationControl = value & 0xFFFF
        case Operational.commandRingLow: writeCommandRingControl(value)
        case Operational.commandRingHigh:
            // The pointer moves only while the ring is stopped.
            if !commandRingRunning {
                commandRing.dequeue = commandRing.dequeue & 0xFFFF_FFFF | UInt64(value) << 32
            }
        case Operational.contextBaseArrayLow:
            deviceContextBaseArray = deviceContextBaseArray & ~0xFFFF_FFFF | UInt64(value & ~0x3F)
        case Operational.contextBaseArrayHigh:
            deviceContextBaseArray = deviceContextBaseArray & 0xFFFF_FFFF | UInt64(value) << 32
        case Operational.configure:
            configure = value & 0x3FF
            if configure & 0xFF > UInt32(XHCI.maxSlots) { configure = configure & ~0xFF | UInt32(XHCI.maxSlots) }
        default: break
        }
    }

    private func writeCommand(_ value: UInt32) {
        if value & (Command.hostControllerReset | Command.lightReset) != 0 {
            // Completes at once: CNR never shows.
            resetController()
            return
        }
        let wasRunning = isRunning
        command = value & Command.kept
        if !wasRunning && isRunning {
            status &= ~Status.halted
            runStart = clock.now
            // Changes seen while halted are told now.
            for port in 0..<XHCI.portCount where portStatus[port] & PortStatus.changeBits != 0 { portChanged(port) }
        } else if wasRunning && !isRunning {
            status |= Status.halted
            commandRingRunning = false
        }
        // Save and restore state complete at once with nothing to save.
        updateInterruptLine()
    }

    private func writeCommandRingControl(_ value: UInt32) {
        if commandRingRunning {
            if value & (CommandRingControl.stop | CommandRingControl.abort) != 0 {
                // Commands run to completion as they are rung, so the ring is idle: it stops at once.
                commandRingRunning = false
                if canWork { completeCommand(at: commandRing.dequeue, code: .commandRingStopped) }
            }
            return
        }
        commandRing.dequeue = commandRing.dequeue & ~0xFFFF_FFFF | UInt64(value) & 0xFFFF_FFC0
        commandRing.cycle = value & CommandRingControl.cycleState != 0
    }

    private func writeInterrupter(_ index: Int, _ register: UInt32, _ value: UInt32) {
        switch register {
        case InterrupterRegister.management:
            var management = interrupters[index].management
            if value & InterrupterManagement.pending != 0 { management &= ~InterrupterManagement.pending }
            management = management & ~InterrupterManagement.enable | value & InterrupterManagement.enable
            interrupters[index].management = management
            if canWork { interrupt(index) } else { updateInterruptLine() }
        case InterrupterRegister.moderation:
            interrupters[index].moderation = value
        case InterrupterRegister.tableSize:
            interrupters[index].tableSize = min(value & 0xFFFF, 1 << XHCI.segmentTableMaxExponent)
        case InterrupterRegister.tableBaseLow:
            interrupters[index].tableBase = interrupters[index].tableBase & ~0xFFFF_FFFF | UInt64(value & ~0x3F)
            startEventRing(index)
        case InterrupterRegister.tableBaseHigh:
            interrupters[index].tableBase = interrupters[index].tableBase & 0xFFFF_FFFF | UInt64(value) << 32
            startEventRing(index)
        case InterrupterRegister.dequeueLow:
            writeEventRingDequeue(index, interrupters[index].dequeue & ~0xFFFF_FFFF | UInt64(value), busyBit: value)
        case InterrupterRegister.dequeueHigh:
            interrupters[index].dequeue = interrupters[index].dequeue & 0xFFFF_FFFF | UInt64(value) << 32
        default: break
        }
    }

    /// ERDP: the guest has read events up to here; writing one to EHB ends
    /// its handler, and events still unread assert the interrupt again.
    private func writeEventRingDequeue(_ index: Int, _ value: UInt64, busyBit: UInt32) {
        var interrupter = interrupters[index]
        let busy = interrupter.dequeue & EventRingDequeue.handlerBusy
        interrupter.dequeue = value & ~EventRingDequeue.handlerBusy | busy
        if UInt64(busyBit) & EventRingDequeue.handlerBusy != 0 {
            interrupter.dequeue &= ~EventRingDequeue.handlerBusy
            interrupter.eventsPending = interrupter.dequeue & EventRingDequeue.pointerMask != interrupter.enqueue
        }
        interrupters[index] = interrupter
        if canWork { interrupt(index) }
    }

    private func ringDoorbell(_ slot: Int, _ value: UInt32) {
        guard canWork else { return }
        let target = Int(value & 0xFF)
        if slot == 0 {
            if target == 0 { runCommandRing() }
        } else if (1..<XHCISlot.endpointCount).contains(target), slots[slot].enabled {
            // A doorbell restarts a stopped endpoint (a halted one needs Reset Endpoint first).
            if slots[slot].endpoints[target].state == XHCIContext.endpointStopped {
                slots[slot].endpoints[target].state = XHCIContext.endpointRunning
                publishEndpoint(slot: slot, dci: target)
            }
            serviceEndpoint(slot: slot, dci: target)
        }
    }
}
