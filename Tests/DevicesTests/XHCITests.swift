import Foundation
import Memory
import Timing
import XCTest
@testable import Devices

/// The xHCI controller driven as Linux's xhci_hcd drives it (`XHCIDriver`):
/// identity and capability registers, reset and run, the connect seen as a
/// Port Status Change Event, a port reset, Enable Slot and Address Device,
/// GET_DESCRIPTOR through setup/data/status TRBs, SET_CONFIGURATION and
/// Configure Endpoint, an interrupt IN TRB that waits for the tablet and
/// completes with its report, a STALL and the Reset Endpoint / Set TR
/// Dequeue recovery, commands in the wrong state, interrupt moderation.
final class XHCITests: XCTestCase {
    var driver: XHCIDriver!
    var tablet: USBTablet!
    typealias D = XHCIDriver

    override func setUpWithError() throws {
        driver = try XHCIDriver()
        tablet = USBTablet()
        driver.controller.attach(tablet, port: 0)
    }

    func testIdentityAndCapabilitiesAreQEMUs() {
        let controller = driver.controller
        XCTAssertEqual(controller.configRead(offset: PCIConfig.vendorID, size: .dword), 0x000D_1B36)
        XCTAssertEqual(controller.configRead(offset: PCIConfig.revision, size: .dword) >> 8, 0x0C_03_30)
        XCTAssertEqual(controller.configRead(offset: 0x60, size: .byte), 0x30, "SBRN: USB 3.0")
        // BAR 0 is 64-bit memory of 16 KiB: sized through both dwords.
        controller.configWrite(offset: PCIConfig.bar0, value: 0xFFFF_FFFF, size: .dword)
        controller.configWrite(offset: PCIConfig.bar0 + 4, value: 0xFFFF_FFFF, size: .dword)
        XCTAssertEqual(controller.configRead(offset: PCIConfig.bar0, size: .dword), 0xFFFF_C004)
        XCTAssertEqual(controller.configRead(offset: PCIConfig.bar0 + 4, size: .dword), 0xFFFF_FFFF)
        XCTAssertNil(controller.mappedAddress(ofBAR: 0), "not decoded while the high dword is not zero")
        controller.configWrite(offset: PCIConfig.bar0, value: 0xFEBF_0000, size: .dword)
        controller.configWrite(offset: PCIConfig.bar0 + 4, value: 0, size: .dword)
        XCTAssertEqual(controller.mappedAddress(ofBAR: 0), 0xFEBF_0000)

        XCTAssertEqual(driver.read(0x00), 0x0100_0040, "CAPLENGTH 0x40, HCIVERSION 1.0")
        XCTAssertEqual(controller.registerWindow.read(offset: 0, size: .byte), 0x40)
        XCTAssertEqual(controller.registerWindow.read(offset: 2, size: .word), 0x100)
        XCTAssertEqual(driver.read(0x04), 8 << 24 | 16 << 8 | 64, "8 ports, 16 interrupters, 64 slots")
        XCTAssertEqual(driver.read(0x10) & 0xFFFF_0001, 0x0008_0001, "64-bit addressing, xECP at 0x20")
        XCTAssertEqual(driver.read(0x14), 0x2000, "doorbells")
        XCTAssertEqual(driver.read(0x18), 0x1000, "runtime registers")
        // Supported Protocol: USB 2.0 on ports 1-4, USB 3.0 on 5-8.
        XCTAssertEqual([driver.read(0x20), driver.read(0x24), driver.read(0x28)], [0x0200_0402, 0x2042_5355, 0x0000_0401])
        XCTAssertEqual([driver.read(0x30), driver.read(0x34), driver.read(0x38)], [0x0300_0002, 0x2042_5355, 0x0000_0405])
        XCTAssertEqual(driver.read(0x48), 1, "4 KiB pages")
    }

