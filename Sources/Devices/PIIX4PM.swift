import Memory
import PCEmuSupport
import Timing

/// The power-management function of the 82371AB (PIIX4) at 01.3, as QEMU's
/// i440FX machine has it beside the PIIX3: the ACPI fixed registers (PM1
/// status, enable and control, the 24-bit PM timer) in a 64-port block at
/// PMBASE, the SCI on IRQ 9, and the APM control port 0xB2 through which
/// the guest switches ACPI mode on (QEMU's FADT names 0xB2 as SMI_CMD with
/// 0xF1 to enable and 0xF0 to disable). Sleep type 0 with SLP_EN is soft
/// off (S5) and type 2 (S4) powers off as well; S3 is not modelled.
public final class PIIX4PM: PCIDevice {
    public static let vendorID: UInt16 = 0x8086
    /// DEVACTB's APMC_EN bit: an APM command write raises an SMI.
    static let apmcEnabled: UInt32 = 1 << 25
    public static let deviceID: UInt16 = 0x7113
    public static let slot = 1
    public static let function = 3
    public static let sciIRQ = 9
    public static let pmIOSize = 64
    public static let apmPort: UInt16 = 0xB2
    public static let apmPortCount = 2
    static let revision: UInt8 = 0x03
    static let bridgeClass: UInt32 = 0x06_80_00
    /// The ACPI PM timer runs at 3.579545 MHz.
    public static let timerHz: Int64 = 3_579_545
    static let timerMask: UInt32 = 0x00FF_FFFF
    /// TMR_STS is set each time timer bit 23 changes.
    static let timerStatusShift: Int64 = 23

    enum Register {
        static let pmBase = 0x40
        static let deviceActivityB = 0x58
        static let pmRegisterMisc = 0x80
        static let smbusBase = 0x90
        static let smbusHostConfig = 0xD2
    }

    enum PMBase {
        static let ioSpace: UInt32 = 0x1
        static let addressMask: UInt32 = 0xFFC0
    }

    enum PMRegisterMisc {
        static let ioEnable: UInt8 = 0x01
    }

    /// Offsets in the PM I/O block.
    enum PMRegister {
        static let status = 0x00
        static let enable = 0x02
        static let control = 0x04
        static let timer = 0x08
        static let generalPurposeStatus = 0x0C
        static let generalPurposeEnable = 0x0E
    }

    enum PM1Status {
        static let timer: UInt16 = 0x0001
        static let busMaster: UInt16 = 0x0010
        static let global: UInt16 = 0x0020
        static let powerButton: UInt16 = 0x0100
        static let rtc: UInt16 = 0x0400
        static let wake: UInt16 = 0x8000
        /// The events that raise the SCI when enabled.
        static let sciEvents: UInt16 = timer | global | powerButton | rtc
    }

    enum PM1Control {
        static let sciEnable: UInt16 = 0x0001
        static let sleepTypeShift: UInt16 = 10
        static let sleepTypeMask: UInt16 = 0x7
        static let sleepEnable: UInt16 = 0x2000
        static let writable: UInt16 = 0x3C07
    }

    /// QEMU's DSDT: \_S5 is type 0, \_S4 type 2, \_S3 type 1.
    enum SleepType {
        static let suspendToRAM: UInt16 = 1
        static let suspendToDisk: UInt16 = 2
        static let softOff: UInt16 = 0
    }

    enum APMCommand {
        static let acpiDisable: UInt8 = 0xF0
        static let acpiEnable: UInt8 = 0xF1
    }

    struct State {
        var status: UInt16 = 0
        var enable: UInt16 = 0
        var control: UInt16 = 0
        /// The count of timer bit-23 changes when TMR_STS was last cleared.
        var timerChangesSeen: Int64 = 0
        var generalPurposeStatus: UInt16 = 0
        var generalPurposeEnable: UInt16 = 0
        var otherRegisters = [UInt8](repeating: 0, count: PIIX4PM.pmIOSize)
        var apmControl: UInt8 = 0
        var apmStatus: UInt8 = 0
    }

    let clock: VirtualClock
    private let scheduler: EventScheduler
    private let sci: InterruptLine
    private let powerOff: () -> Void
    var state = State()
    /// The PM timer counts from here (it is not reset with the machine).
    var timerOrigin: Int64
    private var timerEvent: TimerEvent!
    private var mappedBase: UInt16?
    /// Called when the PM block starts, stops or moves decoding; the machine
    /// attaches `pmRegisters` at the new base for `pmIOSize` ports.
    public var pmIOMoved: (_ old: UInt16?, _ new: UInt16?) -> Void = { _, _ in }
    /// The PM1/timer block, for the machine to attach where PMBASE says.
    public private(set) var pmRegisters: PortHandler!
    /// Ports 0xB2-0xB3 (APM control and status), at a fixed place.
    public private(set) var apmPorts: PortHandler!

