import Memory
import Timing
import XCTest
@testable import Devices

/// A small xHCI driver in the manner of Linux's xhci_hcd, for the register
/// tests: rings and contexts at fixed places in 4 MiB of guest RAM, the
/// controller's window reached through its MMIO handler, commands queued on
/// the command ring and their completions read back from event ring 0.
final class XHCIDriver {
    let ram: GuestRAM
    let space: AddressSpace
    let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
    let scheduler = EventScheduler()
    let controller: XHCI

    // Registers as xhci_hcd names them.
    static let USBCMD: UInt32 = 0x40, USBSTS: UInt32 = 0x44, CRCR: UInt32 = 0x58, DCBAAP: UInt32 = 0x70, CONFIG: UInt32 = 0x78
    static let PORTSC1: UInt32 = 0x440
    static let IMAN: UInt32 = 0x1020, IMOD: UInt32 = 0x1024, ERSTSZ: UInt32 = 0x1028, ERSTBA: UInt32 = 0x1030, ERDP: UInt32 = 0x1038
    static let DB: UInt32 = 0x2000
    static let CMD_RUN: UInt32 = 1, CMD_RESET: UInt32 = 2, CMD_EIE: UInt32 = 4
    static let STS_HALT: UInt32 = 1, STS_EINT: UInt32 = 8, STS_PORT: UInt32 = 0x10, STS_CNR: UInt32 = 0x800
    static let PORT_CONNECT: UInt32 = 1, PORT_PE: UInt32 = 2, PORT_RESET: UInt32 = 0x10, PORT_POWER: UInt32 = 0x200
    static let PORT_CSC: UInt32 = 1 << 17, PORT_RC: UInt32 = 1 << 21
    static let TRB_CYCLE: UInt32 = 1, TRB_TC: UInt32 = 2, TRB_ISP: UInt32 = 4, TRB_CHAIN: UInt32 = 0x10, TRB_IOC: UInt32 = 0x20
    static let TRB_IDT: UInt32 = 0x40, TRB_DIR_IN: UInt32 = 1 << 16

    // Where things live in guest RAM.
    static let dcbaa: UInt64 = 0x10000, commandRing: UInt64 = 0x11000, eventRing: UInt64 = 0x12000, erst: UInt64 = 0x13000
    static let inputContext: UInt64 = 0x14000, outputContext: UInt64 = 0x15000
    static let ep0Ring: UInt64 = 0x16000, ep1Ring: UInt64 = 0x17000, buffer: UInt64 = 0x18000, reportBuffer: UInt64 = 0x19000
    static let ringTRBs = 64, eventTRBs = 64

    /// Producer state of the rings this driver fills, consumer state of event ring 0.
    var commandEnqueue = XHCIDriver.commandRing, commandCycle: UInt32 = 1
    var ringEnqueue: [UInt64: UInt64] = [:], ringCycle: [UInt64: UInt32] = [:]
    var eventDequeue = XHCIDriver.eventRing, eventCycle: UInt32 = 1

    init() throws {
        ram = try GuestRAM(size: 4 << 20)
        space = AddressSpace(ram: ram)
        _ = try space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        controller = XHCI(memory: space, memoryWritten: { _, _ in }, clock: clock, scheduler: scheduler)
        controller.configWrite(offset: PCIConfig.command, value: UInt32(PCICommand.memorySpace | PCICommand.busMaster), size: .word)
    }

    func read(_ offset: UInt32) -> UInt32 { controller.registerWindow.read(offset: offset, size: .dword) }
    func write(_ offset: UInt32, _ value: UInt32) { controller.registerWindow.write(offset: offset, value: value, size: .dword) }
    func write64(_ offset: UInt32, _ value: UInt64) {
        write(offset, UInt32(truncatingIfNeeded: value))
        write(offset + 4, UInt32(truncatingIfNeeded: value >> 32))
    }

    func poke32(_ address: UInt64, _ value: UInt32) { ram.base.storeBytes(of: value, toByteOffset: Int(address), as: UInt32.self) }
    func peek32(_ address: UInt64) -> UInt32 { ram.base.load(fromByteOffset: Int(address), as: UInt32.self) }
    func poke64(_ address: UInt64, _ value: UInt64) { ram.base.storeBytes(of: value, toByteOffset: Int(address), as: UInt64.self) }
    func peek(_ address: UInt64, _ count: Int) -> [UInt8] {
        [UInt8](UnsafeRawBufferPointer(start: ram.base + Int(address), count: count))
    }
    func clear(_ address: UInt64, _ count: Int) { (ram.base + Int(address)).initializeMemory(as: UInt8.self, repeating: 0, count: count) }

    /// Lets guest time pass, firing the controller's timers.
    func run(microseconds: Int64) {
        clock.skip(to: clock.now + microseconds * 1000)
        scheduler.runExpired(now: clock.now)
    }

