import Memory
import Timing
import XCTest
@testable import Devices

/// The UHCI controller driven the way Linux's uhci-hcd drives it: a frame
/// list whose entries all lead to an interrupt queue head and on to the
/// control queue head, transfers as chains of TDs in guest RAM (SETUP,
/// data stages in packets with SPD, a status stage with IOC), the short
/// packet fix-up, ports reset and enabled through PORTSC, completion seen
/// in USBSTS and on the INTx line.
final class UHCITests: XCTestCase {
    var harness: PortHarness!
    var ram: GuestRAM!
    var controller: UHCI!
    var tablet: USBTablet!
    let base: UInt16 = 0xC040

    // Registers and bits, as uhci-hcd names them.
    let USBCMD: UInt16 = 0, USBSTS: UInt16 = 2, USBINTR: UInt16 = 4, USBFRNUM: UInt16 = 6, USBFLBASEADD: UInt16 = 8
    let USBPORTSC1: UInt16 = 0x10, USBPORTSC2: UInt16 = 0x12
    let CMD_RS: UInt16 = 1, CMD_HCRESET: UInt16 = 2, CMD_CF: UInt16 = 0x40, CMD_MAXP: UInt16 = 0x80
    let STS_USBINT: UInt16 = 1, STS_ERROR: UInt16 = 2, STS_HCPE: UInt16 = 0x10, STS_HCH: UInt16 = 0x20
    let PORT_CCS: UInt16 = 1, PORT_CSC: UInt16 = 2, PORT_PE: UInt16 = 4, PORT_PR: UInt16 = 0x200
    let PTR_TERM: UInt32 = 1, PTR_QH: UInt32 = 2, PTR_DEPTH: UInt32 = 4
    let TD_ACTIVE: UInt32 = 1 << 23, TD_IOC: UInt32 = 1 << 24, TD_SPD: UInt32 = 1 << 29, TD_STALLED: UInt32 = 1 << 22
    let TD_CRCTIMEO: UInt32 = 1 << 18, TD_CERR3: UInt32 = 3 << 27
    let PID_SETUP: UInt32 = 0x2D, PID_IN: UInt32 = 0x69, PID_OUT: UInt32 = 0xE1

    // Where the schedule lives in guest RAM.
    let frameList = 0x10000, interruptQH = 0x11000, controlQH = 0x11010
    let tdArea = 0x12000, bufferArea = 0x13000, reportTD = 0x14000, reportBuffer = 0x14100

    override func setUp() {
        harness = PortHarness()
        ram = try! GuestRAM(size: 4 << 20)
        let space = AddressSpace(ram: ram)
        _ = try! space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        controller = UHCI(memory: space, memoryWritten: { _, _ in }, clock: harness.clock, scheduler: harness.scheduler)
        try! harness.bus.attach(controller.registers, name: "uhci", base: base, count: UHCI.ioBytes)
        controller.configWrite(offset: PCIConfig.command, value: UInt32(PCICommand.ioSpace | PCICommand.busMaster), size: .word)
        tablet = USBTablet()
        controller.attach(tablet, port: 0)
    }

    func inw(_ register: UInt16) -> UInt16 { harness.inw(base + register) }
    func outw(_ register: UInt16, _ value: UInt16) { harness.outw(base + register, value) }
    func poke32(_ address: Int, _ value: UInt32) { ram.base.storeBytes(of: value, toByteOffset: address, as: UInt32.self) }
    func peek32(_ address: Int) -> UInt32 { ram.base.load(fromByteOffset: address, as: UInt32.self) }
    func poke(_ address: Int, _ bytes: [UInt8]) { (ram.base + address).copyMemory(from: bytes, byteCount: bytes.count) }
    func peek(_ address: Int, _ count: Int) -> [UInt8] { [UInt8](UnsafeRawBufferPointer(start: ram.base + address, count: count)) }

    /// Lets guest time pass, firing the controller's timers as the machine's
    /// loop would with a guest ticking at 1 kHz: the slack timer on each pass.
    func run(milliseconds: Int) {
        for _ in 0..<milliseconds {
            harness.clock.skip(to: harness.clock.now + 1_000_000)
            harness.scheduler.runExpired(now: harness.clock.now)
            controller.idleTimer.runIfDue(now: harness.clock.now)
        }
    }

    // MARK: A driver in the style of uhci-hcd