    /// `sci` is IRQ 9. `powerOff` is called when the guest enters S5.
    public init(clock: VirtualClock, scheduler: EventScheduler, sci: InterruptLine, powerOff: @escaping () -> Void) {
        self.clock = clock
        self.scheduler = scheduler
        self.sci = sci
        self.powerOff = powerOff
        timerOrigin = clock.now
        super.init(name: "piix4-pm", vendorID: PIIX4PM.vendorID, deviceID: PIIX4PM.deviceID,
                   revision: PIIX4PM.revision, classCode: PIIX4PM.bridgeClass, interruptPin: 1)
        setConfig(Register.pmBase, dword: PMBase.ioSpace)
        setWritable(Register.pmBase, word: UInt16(PMBase.addressMask))
        setConfig(Register.smbusBase, dword: PMBase.ioSpace)
        setWritable(Register.smbusBase, word: 0xFFF0)
        for offset in Register.deviceActivityB..<Register.deviceActivityB + 4 { setWritable(offset, byte: 0xFF) }
        // PCEmu has no System Management Mode: report SMI-on-APMC as already set
        // up (DEVACTB bit 25), which is how firmware learns not to wait for an SMI.
        setConfig(Register.deviceActivityB, dword: PIIX4PM.apmcEnabled)
        setWritable(Register.pmRegisterMisc, byte: PMRegisterMisc.ioEnable)
        setWritable(Register.smbusHostConfig, byte: 0x0F)
        timerEvent = TimerEvent(name: "pm-timer") { [unowned self] in self.timerBitChanged() }
        pmRegisters = PMRegisterBlock(self)
        apmPorts = APMPorts(self)
    }

    public override func configWrite(offset: Int, value: UInt32, size: AccessSize) {
        super.configWrite(offset: offset, value: value, size: size)
        let end = offset + size.rawValue
        if offset < Register.pmBase + 4 && end > Register.pmBase || offset <= Register.pmRegisterMisc && end > Register.pmRegisterMisc {
            updatePMBase()
        }
    }

    public override var busParts: [AnyObject] { [self, pmRegisters, apmPorts] }

    public override func reset() {
        super.reset()
        state = State()
        state.timerChangesSeen = timerBitChanges(at: clock.now)
        updatePMBase()
        update()
    }

    /// Where the PM block decodes now, or nil.
    public var pmBase: UInt16? { mappedBase }

    func updatePMBase() {
        let enabled = configByte(Register.pmRegisterMisc) & PMRegisterMisc.ioEnable != 0
        let address = UInt16(truncatingIfNeeded: configDword(Register.pmBase) & PMBase.addressMask)
        let new: UInt16? = enabled && address != 0 ? address : nil
        guard new != mappedBase else { return }
        let old = mappedBase
        mappedBase = new
        Log.write(.device, "piix4-pm: PM block at \(new.map { "0x\(String($0, radix: 16))" } ?? "off")")
        pmIOMoved(old, new)
    }

    // MARK: The host side

    /// The power button: sets PWRBTN_STS, an SCI if the guest enabled it.
    public func pressPowerButton() {
        state.status |= PM1Status.powerButton
        update()
    }

    // MARK: The PM timer

    /// The 24-bit PM timer now.
    public var timerValue: UInt32 { UInt32(truncatingIfNeeded: timerTicks(at: clock.now)) & PIIX4PM.timerMask }

    private func timerTicks(at now: Int64) -> Int64 {
        TickConversion.ticks(inNanoseconds: now &- timerOrigin, hz: PIIX4PM.timerHz)
    }

    func timerBitChanges(at now: Int64) -> Int64 { timerTicks(at: now) >> PIIX4PM.timerStatusShift }

    private var timerStatus: UInt16 {
        timerBitChanges(at: clock.now) > state.timerChangesSeen ? PM1Status.timer : 0
    }

    private func timerBitChanged() {
        update()
    }

    // MARK: Registers

    fileprivate func readPM(offset: UInt16, size: AccessSize) -> UInt32 {
        let status = state.status | timerStatus
        let timer = timerValue
        var value: UInt32 = 0
        for i in 0..<size.rawValue {
            let index = Int(offset) + i
            let byte: UInt8
            switch index & ~1 {
            case PMRegister.status: byte = byteOf(status, index)
            case PMRegister.enable: byte = byteOf(state.enable, index)
            case PMRegister.control: byte = byteOf(state.control, index)
            case PMRegister.timer, PMRegister.timer + 2:
                byte = UInt8(truncatingIfNeeded: timer >> (8 * UInt32(index - PMRegister.timer)))
            case PMRegister.generalPurposeStatus: byte = byteOf(state.generalPurposeStatus, index)
            case PMRegister.generalPurposeEnable: byte = byteOf(state.generalPurposeEnable, index)
            default: byte = index < PIIX4PM.pmIOSize ? state.otherRegisters[index] : 0xFF
            }
            value |= UInt32(byte) << (8 * UInt32(i))
        }
        return value
    }