    func testRunTellsOfTheConnectAndAPortResetEnablesThePort() {
        let portsc = driver.read(D.PORTSC1)
        XCTAssertEqual(portsc & (D.PORT_CONNECT | D.PORT_PE | D.PORT_POWER | D.PORT_CSC), D.PORT_CONNECT | D.PORT_POWER | D.PORT_CSC)
        XCTAssertEqual((portsc >> 10) & 0xF, 1, "full speed")
        XCTAssertEqual(driver.read(D.PORTSC1 + 0x10) & D.PORT_CONNECT, 0, "port 2 is empty")
        XCTAssertEqual(driver.read(D.PORTSC1 + 0x40) >> 5 & 0xF, 5, "USB 3 port 5 empty, in RxDetect")
        driver.start()
        let events = driver.events()
        XCTAssertEqual(events.map { $0.type }, [34], "one Port Status Change Event")
        XCTAssertEqual(events.first?.parameter, 1 << 24, "for port 1")
        XCTAssertNotEqual(driver.read(D.USBSTS) & D.STS_PORT, 0, "PCD")
        XCTAssertNotEqual(driver.read(D.USBSTS) & D.STS_EINT, 0, "EINT")
        XCTAssertTrue(driver.controller.interruptLevel, "INTx")
        // The handler: EINT and IP cleared, then the line drops.
        driver.write(D.USBSTS, D.STS_EINT | D.STS_PORT)
        driver.write(D.IMAN, 3)
        XCTAssertFalse(driver.controller.interruptLevel)

        driver.write(D.PORTSC1, D.PORT_POWER | D.PORT_CSC)
        XCTAssertEqual(driver.read(D.PORTSC1) & D.PORT_CSC, 0, "CSC cleared by writing one")
        driver.write(D.PORTSC1, D.PORT_POWER | D.PORT_RESET)
        let reset = driver.read(D.PORTSC1)
        XCTAssertEqual(reset & (D.PORT_RESET | D.PORT_PE | D.PORT_RC), D.PORT_PE | D.PORT_RC, "reset done: enabled, PRC")
        XCTAssertEqual(reset >> 5 & 0xF, 0, "U0")
        driver.run(microseconds: 100)
        XCTAssertEqual(driver.events().map { $0.parameter }, [1 << 24], "PRC told by an event")
        // Writing PED disables the port.
        driver.write(D.PORTSC1, D.PORT_POWER | D.PORT_PE)
        XCTAssertEqual(driver.read(D.PORTSC1) & D.PORT_PE, 0)
    }