    /// uhci_reset_hc, configure_hc and start_rh: the skeleton in every frame, then RS.
    func startController() {
        outw(USBCMD, CMD_HCRESET)
        XCTAssertEqual(inw(USBCMD) & CMD_HCRESET, 0, "HCRESET completes at once")
        for frame in 0..<1024 { poke32(frameList + 4 * frame, UInt32(interruptQH) | PTR_QH) }
        poke32(interruptQH, UInt32(controlQH) | PTR_QH)
        poke32(interruptQH + 4, PTR_TERM)
        poke32(controlQH, PTR_TERM)
        poke32(controlQH + 4, PTR_TERM)
        harness.outl(base + USBFLBASEADD, UInt32(frameList))
        outw(USBFRNUM, 0)
        outw(USBINTR, 0xF)
        outw(USBCMD, CMD_RS | CMD_CF | CMD_MAXP)
        XCTAssertEqual(inw(USBSTS) & STS_HCH, 0, "running")
    }

    /// The root hub's port reset: PR for 50 ms, then PE.
    func resetPort(_ register: UInt16) {
        outw(register, PORT_PR)
        run(milliseconds: 50)
        outw(register, 0)
        outw(register, PORT_CSC | PORT_PE)
    }

    func fillTD(_ address: Int, link: UInt32, control: UInt32, pid: UInt32, device: Int, endpoint: Int, length: Int, buffer: Int) {
        let maxLen: UInt32 = length == 0 ? 0x7FF : UInt32(length - 1)
        poke32(address, link)
        poke32(address + 4, control)
        poke32(address + 8, maxLen << 21 | UInt32(endpoint) << 15 | UInt32(device) << 8 | pid)
        poke32(address + 12, UInt32(buffer))
    }

    /// A control transfer queued on the control QH, as uhci_submit_control
    /// builds it; returns the data stage's bytes, or nil on a stall.
    func control(_ setup: USBSetup, device: Int, data: [UInt8] = [], maxPacket: Int = 8) -> [UInt8]? {
        poke(bufferArea, setup.bytes)
        var tds: [Int] = [tdArea]
        let setupControl = TD_ACTIVE | TD_CERR3
        let isIn = setup.requestType & 0x80 != 0
        var packets: [(offset: Int, length: Int)] = []
        var remaining = Int(setup.length), offset = 0
        while remaining > 0 {
            let length = min(remaining, maxPacket)
            packets.append((offset, length))
            offset += length
            remaining -= length
        }
        if !isIn { poke(bufferArea + 0x100, data) }
        for _ in packets { tds.append(tds.last! + 0x20) }
        let statusTD = tds.last! + 0x20
        tds.append(statusTD)
        fillTD(tds[0], link: UInt32(tds[1]) | PTR_DEPTH, control: setupControl, pid: PID_SETUP, device: device, endpoint: 0,
               length: 8, buffer: bufferArea)
        for (index, packet) in packets.enumerated() {
            fillTD(tds[index + 1], link: UInt32(tds[index + 2]) | PTR_DEPTH,
                   control: TD_ACTIVE | TD_CERR3 | (isIn ? TD_SPD : 0), pid: isIn ? PID_IN : PID_OUT,
                   device: device, endpoint: 0, length: packet.length, buffer: bufferArea + 0x100 + packet.offset)
        }
        fillTD(statusTD, link: PTR_TERM, control: TD_ACTIVE | TD_CERR3 | TD_IOC, pid: isIn ? PID_OUT : PID_IN,
               device: device, endpoint: 0, length: 0, buffer: 0)
        poke32(controlQH + 4, UInt32(tds[0]))
        for _ in 0..<100 {
            run(milliseconds: 1)
            let element = Int(peek32(controlQH + 4) & ~0xF)
            if let stuck = tds.firstIndex(of: element), peek32(element + 4) & TD_ACTIVE == 0 {
                if peek32(element + 4) & (TD_STALLED | TD_CRCTIMEO) != 0 { poke32(controlQH + 4, PTR_TERM); return nil }
                // uhci_fixup_short_transfer: a short data packet moves the queue to the status stage.
                XCTAssertNotEqual(peek32(element + 4) & TD_SPD, 0, "only an SPD TD stops the queue")
                XCTAssertTrue(stuck > 0 && stuck < tds.count - 1)
                poke32(controlQH + 4, UInt32(statusTD))
            }
            if peek32(statusTD + 4) & TD_ACTIVE == 0 { break }
        }
        XCTAssertEqual(peek32(statusTD + 4) & TD_ACTIVE, 0, "status stage done")
        XCTAssertEqual(peek32(controlQH + 4), PTR_TERM, "the queue ran to its end")
        guard isIn else { return [] }
        var received: [UInt8] = []
        for (index, packet) in packets.enumerated() {
            let status = peek32(tds[index + 1] + 4)
            if status & TD_ACTIVE != 0 { break }
            let actual = Int((status + 1) & 0x7FF)
            received += peek(bufferArea + 0x100 + packet.offset, actual)
            if actual < packet.length { break }
        }
        return received
    }

