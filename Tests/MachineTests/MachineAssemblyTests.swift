import CPURuntime
import Configuration
import Devices
import Foundation
@testable import Machine
import Memory
import X86State
import XCTest

/// The machine as pcemu builds it: every chip at its ports, the BIOS where
/// the CPU and SeaBIOS look for it, the CMOS and fw_cfg telling the truth.
final class MachineAssemblyTests: XCTestCase {
    func testTheMachineBuildsWithDefaults() throws {
        let machine = try TestMachine.make()
        XCTAssertEqual(machine.ram.size, 128 << 20)
        XCTAssertTrue(PCMachine.capabilities.isSuperset(of: [.cpu, .firmware, .directLinuxBoot, .serialPorts, .debugPorts]))
        XCTAssertTrue(machine.cpu.interrupts === machine.localAPIC, "the 8259 reaches INTR through LINT0")
        XCTAssertNil(machine.linuxBoot)
        // Real mode at the reset vector, A20 open.
        XCTAssertEqual(machine.cpu.state.pointee.eip, 0xFFF0)
        XCTAssertEqual(machine.cpu.state.pointee.a20Mask, ~UInt64(0))
    }

    func testTheAPICsAreMappedAndTheISAIRQsReachBothControllers() throws {
        let machine = try TestMachine.make()
        let memory = machine.addressSpace
        XCTAssertEqual(memory.region(at: 0xFEE0_0000)?.name, "local-apic")
        XCTAssertEqual(memory.region(at: 0xFEC0_0000)?.name, "ioapic")
        XCTAssertEqual(memory.read(0xFEE0_0030, size: .dword), 0x0005_0014)
        memory.write(0xFEC0_0000, value: 1, size: .dword)
        XCTAssertEqual(memory.read(0xFEC0_0010, size: .dword), 0x0017_0011)
        // The PIT's IRQ 0 reaches the I/O APIC on pin 2, as the firmware's tables are told.
        XCTAssertEqual(machine.firmwareConfig.item(FirmwareConfig.Key.irq0Override), [1, 0, 0, 0])
        memory.write(0xFEE0_00F0, value: 0x1FF, size: .dword)
        memory.write(0xFEE0_0350, value: 0x1_0700, size: .dword)   // LINT0 masked: the 8259 is cut off
        memory.write(0xFEC0_0000, value: 0x10 + 2 * 2, size: .dword)
        memory.write(0xFEC0_0010, value: 0x30, size: .dword)
        machine.ports.write(0x43, value: 0x34, size: .byte)         // PIT counter 0, rate generator
        machine.ports.write(0x40, value: 0x10, size: .byte)
        machine.ports.write(0x40, value: 0x00, size: .byte)
        let edge = try XCTUnwrap(machine.scheduler.nextDeadline)
        machine.clock.skip(to: edge)
        machine.scheduler.runExpired(now: edge)
        XCTAssertTrue(machine.cpu.interruptLine)
        XCTAssertEqual(machine.localAPIC.acknowledge(), 0x30)
    }