    private func byteOf(_ word: UInt16, _ index: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: word >> (8 * UInt16(index & 1)))
    }

    fileprivate func writePM(offset: UInt16, value: UInt32, size: AccessSize) {
        var sleepRequested = false
        for i in 0..<size.rawValue {
            let index = Int(offset) + i
            let byte = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))
            let shifted = UInt16(byte) << (8 * UInt16(index & 1))
            let laneMask: UInt16 = index & 1 == 0 ? 0x00FF : 0xFF00
            switch index & ~1 {
            case PMRegister.status:
                if shifted & PM1Status.timer != 0 { state.timerChangesSeen = timerBitChanges(at: clock.now) }
                state.status &= ~shifted
            case PMRegister.enable:
                state.enable = state.enable & ~laneMask | shifted & PM1Status.sciEvents
            case PMRegister.control:
                state.control = state.control & ~laneMask | shifted & PM1Control.writable
                if shifted & PM1Control.sleepEnable != 0 { sleepRequested = true }
            case PMRegister.timer, PMRegister.timer + 2:
                Log.write(.guestErrors, "piix4-pm: write to the read-only PM timer")
            case PMRegister.generalPurposeStatus:
                state.generalPurposeStatus &= ~shifted
            case PMRegister.generalPurposeEnable:
                state.generalPurposeEnable = state.generalPurposeEnable & ~laneMask | shifted
            default:
                guard index < PIIX4PM.pmIOSize else { continue }
                Log.write(.unimplemented, "piix4-pm: register 0x\(String(index, radix: 16)) stored, no effect")
                state.otherRegisters[index] = byte
            }
        }
        if sleepRequested { enterSleep() }
        update()
    }

    /// SLP_EN was written: the sleep type says what to do. SLP_EN itself is write-only.
    private func enterSleep() {
        state.control &= ~PM1Control.sleepEnable
        let type = state.control >> PM1Control.sleepTypeShift & PM1Control.sleepTypeMask
        switch type {
        case SleepType.softOff, SleepType.suspendToDisk:
            Log.write(.device, "piix4-pm: sleep type \(type): power off")
            powerOff()
        case SleepType.suspendToRAM:
            Log.write(.unimplemented, "piix4-pm: S3 suspend to RAM; the guest keeps running")
        default:
            Log.write(.guestErrors, "piix4-pm: sleep type \(type) is not in the DSDT")
        }
    }

    fileprivate func writeAPM(offset: UInt16, value: UInt32) {
        let byte = UInt8(truncatingIfNeeded: value)
        guard offset == 0 else {
            state.apmStatus = byte
            return
        }
        state.apmControl = byte
        switch byte {
        case APMCommand.acpiEnable: state.control |= PM1Control.sciEnable
        case APMCommand.acpiDisable: state.control &= ~PM1Control.sciEnable
        default: Log.write(.unimplemented, "piix4-pm: APM command 0x\(String(byte, radix: 16)) (an SMI) ignored")
        }
        update()
    }

    fileprivate func readAPM(offset: UInt16) -> UInt32 {
        UInt32(offset == 0 ? state.apmControl : state.apmStatus)
    }

    /// The SCI follows enabled events while ACPI mode is on; the timer event
    /// is armed for the next bit-23 change while the timer can interrupt.
    func update() {
        let acpiMode = state.control & PM1Control.sciEnable != 0
        let pending = (state.status | timerStatus) & state.enable & PM1Status.sciEvents != 0
            || state.generalPurposeStatus & state.generalPurposeEnable != 0
        sci.set(acpiMode && pending)
        if acpiMode && state.enable & PM1Status.timer != 0 && timerStatus == 0 {
            let nextChange = (timerBitChanges(at: clock.now) + 1) << PIIX4PM.timerStatusShift
            scheduler.schedule(timerEvent, at: timerOrigin &+ TickConversion.nanoseconds(forTicks: nextChange, hz: PIIX4PM.timerHz))
        } else {
            scheduler.cancel(timerEvent)
        }
    }
}

/// The PM1 and timer registers at PMBASE.
private final class PMRegisterBlock: PortHandler {
    unowned let pm: PIIX4PM
    init(_ pm: PIIX4PM) { self.pm = pm }
    override var nativeSizes: Set<AccessSize> { [.byte, .word, .dword] }
    override func read(offset: UInt16, size: AccessSize) -> UInt32 { pm.readPM(offset: offset, size: size) }
    override func write(offset: UInt16, value: UInt32, size: AccessSize) { pm.writePM(offset: offset, value: value, size: size) }
}

/// APM control (0xB2) and status (0xB3).
private final class APMPorts: PortHandler {
    unowned let pm: PIIX4PM
    init(_ pm: PIIX4PM) { self.pm = pm }
    override func read(offset: UInt16, size: AccessSize) -> UInt32 { pm.readAPM(offset: offset) }
    override func write(offset: UInt16, value: UInt32, size: AccessSize) { pm.writeAPM(offset: offset, value: value) }
}
