import CPURuntime
import Foundation
import Memory
import TestSupport
import Timing
import X86State
import XCTest

/// Records what a test program writes to a port; port 0xF4 ends the run.
final class PortRecorder: PortHandler {
    var bytes: [UInt8] = []
    override func write(offset: UInt16, value: UInt32, size: AccessSize) { bytes.append(UInt8(truncatingIfNeeded: value)) }
    override func read(offset: UInt16, size: AccessSize) -> UInt32 { 0xE9 }
}

/// Bare-metal programs from firmware/tests run on PCEmu's CPU and on
/// qemu-system-i386 (the reference), which must report the same bytes.
final class ProtectedModeTests: XCTestCase {
    static let firmware = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("firmware/tests")

    /// Assembles a boot sector with nasm.
    func assemble(_ name: String, into directory: URL) throws -> URL {
        let output = directory.appendingPathComponent("\(name).bin")
        let result = try ChildProcess.run("/usr/bin/nasm", ["-i", Self.firmware.path + "/", "-f", "bin", "-o", output.path,
                                                             Self.firmware.appendingPathComponent("\(name).asm").path])
        XCTAssertEqual(result.status, 0, result.stderr)
        return output
    }

    /// Runs the boot sector on PCEmu's CPU: loaded at 0x7C00, entered at 0000:7C00.
    func runOnPCEmu(_ image: Data) throws -> [UInt8] {
        let ram = try GuestRAM(size: 2 << 20)
        let space = AddressSpace(ram: ram)
        try space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        let ports = IOPortBus()
        let console = PortRecorder()
        let exit = PortRecorder()
        try ports.attach(console, name: "debugcon", base: 0xE9, count: 1)
        try ports.attach(exit, name: "exit", base: 0xF4, count: 1)
        image.withUnsafeBytes { ram.base.advanced(by: 0x7C00).copyMemory(from: $0.baseAddress!, byteCount: image.count) }
        let cpu = X86CPU(addressSpace: space, ports: ports, clock: VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)))
        cpu.loadRealModeSegment(.cs, selector: 0)
        cpu.state.pointee.eip = 0x7C00
        var steps = 0
        while exit.bytes.isEmpty && !cpu.halted && cpu.stopReason == nil && steps < 100_000 {
            cpu.step()
            steps += 1
        }
        XCTAssertNil(cpu.stopReason)
        return console.bytes
    }

    /// Runs the boot sector in QEMU with the debug console on port 0xE9.
    func runOnQEMU(_ image: URL, directory: URL) throws -> [UInt8] {
        let output = directory.appendingPathComponent("qemu.out")
        _ = try ChildProcess.run("/usr/bin/qemu-system-i386", [
            "-drive", "file=\(image.path),format=raw,if=floppy", "-display", "none", "-no-reboot",
            "-debugcon", "file:\(output.path)", "-device", "isa-debug-exit,iobase=0xf4,iosize=1",
        ], timeout: 30)
        return [UInt8](try Data(contentsOf: output))
    }

    /// Runs the boot sector in Bochs (Debian's bochs, its BIOS and VGA BIOS) from a
    /// floppy, with port 0xE9 echoed; the program ends Bochs through port 0x8900.
    /// Bochs prints the port's bytes amid its debugger's lines: they follow the
    /// line that shows the first instruction, up to the line Bochs ends with.
    func runOnBochs(_ image: URL, directory: URL) throws -> [UInt8] {
        let floppy = directory.appendingPathComponent("bochs-floppy.img")
        var data = try Data(contentsOf: image)
        data.append(Data(count: 1_474_560 - data.count))
        try data.write(to: floppy)
        let configuration = directory.appendingPathComponent("bochsrc")
        try """
            megs: 32
            romimage: file=/usr/share/bochs/BIOS-bochs-latest
            vgaromimage: file=/usr/share/vgabios/vgabios.bin
            floppya: 1_44=\(floppy.path), status=inserted
            boot: floppy
            display_library: sdl2
            port_e9_hack: enabled=1
            log: \(directory.appendingPathComponent("bochs.log").path)
            cpu: ips=50000000
            """.write(to: configuration, atomically: true, encoding: .utf8)
        let commands = directory.appendingPathComponent("bochs-commands")
        try "c\n".write(to: commands, atomically: true, encoding: .utf8)
        let bochs = try ChildProcess("/usr/bin/bochs", ["-q", "-f", configuration.path, "-rc", commands.path],
                                     environment: ["SDL_VIDEODRIVER": "dummy"])
        guard bochs.wait(timeout: 60) != nil else { throw ReferenceToolFailure("Bochs did not finish the program") }
        let output = bochs.standardOutputBytes
        guard let start = output.firstRange(of: Array("jmpf 0xf000:e05b".utf8))?.upperBound,
              let lineEnd = output[start...].firstIndex(of: UInt8(ascii: "\n")) else {
            throw ReferenceToolFailure("Bochs did not start: \(bochs.standardError.suffix(400))")
        }
        let rest = output[(lineEnd + 1)...]
        let end = rest.lastRange(of: Array("(0).[".utf8))?.lowerBound ?? rest.endIndex
        return Array(rest[..<end])
    }

    /// The emulator a program's output is checked against.
    enum Reference: String { case qemu = "QEMU", bochs = "Bochs" }

    /// Runs firmware/tests/NAME.asm on PCEmu's CPU and on `reference`: the
    /// reference's output must be `expected`, and ours the reference's. Bochs is
    /// the reference where QEMU does not model what the program checks.
    func assertMatches(_ reference: Reference, _ name: String, expected: [UInt8],
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = try makeTemporaryDirectory("pcemu-\(name)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let image = try assemble(name, into: directory)
        let ours = try runOnPCEmu(try Data(contentsOf: image))
        let theirs = reference == .qemu ? try runOnQEMU(image, directory: directory) : try runOnBochs(image, directory: directory)
        XCTAssertEqual(theirs, expected, "\(reference.rawValue)'s run of \(name)", file: file, line: line)
        XCTAssertEqual(ours, theirs, "PCEmu's run of \(name): \(String(decoding: ours, as: UTF8.self))", file: file, line: line)
    }

    func assertMatchesBochs(_ name: String, expected: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws {
        try assertMatches(.bochs, name, expected: expected, file: file, line: line)
    }

    /// Far JMP and CALL in long mode through m16:64 and m16:32 pointers, to
    /// 64-bit and compatibility code, through 16-byte call gates (ring 3 to
    /// ring 0 on RSP0 with a null SS), and the #GPs long mode adds. QEMU 7.2
    /// runs into the segment with L and D set and takes a 64-bit call gate
    /// for a 32-bit one (it prints "LJCcKku3", then triple-faults): Bochs is
    /// the reference. BareMetalMachineTests runs it on the whole machine.
    func testLongModeFarTransfersMatchBochs() throws {
        try assertMatchesBochs("far-transfers64", expected: Array("LJCcKkg883GRg60g68g18jg30E".utf8))
    }

    /// Real-mode limit faults through the IVT (#GP, #SS), unreal mode kept by
    /// real-mode segment loads and interrupts, the IDTR's limit, a big SS.
    /// QEMU checks no limits in real mode (it prints "UIGBE"): Bochs is the reference.
    func testRealModeLimitsMatchBochs() throws {
        try assertMatchesBochs("real-mode-limits", expected: Array("GSUIGBE".utf8))
    }

    /// The default model's (pentium2's) MTRR and PAT MSRs, DR4/DR5 as DR6/DR7
    /// and #UD under CR4.DE, and CR4.MCE. Bochs is the reference: it refuses
    /// undefined memory types and reserved bits with #GP as the SDM says,
    /// where QEMU keeps any value (it prints "CPQDAuME").
    func testCacheControlMSRsAndDebugExtensionsMatchBochs() throws {
        try assertMatchesBochs("cache-control-msrs", expected: Array("CPQggggDAuME".utf8))
    }

    /// A 16-bit stack segment under 32-bit code: PUSH, POP, PUSHAD, POPAD, PUSHFD,
    /// POPFD, CALL, RET, ENTER, LEAVE, INT and IRETD, CALL FAR and RETF use SP and
    /// keep ESP's upper half. Bochs is the reference: QEMU agrees but for ENTER's
    /// frame pointer (0001FFFC), where the host CPU, run with a 16-bit SS from the
    /// LDT, gives Bochs's 0002FFFC.
    func testSixteenBitStackMatchesBochs() throws {
        try assertMatchesBochs("stack16", expected: [
            0x02, 0xFC, 0x44, 0x02, 0x00, 0x44, 0x02, 0xE0, 0x02, 0x02, 0x00, 0x02, 0xFA, 0x02, 0x00, 0x02, 0xFC, 0xA2,
            0x02, 0x00, 0x02, 0xF4, 0x02, 0xFC, 0x02, 0x00, 0x77, 0x02, 0xF4, 0x08, 0x02, 0x00, 0x02, 0x08, 0x08,
            0x02, 0x10, 0x45,
        ])
    }

    /// Virtual-8086 mode under a ring-0 monitor (as EMM386 runs DOS): IOPL-sensitive
    /// instructions and denied ports fault to the monitor with V86 frames and null
    /// data segments, INT n with IOPL 3 goes through the IDT, the TSS's I/O bitmap
    /// allows a port. QEMU and Bochs agree.
    func testVirtual8086MonitorMatchesQEMUAndBochs() throws {
        let expected = Array("G\u{0}a1G\u{0}a1IP`VG\u{0}a1PG\u{0}a1E".utf8)
        try assertMatchesQEMU("v86-monitor", expected: expected)
        try assertMatchesBochs("v86-monitor", expected: expected)
    }

    /// Data accesses against their segment in protected mode: a read-only segment,
    /// limits (SS's with #SS), an expand-down segment, a null DS; ENTER's frame
    /// pointer on a 16-bit stack and its check of the final stack pointer.
    /// QEMU checks none of these (it prints "WLXDNF\u{1}\u{1}\u{FC}P|E"): Bochs is the reference.
    func testProtectedModeSegmentChecksMatchBochs() throws {
        try assertMatchesBochs("segment-checks", expected: Array("WG\u{0}LG\u{0}XS\u{0}DG\u{0}NG\u{0}F".utf8)
                               + [0x02, 0x02, 0xFC] + Array("PS\u{0}".utf8) + [0x80] + Array("E".utf8))
    }

    /// ENTER checks that its final stack pointer may be written: a not-present
    /// page there is #PF with a write's error code, and ESP stays. QEMU makes no
    /// such check (it prints "P\u{EC}E"): Bochs is the reference.
    func testEnterProbesItsFinalStackPointerLikeBochs() throws {
        try assertMatchesBochs("enter-probe", expected: Array("P".utf8) + [0x02] + Array("P@E".utf8))
    }

    func assertMatchesQEMU(_ name: String, expected: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws {
        try assertMatches(.qemu, name, expected: expected, file: file, line: line)
    }

    func testProtectedModeWalkThroughMatchesQEMU() throws {
        try assertMatchesQEMU("protected-mode", expected: Array("RPGXDI3S#E".utf8))
    }

    /// TF: a #DB trap after each instruction, reporting the next instruction's address.
    func testSingleStepTrapsMatchQEMU() throws {
        try assertMatchesQEMU("single-step", expected: [0x1E, 0x21, 0x23, 0x24, 0x25, 0x28, 0x29, 0x2A, 0x45])
    }

    /// LDS/LES/LFS/LGS/LSS write their offset register in real and protected
    /// mode (a segment load that ends the block must not drop it), a faulting
    /// one writes nothing, and a 16-bit LSS after leaving protected mode keeps
    /// ESP's upper half, as boot loaders returning from protected mode rely on.
    func testFarPointerLoadsMatchQEMU() throws {
        try assertMatchesQEMU("segment-pointers", expected: [
            0x34, 0x12, 0x50, 0x78, 0x56, 0x60, 0xD4, 0xA1, 0x70, 0x45, 0x23, 0x80, 0x42, 0x6E, 0x00,
            0xC0, 0xF0, 0x08, 0x10, 0x44, 0x11, 0xCC, 0x10, 0x47, 0x58, 0x55, 0x10,
            0x00, 0x7A, 0x08, 0x00, 0x45,
        ])
    }

    /// CPL is 0 in real mode and after CR0.PE is set, whatever CS's low bits
    /// are, until the far jump (MEMDISK sets PE at 9E7B:043D).
    func testRealModeCodeAtAnOddSegmentSetsPEAtCPL0LikeQEMU() throws {
        try assertMatchesQEMU("real-mode-cpl", expected: Array("RCMP".utf8))
    }

    /// Page faults with error codes and CR2, accessed and dirty bits, INVLPG, a 4 MiB page.
    func testPagingWalkThroughMatchesQEMU() throws {
        try assertMatchesQEMU("paging", expected: [0x50, 0x46, 0x30, 0x80, 0x46, 0x33, 0x81, 0x20, 0x60, 0x4E, 0x31, 0x45])
    }
}