    func testHPETLegacyReplacementTakesIRQ0FromThePIT() throws {
        let machine = try TestMachine.make()
        let memory = machine.addressSpace
        XCTAssertEqual(memory.region(at: 0xFED0_0000)?.name, "hpet")
        XCTAssertEqual(memory.read(0xFED0_0000, size: .dword), 0x8086_A201)
        memory.write(0xFEC0_0000, value: 0x10 + 2 * 2, size: .dword)   // I/O APIC pin 2: vector 0x30
        memory.write(0xFEC0_0010, value: 0x30, size: .dword)
        memory.write(0xFEE0_00F0, value: 0x1FF, size: .dword)
        memory.write(0xFED0_0010, value: 3, size: .dword)               // enabled, legacy replacement
        machine.ports.write(0x43, value: 0x34, size: .byte)             // the PIT alone no longer reaches IRQ 0
        machine.ports.write(0x40, value: 0x10, size: .byte)
        machine.ports.write(0x40, value: 0x00, size: .byte)
        // Several of the PIT's periods (16 ticks, 13.4 us) pass: it arms no
        // timer for edges that reach nothing, and raises nothing.
        XCTAssertNil(machine.scheduler.nextDeadline, "no timer for the PIT's edges")
        machine.clock.skip(to: machine.clock.now + 100_000)
        machine.scheduler.runExpired(now: machine.clock.now)
        XCTAssertFalse(machine.localAPIC.interruptPending, "the PIT is cut off")
        let counter = memory.read(0xFED0_00F0, size: .dword)
        memory.write(0xFED0_0108, value: counter + 1000, size: .dword)  // timer 0 one-shot in 10 us
        memory.write(0xFED0_010C, value: 0, size: .dword)
        memory.write(0xFED0_0100, value: 0x4, size: .dword)
        machine.clock.skip(to: machine.clock.now + 20_000)
        machine.scheduler.runExpired(now: machine.clock.now)
        XCTAssertEqual(machine.localAPIC.acknowledge(), 0x30, "timer 0 on IRQ 0, I/O APIC pin 2")
    }

    func testEveryDeviceIsAtItsPorts() throws {
        let ports = try TestMachine.make().ports
        let expected: [(UInt16, String)] = [
            (0x20, "pic-master"), (0xA1, "pic-slave"), (0x4D0, "elcr"), (0x40, "pit"), (0x43, "pit"),
            (0x61, "port-61"), (0x70, "rtc"), (0x71, "rtc"), (0x3F8, "com1"), (0x3FF, "com1"), (0x2F8, "com2"),
            (0x92, "port-92"), (0x60, "i8042-data"), (0x64, "i8042-command"), (0xCF9, "reset-control"),
            (0x510, "fw-cfg"), (0x511, "fw-cfg"), (0x514, "fw-cfg-dma"), (0x402, "debugcon-402"),
            (0xE9, "debugcon-e9"), (0xB2, "apm"), (0xB3, "apm"),
        ]
        for (port, name) in expected {
            XCTAssertEqual(ports.owner(of: port), name, "port 0x\(String(port, radix: 16))")
        }
        XCTAssertNotNil(ports.owner(of: 0xCF8))
        XCTAssertNotNil(ports.owner(of: 0xCFC))
        for port: UInt16 in [0x3B4, 0x3C0, 0x3C9, 0x3CF, 0x3D5, 0x3DA] { XCTAssertEqual(ports.owner(of: port), "vga") }
        XCTAssertEqual(ports.owner(of: 0x1CE), "bochs-vbe")
        XCTAssertEqual(ports.owner(of: 0x1CF), "bochs-vbe")
    }

    func testWellKnownRegistersReadThroughThePortBus() throws {
        let machine = try TestMachine.make()
        let ports = machine.ports
        XCTAssertEqual(ports.pciRead(slot: 0, offset: 0), 0x1237_8086, "i440FX at 00.0")
        XCTAssertEqual(ports.pciRead(slot: 2, offset: 0), 0x1111_1234, "the standard VGA at 02.0, as in QEMU")
        XCTAssertEqual(ports.pciRead(slot: 2, offset: 8) >> 8, 0x03_0000, "class VGA")
        XCTAssertEqual(ports.pciRead(slot: 1, offset: 0), 0x7000_8086, "PIIX3 at 01.0")
        XCTAssertEqual(ports.pciRead(slot: 1, function: 3, offset: 0), 0x7113_8086, "PIIX4 PM at 01.3")
        XCTAssertEqual(ports.pciRead(slot: 5, offset: 0), 0xFFFF_FFFF, "an empty slot")
        XCTAssertEqual(ports.inb(0x3FD) & 0x60, 0x60, "COM1 transmitter empty")
        XCTAssertEqual(ports.inb(0x2FD) & 0x60, 0x60, "COM2 transmitter empty")
        XCTAssertEqual(ports.cmos(0x0A) & 0x7F, 0x26, "RTC register A at power-on")
        XCTAssertEqual(ports.inb(0x402), 0xE9)
        XCTAssertEqual(ports.inb(0xE9), 0xE9)
        ports.outb(0x64, 0xAA)  // 8042 self-test
        XCTAssertEqual(ports.inb(0x64) & 0x01, 0x01)
        XCTAssertEqual(ports.inb(0x60), 0x55)
    }

