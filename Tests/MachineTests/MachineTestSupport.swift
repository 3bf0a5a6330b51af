import Configuration
import Foundation
import Machine
import Memory
import Timing
import XCTest

/// Machines built the way pcemu builds them, on a deterministic clock, and
/// port helpers that talk to them as a guest would.
enum TestMachine {
    static let biosPath = "/usr/share/seabios/bios-256k.bin"

    static func configuration(_ edit: (inout MachineConfiguration) -> Void = { _ in }) -> MachineConfiguration {
        var config = MachineConfiguration()
        config.display = .headless
        config.serial = [.null]
        edit(&config)
        return config
    }

    static func make(_ edit: (inout MachineConfiguration) -> Void = { _ in }) throws -> PCMachine {
        try PCMachine(configuration: configuration(edit),
                      clock: VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)))
    }

    static func biosBytes() throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: biosPath)))
    }
}

extension IOPortBus {
    func outb(_ port: UInt16, _ value: UInt8) { write(port, value: UInt32(value), size: .byte) }
    func inb(_ port: UInt16) -> UInt8 { UInt8(read(port, size: .byte)) }

    /// A PCI configuration dword of bus 0 through 0xCF8/0xCFC.
    func pciRead(slot: Int, function: Int = 0, offset: Int) -> UInt32 {
        write(0xCF8, value: 0x8000_0000 | UInt32(slot << 11 | function << 8 | offset), size: .dword)
        return read(0xCFC, size: .dword)
    }

    func pciWriteByte(slot: Int, function: Int = 0, offset: Int, _ value: UInt8) {
        write(0xCF8, value: 0x8000_0000 | UInt32(slot << 11 | function << 8 | (offset & ~3)), size: .dword)
        write(0xCFC + UInt16(offset & 3), value: UInt32(value), size: .byte)
    }

    func pciWriteDword(slot: Int, function: Int = 0, offset: Int, _ value: UInt32) {
        write(0xCF8, value: 0x8000_0000 | UInt32(slot << 11 | function << 8 | offset), size: .dword)
        write(0xCFC, value: value, size: .dword)
    }

    func cmos(_ index: UInt8) -> UInt8 {
        outb(0x70, index)
        return inb(0x71)
    }

    /// The bytes of fw_cfg item `key` through the selector and data ports.
    func firmwareConfigItem(_ key: UInt16, count: Int) -> [UInt8] {
        write(0x510, value: UInt32(key), size: .word)
        return (0..<count).map { _ in inb(0x511) }
    }
}

extension AddressSpace {
    func bytes(at address: UInt32, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(read(PhysicalAddress(address &+ UInt32($0)), size: .byte)) }
    }
}
