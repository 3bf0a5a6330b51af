import CPURuntime
import X86State
import X87

/// The registers gdb sees, in the order of the target description below
/// (gdb's `org.gnu.gdb.i386.core` feature, laid out as QEMU's i386 target
/// sends it without SSE): the eight general registers in encoding order,
/// EIP, EFLAGS, the six segment selectors, ST0-ST7 as 80-bit values, and the
/// x87 control registers. Values are little-endian in `g`/`p` replies.
/// Every function here runs on the CPU thread.
enum GDBRegisters {
    static let generalNames = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]
    /// The segment registers in gdb's order, which is not the encoding's.
    static let segments: [(name: String, segment: Segment)] = [("cs", .cs), ("ss", .ss), ("ds", .ds), ("es", .es), ("fs", .fs), ("gs", .gs)]
    static let x87ControlNames = ["fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"]

    static let eip = 8, eflags = 9, firstSegment = 10, firstST = 16, firstX87Control = 24
    static let count = 32

    /// Bytes of register `number` in a `g` packet.
    static func size(_ number: Int) -> Int { (firstST..<firstX87Control).contains(number) ? 10 : 4 }

    /// The whole `g` packet's length in bytes.
    static let totalBytes = (0..<count).reduce(0) { $0 + size($1) }

    static let targetDescription: String = {
        var lines = [
            "<?xml version=\"1.0\"?>",
            "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">",
            "<target version=\"1.0\">",
            "<architecture>i386</architecture>",
            "<feature name=\"org.gnu.gdb.i386.core\">",
            "<flags id=\"i386_eflags\" size=\"4\">",
        ]
        for (bit, name) in [(0, "CF"), (2, "PF"), (4, "AF"), (6, "ZF"), (7, "SF"), (8, "TF"), (9, "IF"), (10, "DF"),
                            (11, "OF"), (14, "NT"), (16, "RF"), (17, "VM"), (18, "AC"), (19, "VIF"), (20, "VIP"), (21, "ID")] {
            lines.append("<field name=\"\(name)\" start=\"\(bit)\" end=\"\(bit)\"/>")
        }
        lines.append("</flags>")
        for (index, name) in generalNames.enumerated() {
            let type = index == 4 || index == 5 ? "data_ptr" : "int32"
            lines.append("<reg name=\"\(name)\" bitsize=\"32\" type=\"\(type)\" regnum=\"\(index)\"/>")
        }
        lines.append("<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\" regnum=\"\(eip)\"/>")
        lines.append("<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\" regnum=\"\(eflags)\"/>")
        for (index, entry) in segments.enumerated() {
            lines.append("<reg name=\"\(entry.name)\" bitsize=\"32\" type=\"int32\" regnum=\"\(firstSegment + index)\"/>")
        }
        for index in 0..<8 {
            lines.append("<reg name=\"st\(index)\" bitsize=\"80\" type=\"i387_ext\" regnum=\"\(firstST + index)\"/>")
        }
        for (index, name) in x87ControlNames.enumerated() {
            lines.append("<reg name=\"\(name)\" bitsize=\"32\" type=\"int\" group=\"float\" regnum=\"\(firstX87Control + index)\"/>")
        }
        lines += ["</feature>", "</target>"]
        return lines.joined(separator: "\n") + "\n"
    }()

    /// Register `number`'s bytes, little-endian; nil for a number gdb was not told of.
    static func read(_ number: Int, of cpu: X86CPU) -> [UInt8]? {
        let x87 = cpu.state.pointee.x87
        let value: UInt64
        switch number {
        case 0..<8: value = UInt64(cpu.generalRegister(number))
        case eip: value = UInt64(cpu.instructionPointer)
        case eflags: value = UInt64(cpu.flags)
        case firstSegment..<firstST: value = UInt64(cpu.segmentRegister(segments[number - firstSegment].segment).selector & 0xFFFF)
        case firstST..<firstX87Control:
            let register = x87[st: number - firstST]
            return littleEndian(register.significand, 8) + littleEndian(UInt64(register.signExponent), 2)
        case firstX87Control: value = UInt64(x87.controlWord)
        case firstX87Control + 1: value = UInt64(x87.statusWord)
        case firstX87Control + 2: value = UInt64(x87.fullTagWord)
        case firstX87Control + 3: value = UInt64(x87.fcs)
        case firstX87Control + 4: value = UInt64(x87.fip)
        case firstX87Control + 5: value = UInt64(x87.fds)
        case firstX87Control + 6: value = UInt64(x87.fdp)
        case firstX87Control + 7: value = UInt64(x87.fop)
        default: return nil
        }
        return littleEndian(value, 4)
    }

    /// Writes register `number` from its bytes; false when the number is
    /// unknown, the size wrong, or a segment selector cannot be loaded.
    static func write(_ number: Int, _ bytes: ArraySlice<UInt8>, to cpu: X86CPU) -> Bool {
        guard (0..<count).contains(number), bytes.count == size(number) else { return false }
        var value: UInt64 = 0
        for (index, byte) in bytes.prefix(8).enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
        let word = UInt32(truncatingIfNeeded: value)
        switch number {
        case 0..<8: cpu.setGeneralRegister(number, word)
        case eip: cpu.instructionPointer = word
        case eflags: cpu.flags = word
        case firstSegment..<firstST:
            let segment = segments[number - firstSegment].segment
            guard cpu.segmentRegister(segment).selector & 0xFFFF != word & 0xFFFF else { return true }
            guard word <= 0xFFFF else { return false }
            return cpu.debuggerLoadSegment(segment, selector: UInt16(word))
        case firstST..<firstX87Control:
            let exponent = UInt16(bytes[bytes.startIndex + 8]) | UInt16(bytes[bytes.startIndex + 9]) << 8
            cpu.state.pointee.x87[st: number - firstST] = X87Register(significand: value, signExponent: exponent)
        case firstX87Control: cpu.state.pointee.x87.controlWord = UInt16(truncatingIfNeeded: word)
        case firstX87Control + 1: cpu.state.pointee.x87.statusWord = UInt16(truncatingIfNeeded: word)
        case firstX87Control + 2: cpu.state.pointee.x87.setFullTagWord(UInt16(truncatingIfNeeded: word))
        case firstX87Control + 3: cpu.state.pointee.x87.fcs = UInt16(truncatingIfNeeded: word)
        case firstX87Control + 4: cpu.state.pointee.x87.fip = word
        case firstX87Control + 5: cpu.state.pointee.x87.fds = UInt16(truncatingIfNeeded: word)
        case firstX87Control + 6: cpu.state.pointee.x87.fdp = word
        default: cpu.state.pointee.x87.fop = UInt16(truncatingIfNeeded: word & 0x7FF)
        }
        return true
    }

    private static func littleEndian(_ value: UInt64, _ bytes: Int) -> [UInt8] {
        (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }
}
