@testable import CPURuntime
import Foundation
import Memory
import TestSupport
import Timing
import X86State
import XCTest

/// 64-bit mode general-purpose instructions against the host CPU. Each
/// snippet is assembled by nasm into a page of code that runs natively here
/// (between a prologue that loads all sixteen registers and RFLAGS from a
/// context and an epilogue that stores them back) and in PCEmu's long mode,
/// with the code and data pages mapped at the same linear addresses as the
/// host's, so every address a snippet computes is the same in both. The
/// registers, the defined arithmetic flags and the data page must match,
/// on the JIT and on the interpreter, for random and edge-case inputs.
final class LongModeInstructionTests: XCTestCase {
    /// A snippet (nasm, bits 64) and the flags whose value it defines. R15
    /// points at the data page and RSP near its end: memory operands go
    /// through R15. Snippets run on random registers; each sets up any
    /// register whose value must be in a range (counts, divisors).
    struct Snippet {
        var source: String
        var flags: UInt64 = LongModeInstructionTests.arithmetic
        init(_ source: String, flags: UInt64 = LongModeInstructionTests.arithmetic) {
            self.source = source
            self.flags = flags
        }
    }

    static let CF: UInt64 = 0x1, PF: UInt64 = 0x4, AF: UInt64 = 0x10, ZF: UInt64 = 0x40, SF: UInt64 = 0x80, OF: UInt64 = 0x800
    static let DF: UInt64 = 0x400
    static let arithmetic = CF | PF | AF | ZF | SF | OF | DF
    /// Logic operations leave AF undefined.
    static let logic = arithmetic & ~AF
    /// Multiplications define only CF and OF.
    static let multiply = CF | OF | DF
    /// Shifts by a count that may exceed 1: OF and AF undefined.
    static let shift = arithmetic & ~(OF | AF)
    /// Bit tests define CF only; bit scans ZF only.
    static let bitTest = CF | DF
    static let bitScan = ZF | DF