    func testFirmwareConfigSignatureAndItemsReadThroughPorts() throws {
        let machine = try TestMachine.make { $0.memoryBytes = 256 << 20; $0.boot.order = "dc" }
        let ports = machine.ports
        XCTAssertEqual(ports.firmwareConfigItem(FirmwareConfig.Key.signature, count: 4), Array("QEMU".utf8))
        XCTAssertEqual(ports.firmwareConfigItem(FirmwareConfig.Key.ramSize, count: 8),
                       LittleEndian.bytes(256 << 20, count: 8))
        XCTAssertEqual(ports.firmwareConfigItem(FirmwareConfig.Key.cpuCount, count: 2), [1, 0])
        XCTAssertEqual(ports.firmwareConfigItem(FirmwareConfig.Key.bootDevice, count: 2), [UInt8(ascii: "d"), 0])
        XCTAssertEqual(machine.firmwareConfig.file(named: "etc/e820"), machine.e820.firmwareConfigRecords)
    }

    func testCMOSMemoryBytesFollowTheRAMSize() throws {
        // 3584 MiB and up: 3 GiB below 4 GiB and the rest above, as QEMU's pc machine (checked
        // against SeaBIOS's e820 printout under qemu-system-i386 -m 3583M, 3584M, 4G and 5G).
        for megabytes in [8, 64, 256, 3583, 3584, 5120] {
            let below = megabytes < 3584 ? megabytes : 3072
            let above = megabytes - below
            let ports = try TestMachine.make { $0.memoryBytes = megabytes << 20 }.ports
            let base = UInt16(ports.cmos(0x15)) | UInt16(ports.cmos(0x16)) << 8
            let extended = UInt16(ports.cmos(0x17)) | UInt16(ports.cmos(0x18)) << 8
            let above16 = UInt16(ports.cmos(0x34)) | UInt16(ports.cmos(0x35)) << 8
            let above4G = Int(ports.cmos(0x5B)) | Int(ports.cmos(0x5C)) << 8 | Int(ports.cmos(0x5D)) << 16
            XCTAssertEqual(base, 640)
            XCTAssertEqual(Int(extended), min((megabytes - 1) * 1024, 0xFFFF), "\(megabytes) MiB")
            XCTAssertEqual(Int(above16), max(below - 16, 0) * 16, "\(megabytes) MiB")
            XCTAssertEqual(above4G, above * 16, "\(megabytes) MiB: 64 KiB blocks above 4 GiB")
            XCTAssertEqual(UInt16(ports.cmos(0x30)) | UInt16(ports.cmos(0x31)) << 8, extended)
        }
    }

    func testCMOSBootOrder() throws {
        let ports = try TestMachine.make { $0.boot.order = "dca" }.ports
        XCTAssertEqual(ports.cmos(0x3D), 0x23)  // d first (3) in the low nibble, c (2) next
        XCTAssertEqual(ports.cmos(0x38) >> 4, 1)  // a third
    }

