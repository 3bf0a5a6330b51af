import Memory
import PCEmuSupport
import Timing

/// QEMU's xHCI controller (`-device qemu-xhci`, PCI 1b36:000d, class
/// 0C0330): a 16 KiB register window behind a 64-bit memory BAR 0 with the
/// capability, operational, runtime and doorbell registers where QEMU puts
/// them (`XHCIRegisters`), four USB 2 root ports then four USB 3 ones
/// (`XHCIPorts`), a command ring (`XHCICommands`), device slots with their
/// contexts in guest memory (`XHCIContexts`), transfer rings on each endpoint
/// (`XHCITransfers`) and event rings described by segment tables, one per
/// interrupter, with moderation (`XHCIRings`). Interrupts go on INTx, or as
/// MSI (one vector) once the guest enables its capability.
///
/// Work happens when the guest rings a doorbell or a device gets data: no
/// timer runs while nothing is queued. An endpoint the device NAKs waits
/// until the device says it has data (`USBDevice.dataAvailable`).
public final class XHCI: PCIDevice {
    public static let vendorID: UInt16 = 0x1B36
    public static let deviceID: UInt16 = 0x000D
    static let serialBusClass: UInt32 = 0x0C_03_30
    static let interruptPinA: UInt8 = 1
    public static let registerBytes: UInt32 = 0x4000

    /// Root ports: the USB 2 ones first (1-4), then the USB 3 ones (5-8), as QEMU numbers them.
    public static let usb2Ports = 4
    public static let usb3Ports = 4
    public static let portCount = usb2Ports + usb3Ports
    public static let maxSlots = 64
    public static let interrupterCount = 16
    /// ERST Max: the event ring segment table holds up to 2^4 entries.
    static let segmentTableMaxExponent: UInt32 = 4

    enum Config {
        /// Serial bus release number: USB 3.0.
        static let serialBusRelease = 0x60
        /// Frame length adjustment (the default 60000 bit times).
        static let frameLengthAdjust = 0x61
        static let capabilitiesPointer = 0x34
        static let statusCapabilitiesList: UInt16 = 1 << 4
        /// The MSI capability: one vector, 32-bit addresses.
        static let msi = 0x40
        static let msiCapabilityID: UInt8 = 0x05
        static let msiControl = msi + 2
        static let msiAddress = msi + 4
        static let msiData = msi + 8
        static let msiEnable: UInt16 = 1 << 0
        /// MSI enable and Multiple Message Enable (kept, one vector used).
        static let msiControlWritable: UInt16 = 0x0071
    }

    // Work limits against rings the guest builds in a loop or of garbage.
    /// Command TRBs (Link TRBs included) taken per doorbell.
    static let maximumCommandTRBs = 256
    /// Transfer TRBs (Link TRBs included) taken per doorbell or data wake-up.
    static let maximumTransferTRBs = 1024

    let clock: VirtualClock
    let scheduler: EventScheduler
    let dma: GuestMemoryDMA

    // Operational registers.
    public internal(set) var command: UInt32 = 0
    public internal(set) var status: UInt32 = Status.halted
    var notificationControl: UInt32 = 0
    var deviceContextBaseArray: UInt64 = 0
    var configure: UInt32 = 0
    /// The command ring's dequeue pointer and cycle state; CRR.
    var commandRing = XHCIRingCursor()
    var commandRingRunning = false
    /// When R/S last went to one, for MFINDEX.
    var runStart: Int64 = 0

    var portStatus = [UInt32](repeating: 0, count: XHCI.portCount)
    /// The device on each root port (only USB 2 ports take the full-speed devices).
    public private(set) var devices = [USBDevice?](repeating: nil, count: XHCI.portCount)
    var interrupters = [XHCIInterrupter](repeating: XHCIInterrupter(), count: XHCI.interrupterCount)
    var moderationTimers: [TimerEvent] = []
    /// Index 0 unused: slot IDs count from one.
    var slots = [XHCISlot](repeating: XHCISlot(), count: XHCI.maxSlots + 1)