    func getDescriptor(type: UInt8, index: UInt8 = 0, length: UInt16, device: Int, requestType: UInt8 = 0x80) -> [UInt8]? {
        control(USBSetup(requestType: requestType, request: 6, value: UInt16(type) << 8 | UInt16(index), index: 0, length: length),
                device: device)
    }

    /// hub_port_init's sequence: 64 bytes of the device descriptor at
    /// address 0, SET_ADDRESS, then the full descriptors at the new address.
    func enumerate(address: Int = 5) -> [UInt8] {
        startController()
        resetPort(USBPORTSC1)
        let first = getDescriptor(type: 1, length: 64, device: 0)
        XCTAssertEqual(first?.count, 18)
        XCTAssertNotNil(control(USBSetup(requestType: 0, request: 5, value: UInt16(address), index: 0, length: 0), device: 0))
        XCTAssertEqual(tablet.address, UInt8(address))
        return getDescriptor(type: 1, length: 18, device: address) ?? []
    }

    // MARK: Tests

    func testIdentityAndPorts() {
        XCTAssertEqual(controller.configWord(PCIConfig.vendorID), 0x8086)
        XCTAssertEqual(controller.configWord(PCIConfig.deviceID), 0x7020)
        XCTAssertEqual(controller.configDword(8) >> 8, 0x0C0300, "serial bus, USB, UHCI")
        XCTAssertEqual(controller.configByte(PCIConfig.interruptPin), 4, "INTD#")
        XCTAssertEqual(controller.barInfo(4)?.size, 32)
        XCTAssertEqual(controller.configWord(0xC0), 0x2000, "USBLEGSUP default")
        XCTAssertEqual(inw(USBSTS) & STS_HCH, STS_HCH, "halted at power-on")
        XCTAssertEqual(inw(USBPORTSC1), 0x80 | PORT_CCS | PORT_CSC, "the tablet is connected")
        XCTAssertEqual(inw(USBPORTSC2), 0x80, "an empty port")
        XCTAssertEqual(inw(0x14) & 0x80, 0, "uhci_count_ports stops after two")
        outw(USBPORTSC1, PORT_CSC)
        XCTAssertEqual(inw(USBPORTSC1), 0x80 | PORT_CCS, "CSC cleared by writing one")
        outw(USBPORTSC2, PORT_PE)
        XCTAssertEqual(inw(USBPORTSC2) & PORT_PE, 0, "an empty port cannot be enabled")
    }

    func testFrameNumberFollowsTheClockOnlyWhileRunning() {
        startController()
        run(milliseconds: 5)
        XCTAssertEqual(inw(USBFRNUM), 5)
        outw(USBCMD, CMD_CF)
        XCTAssertEqual(inw(USBSTS) & STS_HCH, STS_HCH)
        run(milliseconds: 5)
        XCTAssertEqual(inw(USBFRNUM), 5, "stopped: FRNUM holds")
        XCTAssertEqual(harness.scheduler.pendingCount, 0, "no frame timer while RS is clear")
        outw(USBCMD, CMD_RS)
        run(milliseconds: 2048 + 3)
        XCTAssertEqual(inw(USBFRNUM), (5 + 2051) & 0x7FF, "eleven bits wrap")
    }

