import Memory
import PCEmuSupport
import Timing

/// The PIIX3's USB host controller (8086:7020, QEMU's piix3-usb-uhci): a
/// UHCI controller with two root ports. Its registers are 32 I/O ports
/// behind BAR 4; its schedule lives in guest memory: a 1024-entry frame
/// list, each entry leading through queue heads and transfer descriptors,
/// one entry per 1 ms frame (`UHCI+Schedule`). Frames follow the virtual
/// clock on a timer armed only while the guest has the controller running.
/// Once a few frames in a row found nothing to do (no TD, or only TDs the
/// devices NAK), the frames wait for `idleTimer` instead: a slack timer due
/// `idlePeriod` later, which runs on a pass the CPU loop makes anyway (the
/// guest's own timer tick), so an idle controller adds no wake-ups. A
/// device with data, or a register write, brings the 1 ms timer back.
public final class UHCI: PCIDevice {
    public static let vendorID: UInt16 = 0x8086
    public static let deviceID: UInt16 = 0x7020
    /// Where `-usb` puts it: function 2 of the PIIX3's slot, as on the real chip.
    public static let function = 2
    static let serialBusClass: UInt32 = 0x0C_03_00
    static let interruptPinD: UInt8 = 4
    public static let ioBytes = 32
    public static let portCount = 2

    enum Register {
        static let command: UInt16 = 0x00
        static let status: UInt16 = 0x02
        static let interruptEnable: UInt16 = 0x04
        static let frameNumber: UInt16 = 0x06
        static let frameListBase: UInt16 = 0x08
        static let startOfFrame: UInt16 = 0x0C
        static let port1: UInt16 = 0x10
    }

    /// USBCMD bits.
    public enum Command {
        public static let run: UInt16 = 1 << 0
        public static let hostReset: UInt16 = 1 << 1
        public static let globalReset: UInt16 = 1 << 2
        public static let globalSuspend: UInt16 = 1 << 3
        public static let forceResume: UInt16 = 1 << 4
        public static let softwareDebug: UInt16 = 1 << 5
        public static let configured: UInt16 = 1 << 6
        public static let maxPacket64: UInt16 = 1 << 7
        static let writable: UInt16 = 0x00FD
    }

    /// USBSTS bits, each cleared by writing one.
    public enum Status {
        public static let interrupt: UInt16 = 1 << 0
        public static let error: UInt16 = 1 << 1
        public static let resumeDetect: UInt16 = 1 << 2
        public static let hostSystemError: UInt16 = 1 << 3
        public static let processError: UInt16 = 1 << 4
        public static let halted: UInt16 = 1 << 5
    }

    /// USBINTR bits.
    public enum InterruptEnable {
        public static let timeoutCRC: UInt16 = 1 << 0
        public static let resume: UInt16 = 1 << 1
        public static let completion: UInt16 = 1 << 2
        public static let shortPacket: UInt16 = 1 << 3
        static let writable: UInt16 = 0x000F
    }

    /// PORTSC bits.
    public enum PortStatus {
        public static let connected: UInt16 = 1 << 0
        public static let connectChanged: UInt16 = 1 << 1
        public static let enabled: UInt16 = 1 << 2
        public static let enableChanged: UInt16 = 1 << 3
        public static let resumeDetect: UInt16 = 1 << 6
        /// Reads one on every real port; Linux counts ports by it.
        public static let alwaysOne: UInt16 = 1 << 7
        public static let lowSpeed: UInt16 = 1 << 8
        public static let reset: UInt16 = 1 << 9
        public static let suspend: UInt16 = 1 << 12
        static let writeOneToClear: UInt16 = connectChanged | enableChanged
        static let writable: UInt16 = enabled | resumeDetect | reset | suspend
        /// What a register past the last port reads: bit 7 clear, so it is not a port.
        static let noPort: UInt16 = 0xFF7F
    }

    enum Config {
        /// Serial bus release number: USB 1.0.
        static let serialBusRelease = 0x60
        /// Legacy support register (keyboard/mouse emulation by SMM, which this PC has none of).
        static let legacySupport = 0xC0
        static let legacySupportDefault: UInt16 = 0x2000
        static let legacySupportWriteOneToClear: UInt16 = 0x8F00
        static let legacySupportWritable: UInt16 = 0x20BF
    }

    static let nanosecondsPerFrame: Int64 = 1_000_000
    /// Frames in a row with nothing done before the timer slows down.
    static let quietFramesBeforeIdle = 16
    /// The timer's period while nothing happens: a schedule the guest
    /// changes in memory alone is seen this late at most.
    public static let idlePeriod: Int64 = 16_000_000
    /// The most frames one timer run catches up; older ones are skipped.
    static let maximumCatchUp: Int64 = 32