    // MARK: Bring-up as xhci_hcd does it

    /// xhci_reset, xhci_init (rings, DCBAA, ERST), xhci_run.
    func start(slots: UInt32 = 8) {
        write(XHCIDriver.USBCMD, XHCIDriver.CMD_RESET)
        XCTAssertEqual(read(XHCIDriver.USBCMD) & XHCIDriver.CMD_RESET, 0, "HCRST completes at once")
        XCTAssertEqual(read(XHCIDriver.USBSTS) & (XHCIDriver.STS_CNR | XHCIDriver.STS_HALT), XHCIDriver.STS_HALT)
        write(XHCIDriver.CONFIG, slots)
        clear(XHCIDriver.dcbaa, 0x10000)
        write64(XHCIDriver.DCBAAP, XHCIDriver.dcbaa)
        makeRing(XHCIDriver.commandRing)
        commandEnqueue = XHCIDriver.commandRing
        commandCycle = 1
        write64(XHCIDriver.CRCR, XHCIDriver.commandRing | 1)
        poke64(XHCIDriver.erst, XHCIDriver.eventRing)
        poke32(XHCIDriver.erst + 8, UInt32(XHCIDriver.eventTRBs))
        eventDequeue = XHCIDriver.eventRing
        eventCycle = 1
        write(XHCIDriver.ERSTSZ, 1)
        write64(XHCIDriver.ERDP, XHCIDriver.eventRing)
        write64(XHCIDriver.ERSTBA, XHCIDriver.erst)
        write(XHCIDriver.IMOD, 160)
        write(XHCIDriver.IMAN, 2)
        write(XHCIDriver.USBCMD, XHCIDriver.CMD_RUN | XHCIDriver.CMD_EIE)
        XCTAssertEqual(read(XHCIDriver.USBSTS) & XHCIDriver.STS_HALT, 0, "running")
    }

    /// A ring of `ringTRBs` zeroed TRBs whose last is a Link back with Toggle Cycle.
    func makeRing(_ base: UInt64) {
        clear(base, 16 * XHCIDriver.ringTRBs)
        let link = base + UInt64(16 * (XHCIDriver.ringTRBs - 1))
        poke64(link, base)
        poke32(link + 12, 6 << 10 | XHCIDriver.TRB_TC)
        ringEnqueue[base] = base
        ringCycle[base] = 1
    }

    /// Queues a TRB on a transfer ring made by `makeRing`, crossing its Link TRB as xhci_hcd does.
    func queue(on ring: UInt64, parameter: UInt64, status: UInt32, control: UInt32) {
        var at = ringEnqueue[ring]!
        var cycle = ringCycle[ring]!
        poke64(at, parameter)
        poke32(at + 8, status)
        poke32(at + 12, control & ~1 | cycle)
        at += 16
        if at == ring + UInt64(16 * (XHCIDriver.ringTRBs - 1)) {
            // Hand the Link TRB over too, then wrap.
            poke32(at + 12, peek32(at + 12) & ~1 | cycle)
            at = ring
            cycle ^= 1
        }
        ringEnqueue[ring] = at
        ringCycle[ring] = cycle
    }

    /// The next event on ring 0, if the controller wrote one; ERDP moves past it with EHB cleared.
    func nextEvent() -> XHCITRB? {
        let control = peek32(eventDequeue + 12)
        guard control & 1 == eventCycle else { return nil }
        let event = XHCITRB(parameter: ram.base.load(fromByteOffset: Int(eventDequeue), as: UInt64.self),
                            status: peek32(eventDequeue + 8), control: control)
        eventDequeue += 16
        if eventDequeue == XHCIDriver.eventRing + UInt64(16 * XHCIDriver.eventTRBs) {
            eventDequeue = XHCIDriver.eventRing
            eventCycle ^= 1
        }
        write64(XHCIDriver.ERDP, eventDequeue | 8)
        return event
    }

    /// Every event waiting, in order.
    func events() -> [XHCITRB] {
        var all: [XHCITRB] = []
        while let event = nextEvent() { all.append(event) }
        return all
    }

    /// Queues a command, rings doorbell 0 and returns its completion event.
    func command(type: UInt32, parameter: UInt64 = 0, control: UInt32 = 0, file: StaticString = #filePath, line: UInt = #line) -> XHCITRB? {
        let at = commandEnqueue
        poke64(at, parameter)
        poke32(at + 8, 0)
        poke32(at + 12, control | type << 10 | commandCycle)
        commandEnqueue += 16
        if commandEnqueue == XHCIDriver.commandRing + UInt64(16 * (XHCIDriver.ringTRBs - 1)) {
            poke32(commandEnqueue + 12, peek32(commandEnqueue + 12) & ~1 | commandCycle)
            commandEnqueue = XHCIDriver.commandRing
            commandCycle ^= 1
        }
        write(XHCIDriver.DB, 0)
        let completions = events().filter { $0.type == 33 }
        XCTAssertEqual(completions.count, 1, "one completion", file: file, line: line)
        XCTAssertEqual(completions.first?.parameter, at, "for this command", file: file, line: line)
        return completions.first
    }