    static let snippets: [Snippet] = [
        // Arithmetic at every width, with REX registers and the legacy byte registers.
        Snippet("add rax, rbx"), Snippet("add eax, ebx"), Snippet("add ax, bx"), Snippet("add al, bl"),
        Snippet("add ah, bh"), Snippet("add r8, r9"), Snippet("add r8d, r9d"), Snippet("add r8w, r9w"),
        Snippet("add r8b, r9b"), Snippet("add sil, dil"), Snippet("add spl, bpl\nmov rsp, r15\nadd rsp, 0xF00"),
        Snippet("adc rax, rbx"), Snippet("adc ecx, edx"), Snippet("sbb rcx, rdx"), Snippet("sbb r10d, r11d"),
        Snippet("sub rax, rbx"), Snippet("sub r12, r13"), Snippet("sub r12d, 0x7fffffff"),
        Snippet("and rax, rbx", flags: logic), Snippet("or rcx, rdx", flags: logic), Snippet("xor r14, r13", flags: logic),
        Snippet("xor eax, eax", flags: logic), Snippet("and eax, -1", flags: logic),
        Snippet("cmp rax, rbx"), Snippet("cmp eax, ebx"), Snippet("cmp r9b, r10b"), Snippet("test rax, rbx", flags: logic),
        Snippet("add rax, 0x12345678"), Snippet("add rax, -5"), Snippet("sub rbx, -0x80000000"), Snippet("and rcx, -16", flags: logic),
        Snippet("cmp rdx, 0x7f"), Snippet("adc r11, 3"),
        Snippet("inc rax"), Snippet("dec r10"), Snippet("inc r9d"), Snippet("dec r8w"), Snippet("neg rax"), Snippet("neg r11d"),
        Snippet("not rbx"), Snippet("not r12d"),
        // Memory operands, RIP-relative included.
        Snippet("mov [r15+8], rax\nadd [r15+8], rbx\nmov rcx, [r15+8]"),
        Snippet("mov [r15+16], rax\nadd [r15+16], ebx\nmov rcx, [r15+16]"),
        Snippet("mov [r15+24], rdx\nsub rdx, [r15+24]"),
        Snippet("mov qword [r15], -1\nmov dword [r15], 5\nmov rax, [r15]"),
        Snippet("mov [r15+rcx*8+0x40], rax", flags: 0) .withCounter("and rcx, 15"),
        Snippet("lea rax, [rbx+rcx*4+0x10]", flags: 0), Snippet("lea eax, [rbx+rcx*2-1]", flags: 0),
        Snippet("lea rax, [rel $]", flags: 0), Snippet("lea r9, [r15+r8]", flags: 0), Snippet("lea ax, [rbx+rsi]", flags: 0),
        Snippet("mov rax, [rel value]\nadd rax, rbx\njmp done\nvalue: dq 0x0123456789abcdef\ndone:"),
        Snippet("inc qword [r15+32]\ndec dword [r15+40]\nmov rax, [r15+32]\nmov rbx, [r15+40]"),
        // Moves and extensions.
        Snippet("mov rax, 0x123456789abcdef0", flags: 0), Snippet("mov eax, 0xffffffff", flags: 0), Snippet("mov r9d, ecx", flags: 0),
        Snippet("mov ax, bx", flags: 0), Snippet("mov al, 5", flags: 0), Snippet("mov r12b, al", flags: 0),
        Snippet("mov rax, -1", flags: 0), Snippet("mov r10, 0x7fffffff", flags: 0),
        Snippet("movzx rax, bl", flags: 0), Snippet("movzx r8d, r9w", flags: 0), Snippet("movsx rax, word [r15+2]", flags: 0),
        Snippet("movsxd rax, ecx", flags: 0), Snippet("movsxd r11, dword [r15+4]", flags: 0), Snippet("movsx eax, bl", flags: 0),
        Snippet("movsx r13, r14b", flags: 0),
        Snippet("xchg rax, rbx", flags: 0), Snippet("xchg eax, r9d", flags: 0), Snippet("xchg [r15+8], rcx\nmov rdx, [r15+8]", flags: 0),
        Snippet("xadd rax, rbx"), Snippet("cmpxchg rcx, rdx"), Snippet("mov rax, rcx\ncmpxchg rcx, rdx"), Snippet("cmpxchg ecx, edx"), Snippet("mov eax, ecx\ncmpxchg ecx, edx"),
        Snippet("mov [r15], rax\nlock cmpxchg [r15], rdx\nmov rsi, [r15]"),
        Snippet("lock cmpxchg16b [r15+16]\nmov r8, [r15+16]\nmov r9, [r15+24]", flags: ZF | DF),
        Snippet("mov [r15+32], rax\nmov [r15+40], rdx\ncmpxchg16b [r15+32]\nmov r8, [r15+32]\nmov r9, [r15+40]", flags: ZF | DF),
        Snippet("nop", flags: 0), Snippet("db 0x87, 0xC0", flags: 0), Snippet("xchg r8d, eax", flags: 0),
        Snippet("xor ebx, ebx\nbsf eax, ebx", flags: ZF | DF), Snippet("xor ebx, ebx\nbsr r9, rbx", flags: ZF | DF),
        Snippet("cmp eax, eax\ncmovne ecx, edx"), Snippet("and ecx, 0xE0\nrol r10d, cl", flags: DF),
        Snippet("cbw", flags: 0), Snippet("cwde", flags: 0), Snippet("cdqe", flags: 0),
        Snippet("cwd", flags: 0), Snippet("cdq", flags: 0), Snippet("cqo", flags: 0),
        Snippet("bswap rax", flags: 0), Snippet("bswap r10d", flags: 0),
        Snippet("lahf\nmov rcx, rax", flags: 0), Snippet("sahf"),
        // Conditions.
        Snippet("cmp rax, rbx\nsetl cl\nsetb dl\nsete r8b\nsetg sil"),
        Snippet("cmp eax, ebx\ncmovl rcx, rdx\ncmova r8, r9"), Snippet("cmp rax, rbx\ncmovl ecx, edx\ncmovge r8, r9"),
        Snippet("test rax, rax\ncmovs rbx, rcx\ncmovz rdx, rsi", flags: logic),
        Snippet("cmp rax, rbx\njl .a\nmov rcx, 1\n.a: jbe .b\nmov rdx, 2\n.b: jo .c\nmov rsi, 3\n.c:"),
        Snippet("cmp ecx, edx\njg .a\nmov rax, 1\n.a: jae .b\nmov rbx, 2\n.b:"),
        Snippet("add rax, rbx\njc .a\nmov rcx, 1\n.a: js .b\nmov rdx, 2\n.b:"),
        // Multiplication and division.
        Snippet("imul rax, rbx", flags: multiply), Snippet("imul rax, rbx, 7", flags: multiply), Snippet("imul ecx, edx, -3", flags: multiply),
        Snippet("mul rbx", flags: multiply), Snippet("imul rbx", flags: multiply), Snippet("mul ecx", flags: multiply),
        Snippet("imul r9, qword [r15+8]", flags: multiply),
        Snippet("xor edx, edx\nor rbx, 1\ndiv rbx", flags: DF), Snippet("cqo\nmov rbx, -7\nidiv rbx", flags: DF),
        Snippet("xor edx, edx\nor ebx, 1\ndiv ebx", flags: DF),
        // Shifts, rotates and bits.
        Snippet("shl rax, cl", flags: shift), Snippet("shr rax, 5", flags: shift), Snippet("sar rbx, 63", flags: shift),
        Snippet("shl r9d, cl", flags: shift), Snippet("sar r10, cl", flags: shift), Snippet("shr rdx, 1", flags: logic), Snippet("shl rax, 1", flags: logic),
        Snippet("rol rax, cl", flags: CF | DF), Snippet("ror rbx, 13", flags: CF | DF), Snippet("rcl rax, 1", flags: CF | OF | DF),
        Snippet("rcr rdx, cl", flags: CF | DF), Snippet("shld rax, rbx, cl", flags: shift), Snippet("shrd rax, rbx, 17", flags: shift),
        Snippet("bt rax, rbx", flags: bitTest), Snippet("bts rax, 40", flags: bitTest), Snippet("btr rcx, rdx", flags: bitTest),
        Snippet("btc r8, 63", flags: bitTest), Snippet("or rbx, 1\nbsf rax, rbx", flags: bitScan),
        Snippet("or rbx, 1\nbsr rax, rbx", flags: bitScan), Snippet("bt qword [r15], 7", flags: bitTest),
        // The stack, calls and loops.
        Snippet("push rax\npop rbx", flags: 0), Snippet("push 0x12345678\npush -2\npop rax\npop rbx", flags: 0),
        Snippet("push qword [r15+8]\npop qword [r15+16]\nmov rax, [r15+16]", flags: 0), Snippet("push r12\npop r13", flags: 0),
        Snippet("push ax\npop bx", flags: 0), Snippet("call .f\njmp .e\n.f: pop rax\npush rax\nret\n.e:", flags: 0),
        Snippet("lea rbx, [rel .t]\ncall rbx\njmp .e\n.t: mov rcx, rsp\nret\n.e:", flags: 0),
        Snippet("lea rbx, [rel .t]\njmp rbx\nmov rax, 1\n.t:", flags: 0),
        Snippet("enter 16, 0\nmov [rsp], rax\nleave", flags: 0), Snippet("pushfq\npop rax\nand rax, 0xcd5", flags: 0),
        Snippet("push rbx\npopfq\npushfq\npop rcx\nand rcx, 0xcd5", flags: 0).withCounter("and rbx, 0x8d5"),
        Snippet("mov ecx, 3\n.l: add rax, rbx\nloop .l"), Snippet("and ecx, 7\njrcxz .z\nmov rax, 1\n.z:", flags: 0),
        // SSE with REX: XMM8-15, R8-R15 and 64-bit general operands (REX.W).
        Snippet("movq xmm8, rax\nmovq xmm9, rbx\npaddq xmm8, xmm9\nmovq rcx, xmm8", flags: 0),
        Snippet("movd xmm10, eax\nmovd edx, xmm10\nmovd xmm2, r9d\nmovd r10d, xmm2", flags: 0),
        Snippet("cvtsi2sd xmm11, rax\ncvttsd2si rcx, xmm11\ncvtsi2ss xmm2, ebx\ncvtss2si r10, xmm2", flags: 0),
        Snippet("movq xmm12, [r15+8]\nmovq [r15+16], xmm12\nmovq r8, xmm12", flags: 0),
        Snippet("movdqu xmm13, [r15]\npshufd xmm14, xmm13, 0x1b\nmovdqu [r15+32], xmm14", flags: 0),
        Snippet("pxor xmm15, xmm15\npcmpeqb xmm15, xmm8\npmovmskb r9d, xmm15", flags: 0).withCounter("movq xmm8, rax"),
        Snippet("movq xmm1, rax\nmovq xmm9, rbx\naddsd xmm1, xmm9\nmulsd xmm9, xmm1\nmovq rdx, xmm1\nmovq rsi, xmm9", flags: 0),
        Snippet("movq xmm3, rax\nmovmskpd r11d, xmm3\nmovq xmm4, rbx\nucomisd xmm3, xmm4", flags: ZF | PF | CF | DF),
        Snippet("popcnt rax, rbx\npopcnt r9d, r10d\npopcnt cx, dx"), Snippet("crc32 rax, rbx\ncrc32 r8d, cl\ncrc32 edx, word [r15]", flags: 0),
        Snippet("movq xmm8, rax\nmovq xmm9, rbx\npshufb xmm8, xmm9\npminsd xmm8, xmm9\nmovq rcx, xmm8\npextrq rdx, xmm9, 0", flags: 0),
        Snippet("movdqu xmm1, [r15]\nmovdqu xmm10, [r15+16]\npcmpistri xmm1, xmm10, 0x0c\nptest xmm1, xmm10", flags: CF | ZF | SF | OF | DF),
        // MMX in 64-bit mode: REX.W MOVQ with general registers and memory
        // (REX.WB 0F 6E /r and 0F 7E /r, as bytes: nasm prefers 0F 6F/7F for
        // memory), and MOVQ2DQ/MOVDQ2Q with an XMM register past XMM7.
        Snippet("movq mm2, rax\nmovq rcx, mm2\ndb 0x49, 0x0f, 0x6e, 0x1f\ndb 0x49, 0x0f, 0x7e, 0x5f, 0x10\nmovq rdx, mm3\nemms", flags: 0),
        Snippet("movq mm1, rax\nmovq2dq xmm10, mm1\nmovq rcx, xmm10\npextrq rdx, xmm10, 1\nmovdq2q mm4, xmm10\nmovq r8, mm4\nemms", flags: 0)
            .withCounter("mov r9, -1\nmovq xmm10, r9\npinsrq xmm10, r9, 1"),
        // Every exception masked, rounding toward zero: the JIT keeps the guest's
        // MXCSR in the host's across the run and puts the host's back around the
        // TLB miss of the first load from the data page. 1/10 rounds down
        // toward zero, up to nearest: the second quotient shows which mode it had.
        Snippet("mov r8, 0x3ff0000000000000\nmovq xmm0, r8\nmov r8, 0x4024000000000000\nmovq xmm1, r8\nmovq xmm2, xmm0\n"
                + "ldmxcsr [rel .z]\ndivsd xmm0, xmm1\nmov r9, [r15]\ndivsd xmm2, xmm1\nmovq r10, xmm0\nmovq r11, xmm2\n"
                + "stmxcsr [r15+8]\nldmxcsr [rel .n]\njmp .e\n.z: dd 0x7f80\n.n: dd 0x1f80\n.e:", flags: 0),
        // Strings.
        Snippet("lea rsi, [r15+0x40]\nlea rdi, [r15+0x80]\nmov ecx, 5\ncld\nrep movsq", flags: 0),
        Snippet("lea rdi, [r15+0x100]\nmov ecx, 9\ncld\nrep stosb", flags: 0),
        Snippet("lea rsi, [r15+0x40]\ncld\nlodsq\nlodsd", flags: 0),
        Snippet("lea rdi, [r15+0x180]\nmov ecx, 4\nstd\nrep stosd\ncld", flags: 0),
        Snippet("lea rsi, [r15+0x40]\nlea rdi, [r15+0x48]\nmov ecx, 8\ncld\nrepe cmpsb"),
        Snippet("lea rdi, [r15+0x40]\nmov ecx, 16\ncld\nrepne scasb"),
    ]