    let clock: VirtualClock
    let scheduler: EventScheduler
    let dma: GuestMemoryDMA

    public internal(set) var command: UInt16 = 0
    public internal(set) var status: UInt16 = Status.halted
    public internal(set) var interruptEnable: UInt16 = 0
    /// FRNUM while the controller is stopped.
    var stoppedFrameNumber: UInt16 = 0
    public internal(set) var frameListBase: UInt32 = 0
    var startOfFrame: UInt8 = 64
    var portStatus = [UInt16](repeating: PortStatus.alwaysOne, count: UHCI.portCount)
    /// The device on each root port.
    public private(set) var devices = [USBDevice?](repeating: nil, count: UHCI.portCount)

    /// While running: frame `originFrame` started at `originTime`.
    var originTime: Int64 = 0
    var originFrame: Int64 = 0
    /// The next frame (counted from `originFrame`, not wrapped) to process.
    var nextFrame: Int64 = 0
    var quietFrames = 0
    /// Interrupt causes behind USBINT: a TD with IOC completed, a short packet.
    var completionPending = false
    var shortPacketPending = false
    var frameTimer: TimerEvent!
    /// The quiet schedule's timer; the machine adds it to the CPU loop.
    public private(set) var idleTimer: SlackTimer!
    /// Frames processed since power-on, for tests and the idle figure.
    public private(set) var framesProcessed = 0
    /// TDs handed to a device or timed out, for tests.
    public internal(set) var transactions = 0
    /// A TD's data on its way between guest memory and a device: at most 1280 bytes.
    let transferBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1280, alignment: 8)
    /// The queue heads visited in the frame being processed (loop detection).
    var visitedQueueHeads = [UInt32](repeating: 0, count: UHCI.maximumQueueHeadsPerFrame)

    /// Attaches and detaches the registers as the guest moves BAR 4; set by the machine.
    public var portsMoved: (_ old: UInt16?, _ new: UInt16?) -> Void = { _, _ in }
    public lazy var registers = Registers(controller: self)

    public init(memory: AddressSpace, memoryWritten: @escaping (PhysicalAddress, Int) -> Void,
                clock: VirtualClock, scheduler: EventScheduler) {
        self.clock = clock
        self.scheduler = scheduler
        dma = GuestMemoryDMA(memory: memory, memoryWritten: memoryWritten)
        super.init(name: "piix3-usb-uhci", vendorID: UHCI.vendorID, deviceID: UHCI.deviceID, revision: 1,
                   classCode: UHCI.serialBusClass, interruptPin: UHCI.interruptPinD)
        setConfig(Config.serialBusRelease, byte: 0x10)
        setConfig(Config.legacySupport, word: Config.legacySupportDefault)
        setWritable(Config.legacySupport, word: Config.legacySupportWritable)
        setWriteOneToClear(Config.legacySupport, word: Config.legacySupportWriteOneToClear)
        defineBAR(4, size: UInt32(UHCI.ioBytes), kind: .io)
        frameTimer = TimerEvent(name: "uhci-frame") { [unowned self] in self.runFrames() }
        idleTimer = SlackTimer(name: "uhci-idle", slack: UHCI.idlePeriod) { [unowned self] _ in self.runFrames() }
        barMoved = { [unowned self] _, _, _, old, new in
            self.portsMoved(old.map { UInt16(truncatingIfNeeded: $0) }, new.map { UInt16(truncatingIfNeeded: $0) })
        }
    }

    deinit { transferBuffer.deallocate() }

    /// Plugs `device` into root port `port` (0 or 1); it shows as connected.
    public func attach(_ device: USBDevice, port: Int) {
        precondition(devices[port] == nil, "port \(port) of \(name) is taken")
        devices[port] = device
        device.dataAvailable = { [unowned self] in self.deviceHasData() }
        portStatus[port] |= PortStatus.connected | PortStatus.connectChanged
    }

    /// The I/O window is an object of its own on the port bus.
    public override var busParts: [AnyObject] { [self, registers] }

    public override func reset() {
        resetController()
        super.reset()
    }

    /// HCRESET, GRESET and power-on: registers to their defaults, every
    /// device reset and seen connected anew.
    private func resetController() {
        scheduler.cancel(frameTimer)
        idleTimer.cancel()
        command = 0
        status = Status.halted
        interruptEnable = 0
        stoppedFrameNumber = 0
        frameListBase = 0
        startOfFrame = 64
        completionPending = false
        shortPacketPending = false
        quietFrames = 0
        for port in 0..<UHCI.portCount {
            portStatus[port] = PortStatus.alwaysOne
            if let device = devices[port] {
                device.reset()
                portStatus[port] |= PortStatus.connected | PortStatus.connectChanged
            }
        }
        setINTx(false)
    }

    var isRunning: Bool { command & Command.run != 0 }

    // MARK: Frames and the timer

    private func currentFrame(_ now: Int64) -> Int64 {
        originFrame + max(0, now - originTime) / UHCI.nanosecondsPerFrame
    }

    private func frameStart(_ frame: Int64) -> Int64 {
        originTime + (frame - originFrame) * UHCI.nanosecondsPerFrame
    }

    /// FRNUM: eleven bits, the frame list index is its low ten.
    public var frameNumber: UInt16 {
        isRunning ? UInt16(truncatingIfNeeded: currentFrame(clock.now)) & 0x7FF : stoppedFrameNumber
    }

    private func start() {
        let now = clock.now
        originTime = now
        originFrame = Int64(stoppedFrameNumber)
        nextFrame = originFrame
        quietFrames = 0
        status &= ~Status.halted
        scheduler.schedule(frameTimer, at: now)
    }

    private func stop() {
        stoppedFrameNumber = UInt16(truncatingIfNeeded: currentFrame(clock.now)) & 0x7FF
        status |= Status.halted
        scheduler.cancel(frameTimer)
        idleTimer.cancel()
    }

    /// The timer: processes every frame begun since the last run (at most
    /// `maximumCatchUp`), then arms itself for the next frame, or for
    /// `idlePeriod` later when the schedule has been quiet.
    private func runFrames() {
        guard isRunning else { return }
        let now = clock.now
        let current = currentFrame(now)
        if current - nextFrame >= UHCI.maximumCatchUp { nextFrame = current - UHCI.maximumCatchUp + 1 }
        var progressed = false
        var processed = 0
        // Without bus mastering the controller cannot read its schedule: frames pass empty.
        let canReadMemory = configWord(PCIConfig.command) & PCICommand.busMaster != 0
        while nextFrame <= current && isRunning {
            if canReadMemory && processFrame(UInt32(truncatingIfNeeded: nextFrame)) { progressed = true }
            nextFrame += 1
            processed += 1
            framesProcessed += 1
        }
        updateInterrupt()
        guard isRunning else { return }
        quietFrames = progressed ? 0 : quietFrames + processed
        if quietFrames < UHCI.quietFramesBeforeIdle {
            idleTimer.cancel()
            scheduler.schedule(frameTimer, at: frameStart(nextFrame))
        } else {
            scheduler.cancel(frameTimer)
            idleTimer.schedule(at: now + UHCI.idlePeriod)
        }
    }

    /// A device has data, or the guest changed something: look at the
    /// schedule again at the next frame rather than at the end of an idle period.
    private func kick() {
        guard isRunning else { return }
        quietFrames = 0
        idleTimer.cancel()
        let deadline = max(clock.now, frameStart(nextFrame))
        if !frameTimer.isPending || frameTimer.deadline > deadline { scheduler.schedule(frameTimer, at: deadline) }
    }

    private func deviceHasData() { kick() }

    /// Stops the controller after a fault in the schedule (HCProcessError).
    func haltOnProcessError() {
        status |= Status.processError
        command &= ~Command.run
        stop()
        updateInterrupt()
    }

    // MARK: Interrupts

    /// The line follows USBSTS and USBINTR: USBINT for each enabled cause,
    /// the error bit when enabled, process and system errors always.
    func updateInterrupt() {
        var level = status & (Status.hostSystemError | Status.processError) != 0
        if status & Status.interrupt != 0 {
            if completionPending && interruptEnable & InterruptEnable.completion != 0 { level = true }
            if shortPacketPending && interruptEnable & InterruptEnable.shortPacket != 0 { level = true }
        }
        if status & Status.error != 0 && interruptEnable & InterruptEnable.timeoutCRC != 0 { level = true }
        if status & Status.resumeDetect != 0 && interruptEnable & InterruptEnable.resume != 0 { level = true }
        setINTx(level)
    }

    /// End of a frame: the causes found in it become USBINT.
    func raiseFrameInterrupts(completion: Bool, shortPacket: Bool) {
        guard completion || shortPacket else { return }
        completionPending = completionPending || completion
        shortPacketPending = shortPacketPending || shortPacket
        status |= Status.interrupt
    }

    /// The device answering `address` behind an enabled port, if any.
    func device(at address: UInt8) -> USBDevice? {
        for port in 0..<UHCI.portCount {
            guard portStatus[port] & PortStatus.enabled != 0, portStatus[port] & PortStatus.reset == 0,
                  let device = devices[port], device.address == address else { continue }
            return device
        }
        return nil
    }

    // MARK: Registers

    func readWord(_ offset: UInt16) -> UInt16 {
        switch offset {
        case Register.command: return command
        case Register.status: return status
        case Register.interruptEnable: return interruptEnable
        case Register.frameNumber: return frameNumber
        case Register.frameListBase: return UInt16(truncatingIfNeeded: frameListBase)
        case Register.frameListBase + 2: return UInt16(frameListBase >> 16)
        case Register.startOfFrame: return UInt16(startOfFrame)
        case Register.port1..<Register.port1 + UInt16(2 * UHCI.portCount):
            return portStatus[Int(offset - Register.port1) / 2]
        case Register.port1 + UInt16(2 * UHCI.portCount)..<UInt16(UHCI.ioBytes):
            return PortStatus.noPort
        default: return 0
        }
    }

    func writeWord(_ offset: UInt16, _ value: UInt16) {
        switch offset {
        case Register.command: writeCommand(value)
        case Register.status:
            status &= ~(value & 0x3F)
            if value & Status.interrupt != 0 {
                completionPending = false
                shortPacketPending = false
            }
            updateInterrupt()
        case Register.interruptEnable:
            interruptEnable = value & InterruptEnable.writable
            updateInterrupt()
        case Register.frameNumber:
            // Meant for a stopped controller; a running one restarts its count there.
            stoppedFrameNumber = value & 0x7FF
            if isRunning { start() }
        case Register.frameListBase: frameListBase = (frameListBase & 0xFFFF_0000) | UInt32(value & 0xF000)
        case Register.frameListBase + 2: frameListBase = (frameListBase & 0x0000_F000) | UInt32(value) << 16
        case Register.startOfFrame: startOfFrame = UInt8(truncatingIfNeeded: value)
        case Register.port1..<Register.port1 + UInt16(2 * UHCI.portCount):
            writePort(Int(offset - Register.port1) / 2, value)
        default: break
        }
        kick()
    }

    private func writeCommand(_ value: UInt16) {
        if value & Command.globalReset != 0 || value & Command.hostReset != 0 {
            // Both complete at once: HCRESET reads back clear, as drivers check.
            resetController()
            command = value & Command.globalReset
            return
        }
        let wasRunning = isRunning
        command = value & Command.writable
        if !wasRunning && isRunning { start() } else if wasRunning && !isRunning { stop() }
    }

    private func writePort(_ port: Int, _ value: UInt16) {
        var current = portStatus[port]
        current &= ~(value & PortStatus.writeOneToClear)
        let resetStarts = value & PortStatus.reset != 0 && current & PortStatus.reset == 0
        current = (current & ~PortStatus.writable) | (value & PortStatus.writable)
        if current & PortStatus.connected == 0 { current &= ~PortStatus.enabled }
        portStatus[port] = current
        if resetStarts { devices[port]?.reset() }
    }

    /// BAR 4's 32 ports: byte, word and dword accesses.
    public final class Registers: PortHandler {
        unowned let controller: UHCI
        init(controller: UHCI) { self.controller = controller }

        public override var nativeSizes: Set<AccessSize> { [.byte, .word, .dword] }

        public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
            switch size {
            case .dword:
                return UInt32(controller.readWord(offset)) | UInt32(controller.readWord(offset &+ 2)) << 16
            case .word:
                return UInt32(controller.readWord(offset))
            default:
                return UInt32(controller.readWord(offset & ~1) >> (8 * (offset & 1))) & 0xFF
            }
        }

        public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
            switch size {
            case .dword:
                controller.writeWord(offset, UInt16(truncatingIfNeeded: value))
                controller.writeWord(offset &+ 2, UInt16(truncatingIfNeeded: value >> 16))
            case .word:
                controller.writeWord(offset, UInt16(truncatingIfNeeded: value))
            default:
                // A byte of a 16-bit register: the other byte keeps its value,
                // without writing ones back into bits that writing one clears.
                let word = offset & ~1, shift = 8 * (offset & 1)
                var keep = controller.readWord(word) & ~(0xFF << shift)
                if word == Register.status { keep = 0 }
                if word >= Register.port1 { keep &= ~PortStatus.writeOneToClear }
                controller.writeWord(word, keep | UInt16(value & 0xFF) << shift)
            }
        }
    }
}