    func testEnumeratesTheTablet() throws {
        let device = enumerate()
        XCTAssertEqual(device.count, 18)
        XCTAssertEqual(device[0...1], [18, 1])
        XCTAssertEqual(UInt16(device[8]) | UInt16(device[9]) << 8, 0x0627, "QEMU's vendor ID")
        XCTAssertEqual(UInt16(device[10]) | UInt16(device[11]) << 8, 0x0001)
        XCTAssertEqual(device[7], 64, "bMaxPacketSize0")

        let header = try XCTUnwrap(getDescriptor(type: 2, length: 9, device: 5))
        let total = Int(header[2]) | Int(header[3]) << 8
        XCTAssertEqual(total, 34)
        let configuration = try XCTUnwrap(getDescriptor(type: 2, length: UInt16(total), device: 5))
        XCTAssertEqual(configuration.count, 34)
        XCTAssertEqual(configuration[9...16], [9, 4, 0, 0, 1, 3, 0, 0], "one HID interface, one endpoint")
        XCTAssertEqual(configuration[18...19], [9, 0x21], "HID descriptor")
        let reportLength = Int(configuration[25]) | Int(configuration[26]) << 8
        XCTAssertEqual(configuration[27...33], [7, 5, 0x81, 3, 6, 0, 10], "interrupt IN 1, 6 bytes, every 10 ms")

        let languages = try XCTUnwrap(getDescriptor(type: 3, index: 0, length: 255, device: 5))
        XCTAssertEqual(languages, [4, 3, 0x09, 0x04])
        let product = try XCTUnwrap(getDescriptor(type: 3, index: 2, length: 255, device: 5))
        let units = stride(from: 2, to: product.count, by: 2).map { UInt16(product[$0]) | UInt16(product[$0 + 1]) << 8 }
        XCTAssertEqual(String(decoding: units, as: UTF16.self), "PCEmu USB Tablet")

        XCTAssertNil(getDescriptor(type: 6, length: 10, device: 5), "no device qualifier: a full-speed-only device stalls")
        XCTAssertNotNil(control(USBSetup(requestType: 0, request: 9, value: 1, index: 0, length: 0), device: 5))
        XCTAssertEqual(tablet.configuration, 1)
        XCTAssertNotNil(control(USBSetup(requestType: 0x21, request: 0x0A, value: 0, index: 0, length: 0), device: 5), "SET_IDLE")
        let report = try XCTUnwrap(getDescriptor(type: 0x22, length: UInt16(reportLength), device: 5, requestType: 0x81))
        XCTAssertEqual(report.count, reportLength)
        XCTAssertEqual(report, USBTablet.reportDescriptor)
        XCTAssertTrue(report.starts(with: [0x05, 0x01, 0x09, 0x02, 0xA1, 0x01]), "a generic desktop mouse application")
        let logicalMaximum = report.indices.dropLast(2).first { report[$0] == 0x26 }
        XCTAssertEqual(logicalMaximum.map { Array(report[$0...$0 + 2]) }, [0x26, 0xFF, 0x7F], "axes up to 32767")

        tablet.pointerChanged(x: 100, y: 200, buttons: [])
        let current = try XCTUnwrap(control(USBSetup(requestType: 0xA1, request: 1, value: 0x0100, index: 0, length: 6), device: 5))
        XCTAssertEqual(current, [0, 100, 0, 200, 0, 0], "GET_REPORT")
    }

    /// The interrupt URB usbhid keeps queued: NAKed while nothing moves,
    /// completed with the report and an interrupt once the pointer moves.
    func testInterruptReportsReachTheGuest() throws {
        _ = enumerate()
        XCTAssertNotNil(control(USBSetup(requestType: 0, request: 9, value: 1, index: 0, length: 0), device: 5))
        outw(USBSTS, 0x3F)
        XCTAssertFalse(controller.interruptLevel)

        fillTD(reportTD, link: PTR_TERM, control: TD_ACTIVE | TD_CERR3 | TD_IOC | TD_SPD, pid: PID_IN, device: 5, endpoint: 1,
               length: 6, buffer: reportBuffer)
        poke32(interruptQH + 4, UInt32(reportTD))
        run(milliseconds: 30)
        XCTAssertNotEqual(peek32(reportTD + 4) & TD_ACTIVE, 0, "NAKed: nothing to report")
        XCTAssertEqual(peek32(interruptQH + 4), UInt32(reportTD))
        XCTAssertFalse(controller.interruptLevel)

        tablet.pointerChanged(x: 1000, y: 32767, buttons: [.left], wheel: -1)
        run(milliseconds: 1)
        XCTAssertEqual(peek32(reportTD + 4) & TD_ACTIVE, 0)
        XCTAssertEqual(peek32(reportTD + 4) & 0x7FF, 5, "six bytes")
        XCTAssertEqual(peek(reportBuffer, 6), [1, 0xE8, 0x03, 0xFF, 0x7F, 0xFF])
        XCTAssertEqual(peek32(interruptQH + 4), PTR_TERM, "the queue moved on")
        XCTAssertEqual(inw(USBSTS) & STS_USBINT, STS_USBINT)
        XCTAssertTrue(controller.interruptLevel, "IOC with USBINTR's IOC enable raises INTx")
        outw(USBSTS, STS_USBINT)
        XCTAssertFalse(controller.interruptLevel)
    }