    /// Enumeration as hub_port_init and usb_new_device do it, then the interrupt pipe.
    func testEnumerationAndATabletReportThroughTheInterruptEndpoint() throws {
        driver.start()
        _ = driver.events()
        driver.resetPort()
        _ = driver.events()
        let slot = driver.enableAndAddress()
        XCTAssertEqual(slot, 1)
        XCTAssertEqual(tablet.address, UInt8(slot), "SET_ADDRESS sent with the slot ID")
        let output = D.outputContext
        XCTAssertEqual(driver.peek32(output + 12), 2 << 27 | UInt32(slot), "slot Addressed, USB address in the output context")
        XCTAssertEqual(driver.peek32(output + 32) & 7, 1, "EP0 running")
        XCTAssertEqual(driver.peek32(output + 36) >> 16, 64)

        // GET_DESCRIPTOR(device, 8) then the whole 18 bytes.
        var events = driver.control(slot: slot, setup: USBSetup(requestType: 0x80, request: 6, value: 0x100, index: 0, length: 8))
        XCTAssertEqual(events.map { D.code($0) }, [1], "one event, success")
        XCTAssertEqual(events.first.map { $0.control >> 24 }, UInt32(slot))
        XCTAssertEqual(events.first.map { $0.control >> 16 & 0x1F }, 1, "EP0's DCI")
        XCTAssertEqual(driver.peek(D.buffer, 8), [18, 1, 0x10, 0x01, 0, 0, 0, 64])
        events = driver.control(slot: slot, setup: USBSetup(requestType: 0x80, request: 6, value: 0x100, index: 0, length: 18))
        XCTAssertEqual(events.map { D.code($0) }, [1])
        XCTAssertEqual(Array(driver.peek(D.buffer + 8, 4)), [0x27, 0x06, 0x01, 0x00], "idVendor 0627, idProduct 0001")

        // GET_DESCRIPTOR(configuration, 255): short, so the data stage's ISP event comes first with the residual.
        events = driver.control(slot: slot, setup: USBSetup(requestType: 0x80, request: 6, value: 0x200, index: 0, length: 255))
        XCTAssertEqual(events.map { D.code($0) }, [13, 1], "Short Packet, then the status stage")
        let total = Int(driver.peek(D.buffer + 2, 2)[0])
        XCTAssertEqual(events.first.map { Int($0.status & 0xFF_FFFF) }, 255 - total)
        XCTAssertEqual(driver.peek(D.buffer, 2), [9, 2])

        // SET_CONFIGURATION(1), then Configure Endpoint adding EP1 IN (DCI 3), interrupt, 6-byte packets.
        events = driver.control(slot: slot, setup: USBSetup(requestType: 0, request: 9, value: 1, index: 0, length: 0))
        XCTAssertEqual(events.map { D.code($0) }, [1])
        XCTAssertEqual(tablet.configuration, 1)
        driver.clear(D.inputContext, 33 * 32)
        driver.poke32(D.inputContext + 4, 1 | 1 << 3)
        driver.poke32(D.inputContext + 32, 3 << 27 | 1 << 20)
        driver.makeRing(D.ep1Ring)
        driver.poke32(D.inputContext + 32 * 4, 7 << 16)
        driver.poke32(D.inputContext + 32 * 4 + 4, 6 << 16 | 7 << 3 | 3 << 1)
        driver.poke64(D.inputContext + 32 * 4 + 8, D.ep1Ring | 1)
        XCTAssertEqual(D.code(driver.command(type: 12, parameter: D.inputContext, control: UInt32(slot) << 24)), 1)
        XCTAssertEqual(driver.peek32(output + 12) >> 27, 3, "slot Configured")
        XCTAssertEqual(driver.peek32(output + 32 * 3) & 7, 1, "EP1 IN running")
        XCTAssertEqual(driver.peek32(output) >> 27, 3, "context entries from the input slot context")

        // An interrupt IN TRB with nothing to report: no event, and no timer polls for it.
        driver.queue(on: D.ep1Ring, parameter: D.reportBuffer, status: 6, control: 1 << 10 | D.TRB_ISP | D.TRB_IOC)
        driver.write(D.DB + 4 * UInt32(slot), 3)
        XCTAssertEqual(driver.events().count, 0, "NAKed: the TRB waits")
        XCTAssertEqual(driver.scheduler.pendingCount, 0, "an idle controller arms no timer")
        driver.run(microseconds: 50_000)
        XCTAssertEqual(driver.events().count, 0)

        // The tablet moves: its report completes the TRB at once.
        tablet.pointerChanged(x: 0x1234, y: 0x0567, buttons: .left)
        driver.run(microseconds: 1)
        events = driver.events()
        XCTAssertEqual(events.map { D.code($0) }, [1])
        XCTAssertEqual(events.first?.parameter, D.ep1Ring, "the TRB's address")
        XCTAssertEqual(events.first.map { $0.control >> 16 & 0x1F }, 3)
        XCTAssertEqual(driver.peek(D.reportBuffer, 6), [1, 0x34, 0x12, 0x67, 0x05, 0])
        // Two moves queue two reports; two TRBs take them in order.
        tablet.pointerChanged(x: 10, y: 20, buttons: [])
        tablet.pointerChanged(x: 30, y: 40, buttons: [])
        driver.queue(on: D.ep1Ring, parameter: D.reportBuffer, status: 6, control: 1 << 10 | D.TRB_ISP | D.TRB_IOC)
        driver.queue(on: D.ep1Ring, parameter: D.reportBuffer + 8, status: 6, control: 1 << 10 | D.TRB_ISP | D.TRB_IOC)
        driver.write(D.DB + 4 * UInt32(slot), 3)
        XCTAssertEqual(driver.events().map { D.code($0) }, [1, 1])
        XCTAssertEqual(driver.peek(D.reportBuffer, 6), [0, 10, 0, 20, 0, 0])
        XCTAssertEqual(driver.peek(D.reportBuffer + 8, 6), [0, 30, 0, 40, 0, 0])

        // Stop Endpoint publishes the dequeue pointer of a waiting TRB.
        driver.queue(on: D.ep1Ring, parameter: D.reportBuffer, status: 6, control: 1 << 10 | D.TRB_ISP | D.TRB_IOC)
        driver.write(D.DB + 4 * UInt32(slot), 3)
        XCTAssertEqual(D.code(driver.command(type: 15, control: UInt32(slot) << 24 | 3 << 16)), 1)
        XCTAssertEqual(driver.peek32(output + 32 * 3) & 7, 3, "stopped")
        XCTAssertEqual(UInt64(driver.peek32(output + 32 * 3 + 8)), (D.ep1Ring + 48) | 1, "dequeue at the waiting TRB, DCS")
        tablet.pointerChanged(x: 50, y: 60, buttons: [])
        driver.run(microseconds: 1)
        XCTAssertEqual(driver.events().count, 0, "a stopped endpoint moves nothing")
        XCTAssertEqual(D.code(driver.command(type: 15, control: UInt32(slot) << 24 | 3 << 16)), 19, "stopping twice: Context State Error")
        // The doorbell restarts it: the waiting TRB takes the report queued meanwhile.
        driver.write(D.DB + 4 * UInt32(slot), 3)
        XCTAssertEqual(driver.peek32(output + 32 * 3) & 7, 1, "running again")
        XCTAssertEqual(driver.events().map { D.code($0) }, [1])
        XCTAssertEqual(driver.peek(D.reportBuffer, 6), [0, 50, 0, 60, 0, 0])
    }