    /// Ports whose device said it has data since the last service run.
    var portsWithData: UInt32 = 0
    var serviceTimer: TimerEvent!
    /// Set while the controller works, so that its own DMA landing on its
    /// registers (a ring placed over BAR 0) cannot start more work inside it.
    var busy = false
    /// Data on its way between a TRB's buffer and a device: a TRB moves at most 128 KiB.
    let transferBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 0x20000, alignment: 8)

    /// Counts for tests and the idle figure.
    public internal(set) var eventsPosted = 0
    public internal(set) var eventsLost = 0
    public internal(set) var trbsProcessed = 0

    /// Sends an MSI (address, data) to the APICs; set by the machine.
    public var sendMSI: (_ address: UInt32, _ data: UInt16) -> Void = { _, _ in }
    /// Maps and unmaps the register window as the guest moves BAR 0; set by the machine.
    public var registersMoved: (_ old: UInt32?, _ new: UInt32?) -> Void = { _, _ in }
    public lazy var registerWindow = XHCIRegisterWindow(controller: self)

    public init(memory: AddressSpace, memoryWritten: @escaping (PhysicalAddress, Int) -> Void,
                clock: VirtualClock, scheduler: EventScheduler) {
        self.clock = clock
        self.scheduler = scheduler
        dma = GuestMemoryDMA(memory: memory, memoryWritten: memoryWritten)
        super.init(name: "qemu-xhci", vendorID: XHCI.vendorID, deviceID: XHCI.deviceID, revision: 1,
                   classCode: XHCI.serialBusClass, interruptPin: XHCI.interruptPinA)
        setConfig(PCIConfig.subsystemVendorID, word: 0x1AF4)
        setConfig(PCIConfig.subsystemID, word: 0x1100)
        setConfig(Config.serialBusRelease, byte: 0x30)
        setConfig(Config.frameLengthAdjust, byte: 0x20)
        setWritable(Config.frameLengthAdjust, byte: 0x3F)
        defineBAR(0, size: XHCI.registerBytes, kind: .memory64)
        setConfig(PCIConfig.status, word: Config.statusCapabilitiesList)
        setConfig(Config.capabilitiesPointer, byte: UInt8(Config.msi))
        setConfig(Config.msi, byte: Config.msiCapabilityID)
        setWritable(Config.msiControl, word: Config.msiControlWritable)
        setWritable(Config.msiAddress, word: 0xFFFC)
        setWritable(Config.msiAddress + 2, word: 0xFFFF)
        setWritable(Config.msiData, word: 0xFFFF)
        serviceTimer = TimerEvent(name: "xhci-service") { [unowned self] in self.serviceDevicesWithData() }
        for index in 0..<XHCI.interrupterCount {
            moderationTimers.append(TimerEvent(name: "xhci-imod\(index)") { [unowned self] in
                self.work { self.interrupt(index) }
            })
        }
        barMoved = { [unowned self] _, index, _, old, new in
            if index == 0 { self.registersMoved(old, new) }
        }
        resetController()
    }

    deinit { transferBuffer.deallocate() }

    /// The register window is an object of its own in the address space.
    public override var busParts: [AnyObject] { [self, registerWindow] }

    /// Plugs `device` into root port `port` (0-based; a USB 2 port for the full-speed devices).
    public func attach(_ device: USBDevice, port: Int) {
        precondition(devices[port] == nil, "port \(port + 1) of \(name) is taken")
        devices[port] = device
        device.dataAvailable = { [unowned self] in self.deviceHasData(port: port) }
        portStatus[port] = XHCI.initialPortStatus(port: port, connected: true)
    }

    public override func reset() {
        resetController()
        super.reset()
    }

    /// MSI turned on or off moves the interrupt off or back onto INTx.
    public override func configWrite(offset: Int, value: UInt32, size: AccessSize) {
        super.configWrite(offset: offset, value: value, size: size)
        updateInterruptLine()
    }

    /// HCRST and power-on: every register to its default, slots disabled,
    /// devices reset and seen connected anew.
    func resetController() {
        scheduler.cancel(serviceTimer)
        for timer in moderationTimers { scheduler.cancel(timer) }
        command = 0
        status = Status.halted
        notificationControl = 0
        deviceContextBaseArray = 0
        configure = 0
        commandRing = XHCIRingCursor()
        commandRingRunning = false
        portsWithData = 0
        for index in 0..<XHCI.interrupterCount { interrupters[index] = XHCIInterrupter() }
        for index in slots.indices { slots[index] = XHCISlot() }
        for port in 0..<XHCI.portCount {
            devices[port]?.reset()
            portStatus[port] = XHCI.initialPortStatus(port: port, connected: devices[port] != nil)
        }
        setINTx(false)
    }

    var isRunning: Bool { command & Command.runStop != 0 }

    /// Whether the controller may touch guest memory: running, with bus mastering on.
    var canWork: Bool { isRunning && configWord(PCIConfig.command) & PCICommand.busMaster != 0 }

    /// Runs `body` as the controller's work: writes its DMA makes to its own registers are dropped.
    func work(_ body: () -> Void) {
        guard !busy else { return }
        busy = true
        defer { busy = false }
        body()
    }

    // MARK: Devices with data

    private func deviceHasData(port: Int) {
        portsWithData |= 1 << UInt32(port)
        if !serviceTimer.isPending { scheduler.schedule(serviceTimer, at: clock.now) }
    }

    /// Endpoints that were NAKed on a port whose device now has data are tried again.
    private func serviceDevicesWithData() {
        let ports = portsWithData
        portsWithData = 0
        guard canWork else { return }
        work {
            for slot in 1...XHCI.maxSlots where slots[slot].enabled && slots[slot].port >= 0
                && ports & (1 << UInt32(slots[slot].port)) != 0 {
                for dci in 1..<XHCISlot.endpointCount where slots[slot].endpoints[dci].waitingForData {
                    serviceEndpoint(slot: slot, dci: dci)
                }
            }
        }
    }

    // MARK: Interrupts

    var msiEnabled: Bool { configWord(Config.msiControl) & Config.msiEnable != 0 }

    /// INTx follows interrupter 0's IP while USBCMD.INTE is set and MSI is off.
    func updateInterruptLine() {
        setINTx(!msiEnabled && command & Command.interruptEnable != 0
                && interrupters[0].management & InterrupterManagement.pending != 0)
    }

    /// With MSI on, each assertion of IP is one message (every interrupter
    /// shares the one vector); true if one was sent.
    private func signalMSI() -> Bool {
        guard msiEnabled, command & Command.interruptEnable != 0,
              configWord(PCIConfig.command) & PCICommand.busMaster != 0 else { return false }
        sendMSI(configDword(Config.msiAddress), configWord(Config.msiData))
        return true
    }

    /// Asserts interrupter `index` if it has events to tell of, is enabled,
    /// its handler is not busy and its moderation interval has passed; else
    /// the moderation timer tries again when the interval ends.
    func interrupt(_ index: Int) {
        var interrupter = interrupters[index]
        defer { interrupters[index] = interrupter; updateInterruptLine() }
        guard interrupter.eventsPending, interrupter.management & InterrupterManagement.enable != 0,
              interrupter.management & InterrupterManagement.pending == 0,
              interrupter.dequeue & EventRingDequeue.handlerBusy == 0 else { return }
        let now = clock.now
        if now < interrupter.moderationEnd {
            if !moderationTimers[index].isPending { scheduler.schedule(moderationTimers[index], at: interrupter.moderationEnd) }
            return
        }
        interrupter.management |= InterrupterManagement.pending
        interrupter.dequeue |= EventRingDequeue.handlerBusy
        interrupter.eventsPending = false
        interrupter.moderationEnd = now + Int64(interrupter.moderation & 0xFFFF) * XHCIInterrupter.nanosecondsPerModerationUnit
        status |= Status.eventInterrupt
        // With MSI, IP clears itself once the message is written (EHB stays until ERDP).
        if signalMSI() { interrupter.management &= ~InterrupterManagement.pending }
    }
}

/// The register window as an object in the address space.
public final class XHCIRegisterWindow: MMIOHandler {
    unowned let controller: XHCI
    init(controller: XHCI) { self.controller = controller }
    public override func read(offset: UInt32, size: AccessSize) -> UInt32 { controller.read(offset: offset, size: size) }
    public override func write(offset: UInt32, value: UInt32, size: AccessSize) {
        controller.write(offset: offset, value: value, size: size)
    }
}
