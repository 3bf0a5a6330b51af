import Configuration
import Devices
import Foundation
import Lifecycle
import Machine
import Memory
import XCTest

/// The machine's device registry against what is really wired: everything on
/// the port bus, in the address space and on the PCI bus belongs to a
/// registered device, and a reset through it gives power-on state.
final class DeviceRegistryMachineTests: XCTestCase {
    static let arguments = "-nic user,model=e1000 -nic user,model=ne2k_pci -nic user,model=ne2k_isa,irq=10"
        + " -device sb16,audiodev=a0 -audiodev none,id=a0"
        + " -usb -device usb-tablet -device usb-kbd -device AC97 -device intel-hda -device hda-duplex"
        + " -device qemu-xhci,id=x -device usb-mouse,bus=x.0"

    static func machine() throws -> PCMachine {
        let parsed = try OptionParser().parse(DeviceRegistryMachineTests.arguments.split(separator: " ").map(String.init))
        return try TestMachine.make { config in
            config.nics = parsed.nics
            config.netdevs = parsed.netdevs
            config.devices = parsed.devices
            config.audiodevs = parsed.audiodevs
            config.usb = parsed.usb
        }
    }

    /// Places every BAR and a PAM area the way firmware would, so that the
    /// handlers attached only on the guest's say are on the buses too.
    static func programBARs(_ pc: PCMachine) {
        pc.ports.pciWriteDword(slot: 1, function: 1, offset: 0x20, 0xC001)  // IDE bus master
        pc.ports.pciWriteDword(slot: 1, function: 1, offset: 0x04, 0x5)
        pc.ports.pciWriteDword(slot: 3, offset: 0x10, 0xFEB0_0000)  // e1000 registers
        pc.ports.pciWriteDword(slot: 3, offset: 0x14, 0xC101)  // e1000 I/O window
        pc.ports.pciWriteDword(slot: 3, offset: 0x04, 0x7)
        pc.ports.pciWriteDword(slot: 4, offset: 0x10, 0xC201)  // ne2k_pci
        pc.ports.pciWriteDword(slot: 4, offset: 0x04, 0x5)
        pc.ports.pciWriteDword(slot: 2, offset: 0x18, 0xFEBF_0000)  // VGA BAR2
        pc.ports.pciWriteDword(slot: 2, offset: 0x04, 0x3)
        pc.ports.pciWriteDword(slot: 1, function: 2, offset: 0x20, 0xC301)  // UHCI
        pc.ports.pciWriteDword(slot: 1, function: 2, offset: 0x04, 0x5)
        pc.ports.pciWriteDword(slot: 0x1E, offset: 0x10, 0xC401)  // AC97 mixer
        pc.ports.pciWriteDword(slot: 0x1E, offset: 0x14, 0xC501)  // AC97 bus master
        pc.ports.pciWriteDword(slot: 0x1E, offset: 0x04, 0x5)
        pc.ports.pciWriteDword(slot: 0x1B, offset: 0x10, 0xFEB4_0000)  // Intel HDA
        pc.ports.pciWriteDword(slot: 0x1B, offset: 0x04, 0x6)
        pc.ports.pciWriteDword(slot: 5, offset: 0x10, 0xFEB8_0000)  // qemu-xhci
        pc.ports.pciWriteDword(slot: 5, offset: 0x04, 0x6)
        pc.ports.pciWriteByte(slot: 0, offset: 0x5A, 0x22)  // PAM1: write-only shadow
    }