    // MARK: the native side

    /// The page the snippet's code is assembled for: prologue at 0, the
    /// snippet at `snippetOffset`, the epilogue (a HLT in the guest's copy) at `epilogueOffset`.
    static let snippetOffset = 0x200, epilogueOffset = 0xC00
    /// Context: 16 registers then RFLAGS, at the start of the context buffer.
    static let flagsSlot = 16

    static func source(of snippet: Snippet) -> String {
        let load = (0..<16).filter { $0 != 4 && $0 != 7 }.map { "mov \(name($0)), [rdi+\($0 * 8)]" }.joined(separator: "\n")
        let store = (1..<16).filter { $0 != 4 }.map { "mov [rax+\($0 * 8)], \(name($0))" }.joined(separator: "\n")
        return """
        bits 64
        default rel
        push rbx
        push rbp
        push r12
        push r13
        push r14
        push r15
        mov [host_rsp], rsp
        mov [context], rdi
        push qword [rdi+\(flagsSlot * 8)]
        popfq
        \(load)
        mov rsp, [rdi+32]
        mov rdi, [rdi+56]
        jmp snippet
        times \(snippetOffset)-($-$$) db 0xCC
        snippet:
        \(snippet.source)
        jmp epilogue
        times \(epilogueOffset)-($-$$) db 0xCC
        epilogue:
        mov [scratch], rax
        mov rax, [context]
        \(store)
        mov [rax+32], rsp
        pushfq
        pop qword [rax+\(flagsSlot * 8)]
        mov rcx, [scratch]
        mov [rax], rcx
        mov rsp, [host_rsp]
        pop r15
        pop r14
        pop r13
        pop r12
        pop rbp
        pop rbx
        ret
        align 8
        host_rsp: dq 0
        context: dq 0
        scratch: dq 0
        """
    }