    static func code(_ event: XHCITRB?) -> UInt32 { (event?.status ?? 0) >> 24 }

    /// Port 1 reset as the hub driver does it: PR, then PRC cleared.
    func resetPort(_ port: Int = 1) {
        let offset = XHCIDriver.PORTSC1 + 0x10 * UInt32(port - 1)
        write(offset, XHCIDriver.PORT_POWER | XHCIDriver.PORT_RESET)
        write(offset, XHCIDriver.PORT_POWER | XHCIDriver.PORT_RC | XHCIDriver.PORT_CSC)
    }

    /// Enable Slot and Address Device for the device on `port`: the slot ID.
    func enableAndAddress(port: Int = 1, maxPacket: UInt32 = 64) -> Int {
        let enabled = command(type: 9)
        XCTAssertEqual(XHCIDriver.code(enabled), 1)
        let slot = Int(enabled!.control >> 24)
        poke64(XHCIDriver.dcbaa + UInt64(8 * slot), XHCIDriver.outputContext)
        clear(XHCIDriver.inputContext, 33 * 32)
        clear(XHCIDriver.outputContext, 32 * 32)
        poke32(XHCIDriver.inputContext + 4, 3)  // A0 | A1
        // Slot context: full speed, one context entry, the root port.
        poke32(XHCIDriver.inputContext + 32, 1 << 27 | 1 << 20)
        poke32(XHCIDriver.inputContext + 36, UInt32(port) << 16)
        // EP0: control, CErr 3, the packet size, the ring.
        makeRing(XHCIDriver.ep0Ring)
        poke32(XHCIDriver.inputContext + 64 + 4, maxPacket << 16 | 4 << 3 | 3 << 1)
        poke64(XHCIDriver.inputContext + 64 + 8, XHCIDriver.ep0Ring | 1)
        let addressed = command(type: 11, parameter: XHCIDriver.inputContext, control: UInt32(slot) << 24)
        XCTAssertEqual(XHCIDriver.code(addressed), 1, "Address Device succeeds")
        return slot
    }

    /// A control transfer on EP0 as xhci_hcd queues it: the events it brought.
    func control(slot: Int, setup: USBSetup, data: UInt64 = XHCIDriver.buffer) -> [XHCITRB] {
        let bytes = setup.bytes
        var parameter: UInt64 = 0
        for (index, byte) in bytes.enumerated() { parameter |= UInt64(byte) << (8 * UInt64(index)) }
        let input = setup.requestType & 0x80 != 0
        let hasData = setup.length > 0
        let transferType: UInt32 = hasData ? (input ? 3 : 2) : 0
        queue(on: XHCIDriver.ep0Ring, parameter: parameter, status: 8, control: 2 << 10 | XHCIDriver.TRB_IDT | transferType << 16)
        if hasData {
            queue(on: XHCIDriver.ep0Ring, parameter: data, status: UInt32(setup.length),
                  control: 3 << 10 | (input ? XHCIDriver.TRB_DIR_IN | XHCIDriver.TRB_ISP : 0))
        }
        // The status stage goes the other way (IN when there is no data).
        let statusIn = !(hasData && input)
        queue(on: XHCIDriver.ep0Ring, parameter: 0, status: 0, control: 4 << 10 | XHCIDriver.TRB_IOC | (statusIn ? XHCIDriver.TRB_DIR_IN : 0))
        write(XHCIDriver.DB + 4 * UInt32(slot), 1)
        return events()
    }

    /// SET_CONFIGURATION(1), then Configure Endpoint adding an interrupt IN endpoint at `dci` on ring `ep1Ring`.
    func configureInterruptIn(slot: Int, dci: Int = 3, maxPacket: UInt32 = 6) -> UInt32 {
        _ = control(slot: slot, setup: USBSetup(requestType: 0, request: 9, value: 1, index: 0, length: 0))
        clear(XHCIDriver.inputContext, 33 * 32)
        poke32(XHCIDriver.inputContext + 4, 1 | 1 << UInt32(dci))
        poke32(XHCIDriver.inputContext + 32, UInt32(dci) << 27 | 1 << 20)
        makeRing(XHCIDriver.ep1Ring)
        let context = XHCIDriver.inputContext + 32 * UInt64(dci + 1)
        poke32(context, 7 << 16)
        poke32(context + 4, maxPacket << 16 | 7 << 3 | 3 << 1)
        poke64(context + 8, XHCIDriver.ep1Ring | 1)
        return XHCIDriver.code(command(type: 12, parameter: XHCIDriver.inputContext, control: UInt32(slot) << 24))
    }
}