    func testEveryWiredPartBelongsToARegisteredDevice() throws {
        let pc = try Self.machine()
        Self.programBARs(pc)
        let attached = pc.ports.attachedHandlers
        XCTAssertTrue(attached.contains { $0.name == "piix3-ide-bm" }, "BARs are placed")
        XCTAssertTrue(attached.contains { $0.name == "e1000" })
        for (name, handler) in attached {
            XCTAssertTrue(pc.devices.owns(handler), "port handler \(name) is not in the registry")
        }
        var mmio = 0
        for case let region? in pc.addressSpace.regions {
            guard case let .mmio(handler) = region.kind else { continue }
            mmio += 1
            XCTAssertTrue(pc.devices.owns(handler), "MMIO region \(region.name) is not in the registry")
        }
        XCTAssertGreaterThanOrEqual(mmio, 6, "the VGA window, e1000, VGA BAR2, Intel HDA, xHCI and PAM1's two areas")
        for plugged in pc.pciBus.pluggedFunctions {
            XCTAssertTrue(pc.devices.owns(plugged.device), "PCI function \(plugged.device.name)")
        }
        XCTAssertTrue(pc.devices.entries.contains { $0.device === pc.cpu })
        XCTAssertTrue(pc.devices.entries.contains { $0.device === pc.clock })
    }

    func testListingNamesEachDeviceOnce() throws {
        let pc = try Self.machine()
        let names = pc.devices.entries.map(\.name)
        XCTAssertEqual(Set(names).count, names.count)
        for expected in ["clock", "cpu", "pic", "pit", "rtc", "com1", "com2", "i8042", "fw-cfg", "dma", "fdc",
                         "pci-bus", "pam-shadow", "vga", "bochs-vbe", "sb16", "opl3", "ne2k_isa.0"] {
            XCTAssertTrue(names.contains(expected), "\(expected) in \(names)")
        }
        XCTAssertEqual(pc.devices.listing.first, "clock: VirtualClock")
    }

    /// Registers the guest can read back, written away from their power-on
    /// values; after a machine reset they read as on a fresh machine.
    func testResetThroughTheRegistryGivesPowerOnState() throws {
        let fresh = try Self.machine(), used = try Self.machine()
        Self.programBARs(fresh)
        Self.programBARs(used)
        fresh.reset()
        used.ports.outb(0x21, 0x5A)  // PIC master IMR
        used.ports.outb(0xA1, 0xA5)  // PIC slave IMR
        used.ports.outb(0x3FF, 0x77)  // COM1 scratch
        used.ports.outb(0x3FB, 0x83)  // COM1 LCR
        used.ports.outb(0x2FB, 0x03)  // COM2 LCR
        used.ports.outb(0x81, 0x12)  // DMA page register
        used.ports.outb(0x3C4, 0x02)  // VGA sequencer index
        used.ports.outb(0x3C5, 0x0F)
        used.ports.write(0x1CE, value: 1, size: .word)  // VBE xres
        used.ports.write(0x1CF, value: 800, size: .word)
        used.ports.outb(0x227, 0x23)  // SB16 mixer index
        used.ports.outb(0x3F2, 0x1C)  // floppy DOR: motor on
        used.ports.outb(0x300 + 0x0F, 0x3F)  // NE2000 ISA IMR (page 0)
        used.ports.outb(0xC200 + 0x0F, 0x3F)  // NE2000 PCI IMR
        used.reset()
        Self.programBARs(fresh)
        Self.programBARs(used)
        for port: UInt16 in [0x21, 0xA1, 0x3FF, 0x3FB, 0x2FB, 0x81, 0x3C4, 0x3F2, 0x227] {
            XCTAssertEqual(used.ports.inb(port), fresh.ports.inb(port), "port 0x\(String(port, radix: 16))")
        }
        used.ports.write(0x1CE, value: 1, size: .word)
        fresh.ports.write(0x1CE, value: 1, size: .word)
        XCTAssertEqual(used.ports.read(0x1CF, size: .word), fresh.ports.read(0x1CF, size: .word), "VBE xres")
        for slot in [1, 2, 3, 4] {
            for offset in stride(from: 0, to: 0x40, by: 4) {
                XCTAssertEqual(used.ports.pciRead(slot: slot, offset: offset), fresh.ports.pciRead(slot: slot, offset: offset),
                               "PCI \(slot) offset \(offset)")
            }
        }
    }
}