    /// Once nothing happens the frames wait for the idle slack timer, which
    /// wakes nobody; a device with data brings the 1 ms timer back at once.
    /// With RS clear there is no timer.
    func testTimerIdlesWhenTheScheduleIsQuiet() {
        _ = enumerate()
        XCTAssertNotNil(control(USBSetup(requestType: 0, request: 9, value: 1, index: 0, length: 0), device: 5))
        fillTD(reportTD, link: PTR_TERM, control: TD_ACTIVE | TD_IOC, pid: PID_IN, device: 5, endpoint: 1, length: 6, buffer: reportBuffer)
        poke32(interruptQH + 4, UInt32(reportTD))
        run(milliseconds: 40)
        var fires = 0, idleRuns = 0
        let start = controller.framesProcessed
        for _ in 0..<1000 {
            harness.clock.skip(to: harness.clock.now + 1_000_000)
            fires += harness.scheduler.runExpired(now: harness.clock.now)
            if controller.idleTimer.isPending && controller.idleTimer.deadline <= harness.clock.now { idleRuns += 1 }
            controller.idleTimer.runIfDue(now: harness.clock.now)
        }
        XCTAssertEqual(fires, 0, "a quiet schedule arms no timer that would wake the CPU loop")
        XCTAssertLessThanOrEqual(idleRuns, 1000 / 16 + 1, "the schedule is walked at most 63 times a second")
        XCTAssertEqual(Double(controller.framesProcessed - start), 1000, accuracy: 16, "every frame is still walked")

        tablet.pointerChanged(x: 5, y: 6, buttons: [])
        XCTAssertLessThanOrEqual(harness.scheduler.nextDeadline ?? .max, harness.clock.now + 1_000_000,
                                 "data brings the timer back at the next frame")
        run(milliseconds: 1)
        XCTAssertEqual(peek32(reportTD + 4) & TD_ACTIVE, 0)
        XCTAssertEqual(peek(reportBuffer, 6), [0, 5, 0, 6, 0, 0])

        outw(USBCMD, 0)
        XCTAssertEqual(harness.scheduler.pendingCount, 0)
        XCTAssertFalse(controller.idleTimer.isPending)
    }

    func testNoDeviceAtAnAddressTimesOut() {
        startController()
        resetPort(USBPORTSC1)
        outw(USBSTS, 0x3F)
        fillTD(tdArea, link: PTR_TERM, control: TD_ACTIVE | TD_CERR3 | TD_IOC, pid: PID_SETUP, device: 9, endpoint: 0,
               length: 8, buffer: bufferArea)
        poke32(controlQH + 4, UInt32(tdArea))
        run(milliseconds: 2)
        let status = peek32(tdArea + 4)
        XCTAssertEqual(status & (TD_ACTIVE | TD_CRCTIMEO), TD_CRCTIMEO)
        XCTAssertEqual(peek32(controlQH + 4), UInt32(tdArea), "an error leaves the queue where it is")
        XCTAssertEqual(inw(USBSTS) & (STS_ERROR | STS_USBINT), STS_ERROR | STS_USBINT)
        XCTAssertTrue(controller.interruptLevel)
    }

    func testDisabledPortAndUnconfiguredDeviceDoNotAnswer() {
        startController()
        // Not reset and enabled: address 0 answers nothing.
        XCTAssertNil(getDescriptor(type: 1, length: 18, device: 0))
        resetPort(USBPORTSC1)
        XCTAssertNotNil(getDescriptor(type: 1, length: 18, device: 0))
        fillTD(reportTD, link: PTR_TERM, control: TD_ACTIVE, pid: PID_IN, device: 0, endpoint: 1, length: 6, buffer: reportBuffer)
        poke32(interruptQH + 4, UInt32(reportTD))
        run(milliseconds: 2)
        XCTAssertEqual(peek32(reportTD + 4) & (TD_ACTIVE | TD_STALLED), TD_STALLED, "endpoint 1 before SET_CONFIGURATION")
    }