    func testTheBIOSIsVisibleAtTheResetVectorAndBelowOneMiB() throws {
        let machine = try TestMachine.make()
        let bios = try TestMachine.biosBytes()
        let lastSixteen = Array(bios.suffix(16))
        XCTAssertEqual(machine.addressSpace.bytes(at: 0xFFFF_FFF0, count: 16), lastSixteen)
        XCTAssertEqual(machine.addressSpace.bytes(at: 0xFFFF0, count: 16), lastSixteen)
        // The low alias is the image's last 128 KiB, from 0xE0000.
        XCTAssertEqual(machine.addressSpace.bytes(at: 0xE0000, count: 64), Array(bios[(bios.count - 0x20000)...].prefix(64)))
        XCTAssertEqual(machine.addressSpace.bytes(at: 0xFFFC_0000, count: 64), Array(bios.prefix(64)))
        // The VGA answers in its window; nothing at 0xC0000 until the BIOS copies the VGA ROM there.
        XCTAssertEqual(machine.addressSpace.region(at: 0xA0000)?.name, "vga-window")
        XCTAssertEqual(machine.addressSpace.region(at: 0xBFFFF)?.name, "vga-window")
        XCTAssertEqual(machine.addressSpace.read(0xC0000, size: .dword), 0xFFFF_FFFF)
    }

    func testPAMSwitchesTheBIOSAreaBetweenROMAndRAM() throws {
        let machine = try TestMachine.make()
        let memory = machine.addressSpace
        let ports = machine.ports
        let romWord = memory.read(0xF0000, size: .dword)
        // Write-only RAM: reads still see the ROM, writes land in RAM.
        ports.pciWriteByte(slot: 0, offset: 0x59, 0x20)
        memory.write(0xF0000, value: 0x1234_5678, size: .dword)
        XCTAssertEqual(memory.read(0xF0000, size: .dword), romWord)
        // RAM: the write is there and more can be made.
        ports.pciWriteByte(slot: 0, offset: 0x59, 0x30)
        XCTAssertEqual(memory.read(0xF0000, size: .dword), 0x1234_5678)
        memory.write(0xF0004, value: 0xCAFE, size: .word)
        XCTAssertEqual(memory.read(0xF0004, size: .word), 0xCAFE)
        // Read-only RAM: writes are dropped.
        ports.pciWriteByte(slot: 0, offset: 0x59, 0x10)
        memory.write(0xF0000, value: 0, size: .dword)
        XCTAssertEqual(memory.read(0xF0000, size: .dword), 0x1234_5678)
        // Back to the ROM side.
        ports.pciWriteByte(slot: 0, offset: 0x59, 0x00)
        XCTAssertEqual(memory.read(0xF0000, size: .dword), romWord)
        // A 16 KiB area below: PAM1's low nibble is 0xC0000, where RAM appears once enabled.
        ports.pciWriteByte(slot: 0, offset: 0x5A, 0x03)
        memory.write(0xC0000, value: 0xAB, size: .byte)
        XCTAssertEqual(memory.read(0xC0000, size: .byte), 0xAB)
        XCTAssertEqual(memory.read(0xC4000, size: .byte), 0xFF, "the next area is still unmapped")
        // A machine reset puts the power-on PAM back.
        machine.reset()
        XCTAssertEqual(memory.read(0xF0000, size: .dword), romWord)
        XCTAssertEqual(memory.read(0xC0000, size: .byte), 0xFF)
    }

    func testPort92AndThe8042GateA20() throws {
        let machine = try TestMachine.make()
        // Port 0x92 reports edges of its A20 bit; its power-on value has it clear while the line is open.
        machine.ports.outb(0x92, 0x02)
        machine.ports.outb(0x92, 0x00)
        XCTAssertEqual(machine.cpu.state.pointee.a20Mask, ~UInt64(1 << 20))
        machine.ports.outb(0x92, 0x02)
        XCTAssertEqual(machine.cpu.state.pointee.a20Mask, ~UInt64(0))
        // 8042 "write output port" with A20 clear, then set.
        machine.ports.outb(0x64, 0xD1)
        machine.ports.outb(0x60, 0xCD)
        XCTAssertEqual(machine.cpu.state.pointee.a20Mask, ~UInt64(1 << 20))
        machine.ports.outb(0x64, 0xD1)
        machine.ports.outb(0x60, 0xCF)
        XCTAssertEqual(machine.cpu.state.pointee.a20Mask, ~UInt64(0))
    }