    func testAStallHaltsEndpointZeroUntilResetEndpointAndSetDequeue() {
        driver.start()
        driver.resetPort()
        _ = driver.events()
        let slot = driver.enableAndAddress()
        // A request the tablet refuses: the data stage stalls.
        let events = driver.control(slot: slot, setup: USBSetup(requestType: 0xC0, request: 0x42, value: 0, index: 0, length: 4))
        XCTAssertEqual(events.map { D.code($0) }, [6], "Stall Error")
        XCTAssertEqual(events.first?.parameter, D.ep0Ring + 16, "on the data stage TRB")
        XCTAssertEqual(driver.peek32(D.outputContext + 32) & 7, 2, "EP0 halted")
        XCTAssertEqual(UInt64(driver.peek32(D.outputContext + 40)) & ~0xF, D.ep0Ring + 16)
        // Doorbells do nothing on a halted endpoint.
        driver.write(D.DB + 4 * UInt32(slot), 1)
        XCTAssertEqual(driver.events().count, 0)
        XCTAssertEqual(D.code(driver.command(type: 16, parameter: D.ep0Ring | 1, control: UInt32(slot) << 24 | 1 << 16)), 19,
                       "Set TR Dequeue on a halted endpoint: Context State Error")
        XCTAssertEqual(D.code(driver.command(type: 14, control: UInt32(slot) << 24 | 1 << 16)), 1, "Reset Endpoint")
        XCTAssertEqual(driver.peek32(D.outputContext + 32) & 7, 3, "stopped")
        // xhci_hcd moves past the failed TD, then queues anew.
        driver.makeRing(D.ep0Ring)
        XCTAssertEqual(D.code(driver.command(type: 16, parameter: D.ep0Ring | 1, control: UInt32(slot) << 24 | 1 << 16)), 1)
        XCTAssertEqual(UInt64(driver.peek32(D.outputContext + 40)), D.ep0Ring | 1)
        let again = driver.control(slot: slot, setup: USBSetup(requestType: 0x80, request: 8, value: 0, index: 0, length: 1))
        XCTAssertEqual(again.map { D.code($0) }, [1], "GET_CONFIGURATION after the recovery")
    }

