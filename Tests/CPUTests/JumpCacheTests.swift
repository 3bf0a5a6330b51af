import CPURuntime
import Execution
import Memory
import Timing
import X86State
import XCTest

/// Blocks entered straight from generated code (the jump cache, chained
/// jumps) must follow the guest's changes of mapping: after a CR3 write or
/// an INVLPG, a jump to the same linear address runs the newly mapped code.
/// 16-bit code with paging on, CS base 0x40000: linear page 0x40000 holds
/// the routine called (`mov ax, imm; ret`), page 0x41000 the caller.
final class JumpCacheTests: XCTestCase {
    let present: UInt32 = 7  // P, RW, US
    let firstDirectory: UInt32 = 0x1000, firstTable: UInt32 = 0x2000
    let secondDirectory: UInt32 = 0x6000, secondTable: UInt32 = 0x7000
    /// The routine's two versions, and the caller's page.
    let firstRoutine: UInt32 = 0x5000, secondRoutine: UInt32 = 0x8000, caller: UInt32 = 0x9000

    var ram: GuestRAM!
    var cpu: X86CPU!

    override func setUp() {
        ram = try! GuestRAM(size: 1 << 20)
        let space = AddressSpace(ram: ram)
        try! space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        cpu = X86CPU(addressSpace: space, ports: IOPortBus(), clock: VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)))
        put(firstRoutine, [0xB8, 0x11, 0x11, 0xC3])   // mov ax, 0x1111; ret
        put(secondRoutine, [0xB8, 0x22, 0x22, 0xC3])  // mov ax, 0x2222; ret
        for (directory, table, routine) in [(firstDirectory, firstTable, firstRoutine), (secondDirectory, secondTable, secondRoutine)] {
            put32(directory, table | present)
            put32(table + 0x40 * 4, routine | present)   // linear 0x40000
            put32(table + 0x41 * 4, caller | present)    // linear 0x41000
            put32(table + 0x02 * 4, 0x2000 | present)    // the first page table, identity-mapped
            put32(table + 0x03 * 4, 0x3000 | present)    // the stack
        }
    }

    func put(_ address: UInt32, _ bytes: [UInt8]) {
        for (index, value) in bytes.enumerated() { ram.base.storeBytes(of: value, toByteOffset: Int(address) + index, as: UInt8.self) }
    }

    func put32(_ address: UInt32, _ value: UInt32) { ram.base.storeBytes(of: value, toByteOffset: Int(address), as: UInt32.self) }

    /// Paging on with the first directory; CS:IP = 4000:1000 (the caller), SS:SP = 0:4000.
    func runCaller(_ code: [UInt8]) {
        put(caller, code)
        cpu.setControlRegisters(cr0: ControlRegister.protectionEnable | ControlRegister.paging | ControlRegister.extensionType,
                                    cr3: UInt64(firstDirectory))
        cpu.loadRealModeSegment(.cs, selector: 0x4000)
        cpu.loadRealModeSegment(.ss, selector: 0)
        cpu.loadRealModeSegment(.ds, selector: 0)
        cpu.setGeneralRegister(4, 0x4000)
        cpu.state.pointee.eip = 0x1000
        XCTAssertEqual(cpu.run(until: 1_000_000), .halted)
    }

    func testCallAfterCR3WriteRunsTheNewAddressSpacesCode() {
        runCaller([
            0xE8, 0xFD, 0xEF,                    // call 0x0000 (runs 0x1111)
            0x89, 0xC3,                          // mov bx, ax
            0x66, 0xB8, 0x00, 0x60, 0x00, 0x00,  // mov eax, secondDirectory
            0x0F, 0x22, 0xD8,                    // mov cr3, eax
            0xE8, 0xEF, 0xEF,                    // call 0x0000 (now 0x2222)
            0xF4,                                // hlt
        ])
        XCTAssertEqual(cpu.generalRegister(3) & 0xFFFF, 0x1111)
        XCTAssertEqual(cpu.generalRegister(0) & 0xFFFF, 0x2222)
    }

    func testCallAfterINVLPGRunsTheNewlyMappedCode() {
        runCaller([
            0xE8, 0xFD, 0xEF,                                      // call 0x0000 (runs 0x1111)
            0x89, 0xC3,                                            // mov bx, ax
            0x66, 0xC7, 0x06, 0x00, 0x21, 0x07, 0x80, 0x00, 0x00,  // mov dword [0x2100], 0x8007: remap linear 0x40000
            0x2E, 0x0F, 0x01, 0x3E, 0x00, 0x00,                    // invlpg cs:[0x0000]
            0xE8, 0xE9, 0xEF,                                      // call 0x0000 (now 0x2222)
            0xF4,                                                  // hlt
        ])
        XCTAssertEqual(cpu.generalRegister(3) & 0xFFFF, 0x1111)
        XCTAssertEqual(cpu.generalRegister(0) & 0xFFFF, 0x2222)
    }
}
