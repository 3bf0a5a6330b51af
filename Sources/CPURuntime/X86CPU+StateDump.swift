import PCEmuSupport
import X86State

/// The register dump of `-d cpu`, laid out like QEMU's so that the two logs
/// can be compared line by line.
extension X86CPU {
    public func stateDump() -> String {
        func hex<Value: BinaryInteger>(_ value: Value, _ digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text
        }
        func segmentLine(_ name: String, _ cache: SegmentCache) -> String {
            "\(name)=\(hex(cache.selector & 0xFFFF, 4)) \(hex(cache.base, 8)) \(hex(cache.limit, 8)) \(hex(cache.flags, 8))"
        }
        let flags = LazyFlagsEvaluation.fullFlags(state)
        var letters = ""
        for (bit, letter) in [(EFLAGS.overflow, "O"), (EFLAGS.direction, "D"), (EFLAGS.sign, "S"), (EFLAGS.zero, "Z"),
                              (EFLAGS.auxiliary, "A"), (EFLAGS.parity, "P"), (EFLAGS.carry, "C")] {
            letters += flags & bit != 0 ? letter : "-"
        }
        let cpl = state.pointee.hiddenFlags & HiddenFlags.cplMask
        let shadow = state.pointee.hiddenFlags & HiddenFlags.interruptShadow.rawValue != 0 ? 1 : 0
        var lines = [
            "EAX=\(hex(register(0), 8)) EBX=\(hex(register(3), 8)) ECX=\(hex(register(1), 8)) EDX=\(hex(register(2), 8))",
            "ESI=\(hex(register(6), 8)) EDI=\(hex(register(7), 8)) EBP=\(hex(register(5), 8)) ESP=\(hex(register(4), 8))",
            "EIP=\(hex(UInt32(truncatingIfNeeded: state.pointee.eip), 8)) EFL=\(hex(flags, 8)) [\(letters)] CPL=\(cpl) II=\(shadow) HLT=\(halted ? 1 : 0)",
        ]
        for (segment, name) in zip(Segment.allCases, ["ES ", "CS ", "SS ", "DS ", "FS ", "GS "]) {
            lines.append(segmentLine(name, self.segment(segment)))
        }
        lines.append(segmentLine("LDT", state.pointee.ldtr))
        lines.append(segmentLine("TR ", state.pointee.taskRegister))
        lines.append("GDT=     \(hex(state.pointee.gdtBase, 8)) \(hex(state.pointee.gdtLimit, 8))")
        lines.append("IDT=     \(hex(state.pointee.idtBase, 8)) \(hex(state.pointee.idtLimit, 8))")
        lines.append("CR0=\(hex(state.pointee.cr0, 8)) CR2=\(hex(state.pointee.cr2, 8)) CR3=\(hex(state.pointee.cr3, 8)) CR4=\(hex(state.pointee.cr4, 8))")
        return lines.joined(separator: "\n")
    }
}