    func testResetThroughCF9EndsTheRunWithNoReboot() throws {
        let machine = try TestMachine.make { $0.noReboot = true }
        machine.ports.outb(0xCF9, 0x06)
        XCTAssertEqual(machine.loop.run(), 0)
    }

    func testResetThroughThe8042AndPort92ReachTheLoop() throws {
        for pulse in [{ (m: PCMachine) in m.ports.outb(0x64, 0xFE) }, { (m: PCMachine) in m.ports.outb(0x92, 0x03) }] {
            let machine = try TestMachine.make { $0.noReboot = true }
            pulse(machine)
            XCTAssertEqual(machine.loop.run(), 0)
        }
    }

    func testSoftOffThroughPIIX4PowersOffWithStatusZero() throws {
        let machine = try TestMachine.make()
        let ports = machine.ports
        ports.pciWriteDword(slot: 1, function: 3, offset: 0x40, 0x0601)  // PMBASE 0x600
        ports.pciWriteByte(slot: 1, function: 3, offset: 0x80, 0x01)    // PM I/O enable
        XCTAssertEqual(machine.powerManagement.pmBase, 0x600)
        XCTAssertEqual(ports.owner(of: 0x604), "piix4-pm")
        // PMBASE moves: the old ports are released.
        ports.pciWriteDword(slot: 1, function: 3, offset: 0x40, 0xB001)
        XCTAssertNil(ports.owner(of: 0x604))
        XCTAssertEqual(ports.owner(of: 0xB004), "piix4-pm")
        // SLP_TYP 0 (QEMU's \_S5) with SLP_EN.
        ports.write(0xB004, value: 0x2000, size: .word)
        XCTAssertEqual(machine.loop.run(), 0)
    }

    func testUARTInterruptReachesTheCPUThroughThePIC() throws {
        let machine = try TestMachine.make()
        let ports = machine.ports
        // ICW1-4 for the master at vector 0x08, every input but IRQ 4 masked.
        for (port, value) in [(0x20, 0x11), (0x21, 0x08), (0x21, 0x04), (0x21, 0x01), (0x21, 0xEF)] as [(UInt16, UInt8)] {
            ports.outb(port, value)
        }
        XCTAssertFalse(machine.pic.interruptPending)
        ports.outb(0x3FC, 0x08)  // OUT2 gates the IRQ onto the bus
        ports.outb(0x3F9, 0x02)  // transmitter-empty interrupt
        XCTAssertTrue(machine.pic.interruptPending)
        XCTAssertEqual(machine.pic.acknowledge(), 0x0C)
    }

    func testSharedIRQsStayHighWhileAnyDriverHoldsThem() throws {
        let machine = try TestMachine.make()
        let irqs = machine.chipset.irqs
        machine.ports.outb(0x4D1, 0x04)  // ELCR: IRQ 10 level-triggered, as PCI IRQs are
        let first = irqs.line(10)
        let second = irqs.line(10)
        first.raise()
        second.raise()
        first.lower()
        machine.ports.outb(0xA0, 0x0A)  // OCW3: read the IRR
        XCTAssertNotEqual(machine.ports.inb(0xA0) & 0x04, 0, "IRQ 10 still requested")
        second.lower()
        XCTAssertEqual(machine.ports.inb(0xA0) & 0x04, 0)
    }
}

extension E820Map {
    /// What etc/e820 holds: le64 address, le64 length, le32 type per entry.
    var firmwareConfigRecords: [UInt8] {
        entries.flatMap {
            LittleEndian.bytes($0.address, count: 8) + LittleEndian.bytes($0.length, count: 8) + LittleEndian.bytes(UInt64($0.type), count: 4)
        }
    }
}