    static func name(_ register: Int) -> String {
        ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"][safe: register] ?? "r\(register)"
    }

    static func assemble(_ source: String, in directory: URL) throws -> [UInt8] {
        let input = directory.appendingPathComponent("snippet.asm"), output = directory.appendingPathComponent("snippet.bin")
        try source.write(to: input, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nasm")
        process.arguments = ["-f", "bin", "-o", output.path, input.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ReferenceToolFailure("nasm: \(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        }
        return [UInt8](try Data(contentsOf: output))
    }

    /// The host's pages: code (read, write, execute) and data.
    let hostCode = mmap(nil, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
    let hostData = mmap(nil, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
    static let compared = 0x400

    deinit {
        munmap(hostCode, 4096)
        munmap(hostData, 4096)
    }

    struct Outcome: Equatable {
        var registers: [UInt64]
        var flags: UInt64
        var data: [UInt8]
    }

    func runNatively(_ code: [UInt8], registers: [UInt64], flags: UInt64, data: [UInt8]) -> Outcome {
        hostCode.copyMemory(from: code, byteCount: code.count)
        hostData.copyMemory(from: data, byteCount: data.count)
        var context = registers + [flags]
        context.withUnsafeMutableBytes { buffer in
            let function = unsafeBitCast(hostCode, to: (@convention(c) (UnsafeMutableRawPointer) -> Void).self)
            function(buffer.baseAddress!)
        }
        return Outcome(registers: Array(context[0..<16]), flags: context[16],
                       data: [UInt8](UnsafeRawBufferPointer(start: hostData, count: LongModeInstructionTests.compared)))
    }

    // MARK: the guest side

    /// Physical layout: page tables from 0x10000, code at 0x100000, data at 0x101000.
    static let tablesBase: UInt64 = 0x10000, codePhysical: UInt64 = 0x100000, dataPhysical: UInt64 = 0x101000

    func makeGuest(backend: X86CPU.Backend) throws -> (X86CPU, GuestRAM, VirtualClock) {
        let ram = try GuestRAM(size: 4 << 20)
        let space = AddressSpace(ram: ram)
        try space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
        // "max": every extension built, so SSSE3-SSE4.2, POPCNT and CRC32 run too.
        let cpu = X86CPU(addressSpace: space, ports: IOPortBus(), clock: clock, backend: backend,
                         model: try CPUModel.resolve(name: "max", changes: []).model)
        // Identity of the host's linear addresses: each level's table in its own page.
        var nextTable = LongModeInstructionTests.tablesBase + 0x1000
        func entry(_ table: UInt64, _ index: UInt64) -> UnsafeMutableRawPointer { ram.base + Int(table + index * 8) }
        func map(_ linear: UInt64, to physical: UInt64) {
            var table = LongModeInstructionTests.tablesBase
            for level in stride(from: 3, through: 1, by: -1) {
                let slot = entry(table, (linear >> (12 + 9 * UInt64(level))) & 0x1FF)
                var next = slot.load(as: UInt64.self) & ~0xFFF
                if next == 0 {
                    next = nextTable
                    nextTable += 0x1000
                    slot.storeBytes(of: next | 7, as: UInt64.self)
                }
                table = next
            }
            entry(table, (linear >> 12) & 0x1FF).storeBytes(of: physical | 7, as: UInt64.self)
        }
        map(UInt64(UInt(bitPattern: hostCode)), to: LongModeInstructionTests.codePhysical)
        map(UInt64(UInt(bitPattern: hostData)), to: LongModeInstructionTests.dataPhysical)
        try cpu.writeControlRegister(4, ControlRegister.cr4PAE | ControlRegister.cr4OSFXSR)
        try cpu.writeControlRegister(3, LongModeInstructionTests.tablesBase)
        _ = try cpu.writeLongModeMSR(X86CPU.LongModeMSR.efer, EFER.longModeEnable)
        try cpu.writeControlRegister(0, ControlRegister.protectionEnable)
        try cpu.writeControlRegister(0, ControlRegister.protectionEnable | ControlRegister.paging | ControlRegister.extensionType)
        cpu.setSegmentRegister(.cs, X86CPU.fastSystemCallSegment(selector: 8, code: true, long: true, privilege: 0))
        cpu.setSegmentRegister(.ss, X86CPU.fastSystemCallSegment(selector: 0x10, code: false, long: false, privilege: 0))
        return (cpu, ram, clock)
    }

    func runInGuest(_ cpu: X86CPU, _ ram: GuestRAM, _ clock: VirtualClock, code: [UInt8], registers: [UInt64], flags: UInt64,
                    data: [UInt8]) -> Outcome? {
        var guestCode = code
        guestCode[LongModeInstructionTests.epilogueOffset] = 0xF4   // HLT
        (ram.base + Int(LongModeInstructionTests.codePhysical)).copyMemory(from: guestCode, byteCount: guestCode.count)
        (ram.base + Int(LongModeInstructionTests.dataPhysical)).copyMemory(from: data, byteCount: data.count)
        // Code written behind the CPU's back: no translation of the last snippet may stay.
        cpu.memoryMapChanged()
        for (number, value) in registers.enumerated() { cpu.setRegister64(number, value) }
        cpu.flags = UInt32(flags)
        cpu.state.pointee.eip = UInt64(UInt(bitPattern: hostCode)) + UInt64(LongModeInstructionTests.snippetOffset)
        cpu.halted = false
        var rounds = 0
        while !cpu.halted && cpu.stopReason == nil && rounds < 100 {
            _ = cpu.run(until: clock.now + 100_000)
            rounds += 1
        }
        let end = UInt64(UInt(bitPattern: hostCode)) + UInt64(LongModeInstructionTests.epilogueOffset) + 1
        guard cpu.halted, cpu.state.pointee.eip == end else { return nil }
        return Outcome(registers: (0..<16).map { cpu.register64($0) }, flags: UInt64(cpu.flags),
                       data: [UInt8](UnsafeRawBufferPointer(start: ram.base + Int(LongModeInstructionTests.dataPhysical),
                                                            count: LongModeInstructionTests.compared)))
    }

    // MARK: the comparison

    /// Register values that find edge cases: zero, all ones, the sign
    /// boundaries of each width, and random values.
    static func inputs(count: Int, seed: UInt64) -> [[UInt64]] {
        var generator = SplitMix64(seed: seed)
        let edges: [UInt64] = [0, ~0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
                               0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000]
        return (0..<count).map { round in
            (0..<16).map { register in
                let pick = generator.next()
                return round == 0 ? 0 : (pick & 3 == 0 ? edges[Int((pick >> 8) % UInt64(edges.count))] : generator.next())
            }
        }
    }

    func check(backend: X86CPU.Backend) throws {
        let directory = try makeTemporaryDirectory("pcemu-long-mode-instructions")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (cpu, ram, clock) = try makeGuest(backend: backend)
        let dataAddress = UInt64(UInt(bitPattern: hostData))
        var generator = SplitMix64(seed: 0x5EED)
        var failures = 0
        for (index, snippet) in LongModeInstructionTests.snippets.enumerated() {
            let code = try LongModeInstructionTests.assemble(LongModeInstructionTests.source(of: snippet), in: directory)
            for var registers in LongModeInstructionTests.inputs(count: 8, seed: UInt64(index)) {
                registers[4] = dataAddress + 0xF00
                registers[15] = dataAddress
                let data = (0..<LongModeInstructionTests.compared).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                // Random arithmetic flags in, with the bit that reads as 1.
                let flags = (generator.next() & (LongModeInstructionTests.arithmetic & ~LongModeInstructionTests.DF)) | 2
                let host = runNatively(code, registers: registers, flags: flags, data: data)
                guard let guest = runInGuest(cpu, ram, clock, code: code, registers: registers, flags: flags, data: data) else {
                    XCTFail("\(backend) \(snippet.source): did not reach the end (RIP 0x\(String(cpu.state.pointee.eip, radix: 16)), "
                            + "stop: \(cpu.stopReason ?? "none"))")
                    failures += 1
                    break
                }
                let mask = snippet.flags
                if host.registers != guest.registers || host.flags & mask != guest.flags & mask || host.data != guest.data {
                    var report = "\(backend) \(snippet.source.replacingOccurrences(of: "\n", with: "; ")) with "
                    report += registers.map { String($0, radix: 16) }.joined(separator: " ")
                    for register in 0..<16 where host.registers[register] != guest.registers[register] {
                        let name = LongModeInstructionTests.name(register)
                        report += "\n\(name): host \(String(host.registers[register], radix: 16)) pcemu \(String(guest.registers[register], radix: 16))"
                    }
                    report += "\nflags host \(String(host.flags & mask, radix: 16)) pcemu \(String(guest.flags & mask, radix: 16))"
                    if host.data != guest.data { report += "\ndata differs" }
                    XCTFail(report)
                    failures += 1
                    break
                }
            }
            if failures > 20 { break }
        }
    }

    /// SYSCALL, SWAPGS and RDTSCP as translated code runs them (they cannot
    /// run natively here): SYSCALL enters at LSTAR with RCX and R11 saved.
    func testSystemCallSwapGSAndRDTSCPFromTranslatedCode() throws {
        let directory = try makeTemporaryDirectory("pcemu-long-mode-syscall")
        defer { try? FileManager.default.removeItem(at: directory) }
        for backend in [X86CPU.Backend.jit, .interpreter] {
            let (cpu, ram, clock) = try makeGuest(backend: backend)
            let snippet = Snippet("swapgs\nrdtscp\nmov r8, rcx\nswapgs\nsyscall\nnext:")
            let code = try LongModeInstructionTests.assemble(LongModeInstructionTests.source(of: snippet), in: directory)
            let base = UInt64(UInt(bitPattern: hostCode))
            cpu.state.pointee.star = 0x0023_0010_0000_0000
            cpu.state.pointee.lstar = base + UInt64(LongModeInstructionTests.epilogueOffset)
            cpu.state.pointee.fmask = UInt64(EFLAGS.interrupt | EFLAGS.direction)
            cpu.state.pointee.kernelGSBase = 0x1234_5678_9ABC
            cpu.state.pointee.tscAux = 3
            _ = try cpu.writeLongModeMSR(X86CPU.LongModeMSR.efer, EFER.longModeEnable | EFER.longModeActive | EFER.systemCallEnable)
            var registers = [UInt64](repeating: 0, count: 16)
            registers[4] = UInt64(UInt(bitPattern: hostData)) + 0xF00
            let outcome = try XCTUnwrap(runInGuest(cpu, ram, clock, code: code, registers: registers, flags: 0x2 | LongModeInstructionTests.DF,
                                                   data: [UInt8](repeating: 0, count: 16)), "\(backend): reached LSTAR's HLT")
            let syscallEnd = base + UInt64(LongModeInstructionTests.snippetOffset) + 14   // 3 + 3 + 3 + 3 + 2 bytes
            XCTAssertEqual(outcome.registers[1], syscallEnd, "\(backend): RCX = the instruction after SYSCALL")
            XCTAssertEqual(outcome.registers[11] & LongModeInstructionTests.DF, LongModeInstructionTests.DF, "R11 = RFLAGS before")
            XCTAssertEqual(outcome.flags & LongModeInstructionTests.DF, 0, "SFMASK cleared DF")
            XCTAssertEqual(outcome.registers[8], 3, "RDTSCP's ECX = TSC_AUX")
            XCTAssertEqual(cpu.segmentRegister(.cs).selector, 0x10)
            XCTAssertEqual(cpu.state.pointee.kernelGSBase, 0x1234_5678_9ABC, "two SWAPGS: back as it was")
        }
    }

    func testGeneralInstructionsMatchTheHostOnTheJIT() throws { try check(backend: .jit) }
    func testGeneralInstructionsMatchTheHostOnTheInterpreter() throws { try check(backend: .interpreter) }
}

extension LongModeInstructionTests.Snippet {
    /// The snippet with `setup` before it (to bring an input into range).
    func withCounter(_ setup: String) -> Self { Self(setup + "\n" + source, flags: flags) }
}

private extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