    func testCommandsInTheWrongStateAndSlotLimits() {
        driver.start(slots: 2)
        _ = driver.events()
        XCTAssertEqual(D.code(driver.command(type: 23)), 1, "No Op")
        XCTAssertEqual(D.code(driver.command(type: 12, parameter: D.inputContext, control: 1 << 24)), 11, "slot not enabled")
        let first = driver.command(type: 9), second = driver.command(type: 9)
        XCTAssertEqual([first, second].map { $0.map { $0.control >> 24 } }, [1, 2])
        XCTAssertEqual(D.code(driver.command(type: 9)), 9, "CONFIG allows two slots: No Slots Available")
        XCTAssertEqual(D.code(driver.command(type: 12, parameter: D.inputContext, control: 1 << 24)), 19,
                       "Configure Endpoint before Address Device")
        XCTAssertEqual(D.code(driver.command(type: 15, control: 1 << 24 | 3 << 16)), 12, "Stop on a disabled endpoint")
        // Address Device on a port that was never reset (not enabled): Transaction Error.
        driver.poke64(D.dcbaa + 8, D.outputContext)
        driver.clear(D.inputContext, 33 * 32)
        driver.poke32(D.inputContext + 4, 3)
        driver.poke32(D.inputContext + 36, 1 << 16)
        XCTAssertEqual(D.code(driver.command(type: 11, parameter: D.inputContext, control: 1 << 24)), 4)
        XCTAssertEqual(D.code(driver.command(type: 10, control: 1 << 24)), 1, "Disable Slot")
        XCTAssertEqual(D.code(driver.command(type: 10, control: 1 << 24)), 11, "and again: not enabled")
        XCTAssertEqual(D.code(driver.command(type: 9)).self, 1, "the slot is free again")
        XCTAssertEqual(D.code(driver.command(type: 30)), 5, "an unknown command: TRB Error")
        // More commands than the ring holds: the Link TRB is crossed with the cycle toggled.
        for _ in 0..<100 { XCTAssertEqual(D.code(driver.command(type: 23)), 1) }
    }

    func testModerationDelaysTheNextInterruptAndEHBHoldsIt() {
        driver.start()
        driver.write(D.IMOD, 4000)  // 1 ms
        _ = driver.events()
        driver.write(D.USBSTS, D.STS_EINT)
        driver.write(D.IMAN, 3)
        XCTAssertFalse(driver.controller.interruptLevel)
        // An event while the moderation interval from the first interrupt runs: held.
        _ = driver.command(type: 23)
        driver.write(D.IMAN, 3)
        driver.write(D.DB, 0)
        XCTAssertFalse(driver.controller.interruptLevel)
        driver.resetPort()
        XCTAssertFalse(driver.controller.interruptLevel, "within the interval")
        driver.run(microseconds: 1000)
        XCTAssertTrue(driver.controller.interruptLevel, "at its end")
        // IP cleared but EHB still set (no ERDP write): a new event does not interrupt.
        driver.write(D.IMAN, 3)
        driver.run(microseconds: 2000)
        driver.write(D.PORTSC1, D.PORT_POWER | D.PORT_RESET)
        XCTAssertFalse(driver.controller.interruptLevel, "the handler is still busy")
        // ERDP with EHB: the unread events interrupt again.
        driver.write64(D.ERDP, driver.eventDequeue | 8)
        XCTAssertTrue(driver.controller.interruptLevel)
    }