    func testMalformedTokenHaltsWithProcessError() {
        startController()
        fillTD(tdArea, link: PTR_TERM, control: TD_ACTIVE, pid: 0x55, device: 0, endpoint: 0, length: 8, buffer: bufferArea)
        poke32(controlQH + 4, UInt32(tdArea))
        run(milliseconds: 2)
        XCTAssertEqual(inw(USBSTS) & (STS_HCPE | STS_HCH), STS_HCPE | STS_HCH)
        XCTAssertEqual(inw(USBCMD) & CMD_RS, 0)
        XCTAssertTrue(controller.interruptLevel, "process errors interrupt whatever USBINTR says")
        XCTAssertEqual(harness.scheduler.pendingCount, 0)
    }

    func testBusMasteringOffReadsNoSchedule() {
        startController()
        resetPort(USBPORTSC1)
        controller.configWrite(offset: PCIConfig.command, value: UInt32(PCICommand.ioSpace), size: .word)
        fillTD(tdArea, link: PTR_TERM, control: TD_ACTIVE | TD_IOC, pid: PID_SETUP, device: 0, endpoint: 0, length: 8, buffer: bufferArea)
        poke32(controlQH + 4, UInt32(tdArea))
        run(milliseconds: 3)
        XCTAssertNotEqual(peek32(tdArea + 4) & TD_ACTIVE, 0)
    }

    func testByteAccessesToPortStatusKeepTheChangeBits() {
        harness.out(base + USBPORTSC1, UInt8(PORT_PE))
        XCTAssertEqual(inw(USBPORTSC1) & (PORT_CSC | PORT_PE), PORT_CSC | PORT_PE, "the high byte's write did not clear CSC")
        harness.out(base + 0x0C, 0x40)
        XCTAssertEqual(harness.inb(base + 0x0C), 0x40, "SOFMOD")
    }
}

extension UHCITests {
    /// The idle figure: Linux's whole skeleton (interrupt QHs for periods
    /// 128 down to 1, each frame entering at the one its number calls for,
    /// then the control and bulk QHs and the terminating QH that loops back
    /// on itself), with the tablet's interrupt TD NAKed in every frame. One
    /// second of guest time must cost the host under 2 ms: 0.2% of a core.
    func testAQuietSecondOfLinuxsScheduleCostsUnderTwoMilliseconds() {
        _ = enumerate()
        XCTAssertNotNil(control(USBSetup(requestType: 0, request: 9, value: 1, index: 0, length: 0), device: 5))
        let skeleton = 0x15000
        let periods = 8  // int128 ... int1
        let asyncQH = skeleton + 16 * periods, termQH = asyncQH + 16
        for level in 0..<periods {
            let qh = skeleton + 16 * level
            poke32(qh, UInt32(level == periods - 1 ? asyncQH : qh + 16) | PTR_QH)
            poke32(qh + 4, PTR_TERM)
        }
        poke32(asyncQH, UInt32(termQH) | PTR_QH)
        poke32(asyncQH + 4, PTR_TERM)
        poke32(termQH, UInt32(termQH) | PTR_QH)
        poke32(termQH + 4, PTR_TERM)
        for frame in 0..<1024 {
            // Frame f enters at int(2^k) where k is its count of trailing ones, as uhci-hcd's skel_index does.
            var level = 0, bits = frame
            while bits & 1 == 1 && level < periods - 1 { level += 1; bits >>= 1 }
            poke32(frameList + 4 * frame, UInt32(skeleton + 16 * level) | PTR_QH)
        }
        // The report TD waits on int8, as usbhid's 10 ms interval puts it.
        fillTD(reportTD, link: PTR_TERM, control: TD_ACTIVE | TD_IOC | TD_SPD, pid: PID_IN, device: 5, endpoint: 1,
               length: 6, buffer: reportBuffer)
        poke32(skeleton + 16 * (periods - 4) + 4, UInt32(reportTD))
        run(milliseconds: 40)
        let framesBefore = controller.framesProcessed
        let start = DispatchTime.now().uptimeNanoseconds
        run(milliseconds: 1000)
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        print("UHCI: one quiet second of Linux's schedule cost \(String(format: "%.3f", elapsed)) ms of host time")
        XCTAssertEqual(Double(controller.framesProcessed - framesBefore), 1000, accuracy: 16)
        XCTAssertNotEqual(peek32(reportTD + 4) & TD_ACTIVE, 0, "still waiting")
        XCTAssertLessThan(elapsed, 2, "0.2% of a core")
    }
}