    /// The idle figure: the tablet configured, usbhid's interrupt TRB
    /// queued and NAKed. The controller then arms no timer at all, so a
    /// second of guest time passing costs it nothing; the bound is UHCI's,
    /// 2 ms of host time, 0.2% of a core.
    func testAQuietSecondWithTheTabletsTRBWaitingCostsNothing() {
        driver.start()
        driver.resetPort()
        _ = driver.events()
        let slot = driver.enableAndAddress()
        XCTAssertEqual(driver.configureInterruptIn(slot: slot), 1)
        driver.queue(on: D.ep1Ring, parameter: D.reportBuffer, status: 6, control: 1 << 10 | D.TRB_ISP | D.TRB_IOC)
        driver.write(D.DB + 4 * UInt32(slot), 3)
        let trbsBefore = driver.controller.trbsProcessed
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<1000 { driver.run(microseconds: 1000) }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        print("XHCI: one quiet second with the tablet's TRB waiting cost \(String(format: "%.3f", elapsed)) ms of host time")
        XCTAssertEqual(driver.scheduler.pendingCount, 0, "no timer")
        XCTAssertEqual(driver.controller.trbsProcessed, trbsBefore, "no ring walked")
        XCTAssertEqual(driver.events().count, 0)
        XCTAssertLessThan(elapsed, 2, "0.2% of a core")
        tablet.pointerChanged(x: 1, y: 2, buttons: [])
        driver.run(microseconds: 1)
        XCTAssertEqual(driver.events().map { D.code($0) }, [1], "and the next report goes at once")
    }

    /// MSI as xhci-pci sets it up: the capability found through the list,
    /// address and data written, enable set. Each assertion is one message,
    /// IP clears itself, EHB holds the next until ERDP, INTx stays low.
    func testMSIMessagesInsteadOfINTx() {
        let controller = driver.controller
        XCTAssertNotEqual(controller.configRead(offset: PCIConfig.status, size: .word) & 0x10, 0, "a capability list")
        let capability = Int(controller.configRead(offset: 0x34, size: .byte))
        XCTAssertEqual(controller.configRead(offset: capability, size: .word), 0x0005, "MSI, the last capability")
        XCTAssertEqual(controller.configRead(offset: capability + 2, size: .word), 0, "one vector, 32-bit addresses, off")
        var messages: [(UInt32, UInt16)] = []
        controller.sendMSI = { messages.append(($0, $1)) }
        controller.configWrite(offset: capability + 4, value: 0xFEE0_1000, size: .dword)
        controller.configWrite(offset: capability + 8, value: 0x0041, size: .word)
        controller.configWrite(offset: capability + 2, value: 1, size: .word)
        driver.start()
        XCTAssertEqual(messages.map { $0.0 }, [0xFEE0_1000])
        XCTAssertEqual(messages.map { $0.1 }, [0x41])
        XCTAssertFalse(controller.interruptLevel, "no INTx with MSI on")
        XCTAssertEqual(driver.read(D.IMAN) & 1, 0, "IP cleared by the message")
        // EHB is set until ERDP: another event sends nothing; ERDP with unread events sends again.
        driver.resetPort()
        XCTAssertEqual(messages.count, 1)
        driver.run(microseconds: 100)
        driver.write64(D.ERDP, D.eventRing | 8)
        XCTAssertEqual(messages.count, 2)
        _ = driver.events()
        XCTAssertEqual(messages.count, 2, "nothing unread: no message")
        // MSI off: back on INTx.
        controller.configWrite(offset: capability + 2, value: 0, size: .word)
        driver.write(D.PORTSC1, D.PORT_POWER | D.PORT_RESET)
        driver.run(microseconds: 100)
        XCTAssertTrue(controller.interruptLevel)
        XCTAssertEqual(messages.count, 2)

        let decoded = MSIMessage(address: 0xFEE0_3004, data: 0x8141)
        XCTAssertEqual(decoded?.destination, 3)
        XCTAssertEqual(decoded?.logical, true)
        XCTAssertEqual(decoded?.message.vector, 0x41)
        XCTAssertEqual(decoded?.message.deliveryMode, .lowestPriority)
        XCTAssertEqual(decoded?.message.levelTriggered, true)
        XCTAssertNil(MSIMessage(address: 0x1000, data: 0x41), "not the APIC window")
    }
}
