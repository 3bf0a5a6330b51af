import Lifecycle
import X86State
import X87

/// The CPU's saved state: the architectural registers (general, EIP, EFLAGS,
/// segment registers with their hidden parts, descriptor tables, control and
/// debug registers, the MSRs the CPU keeps), the x87 FPU, XMM0-15 and MXCSR, the A20 mask, and
/// whether it is halted or in an interrupt shadow. Taken between runs, so no
/// exception is pending and the x87 is in `CPUState`. Translations, TLBs and
/// the jump cache are not state: a load drops them, and every translation.
extension X86CPU: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "x86-cpu"

    static let registerNames = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                                "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]
    /// Long mode's MSRs; a record from before long mode has none (all zero).
    static let longModeFields: [(String, WritableKeyPath<CPUState, UInt64>)] = [
        ("efer", \.efer), ("star", \.star), ("lstar", \.lstar), ("cstar", \.cstar), ("fmask", \.fmask),
        ("kernelGSBase", \.kernelGSBase), ("tscAux", \.tscAux)]
    static let segmentNames: [(String, Segment)] = [("es", .es), ("cs", .cs), ("ss", .ss), ("ds", .ds), ("fs", .fs), ("gs", .gs)]

    public func save(into record: inout StateRecord) {
        takeX87FromHost()
        let s = state.pointee
        for (number, name) in X86CPU.registerNames.enumerated() {
            record.put(name, withUnsafeBytes(of: s.registers) { $0.load(fromByteOffset: 8 * number, as: UInt64.self) })
        }
        record.put("eip", s.eip)
        record.put("eflags", flags)
        for (name, segment) in X86CPU.segmentNames { record.put(name, X86CPU.save(segmentRegister(segment))) }
        record.put("ldtr", X86CPU.save(s.ldtr))
        record.put("tr", X86CPU.save(s.taskRegister))
        record.put("gdtBase", s.gdtBase)
        record.put("gdtLimit", s.gdtLimit)
        record.put("idtBase", s.idtBase)
        record.put("idtLimit", s.idtLimit)
        record.put("cr0", s.cr0)
        record.put("cr2", s.cr2)
        record.put("cr3", s.cr3)
        record.put("cr4", s.cr4)
        record.put("debugRegisters", withUnsafeBytes(of: s.debugRegisters) { Array($0) })
        // Saved as the 32-bit mask it was before addresses were 64 bits wide.
        record.put("a20Mask", UInt32(truncatingIfNeeded: s.a20Mask))
        record.put("sysenterCS", s.sysenterCS)
        record.put("sysenterESP", s.sysenterESP)
        record.put("sysenterEIP", s.sysenterEIP)
        record.put("tscOffset", s.tscOffset)
        record.put("apicBase", s.apicBase)
        for (name, field) in X86CPU.longModeFields { record.put(name, s[keyPath: field]) }
        record.put("instructionCount", s.instructionCount)
        record.put("halted", halted)
        record.put("interruptShadow", s.hiddenFlags & HiddenFlags.interruptShadow.rawValue != 0)
        record.put("x87", X86CPU.save(s.x87))
        record.put("cacheControl", cacheControl.save())
        record.put("sse", X86CPU.save(s.simd))
    }

    public func load(from record: StateRecord) throws {
        // Everything is read and checked before anything changes.
        var s = state.pointee
        var registers = [UInt64]()
        for name in X86CPU.registerNames {
            // R8-R15 are missing from a record saved before there were sixteen.
            registers.append(record.contains(name) || registers.count < 8 ? try record.unsigned(name) : 0)
        }
        s.eip = try record.unsigned("eip")
        let eflags: UInt32 = try record.unsigned("eflags")
        var segments = [SegmentCache]()
        for (name, _) in X86CPU.segmentNames { segments.append(try X86CPU.loadSegment(try record.record(name))) }
        s.ldtr = try X86CPU.loadSegment(try record.record("ldtr"))
        s.taskRegister = try X86CPU.loadSegment(try record.record("tr"))
        // Table bases and CR2 are 64-bit in long mode; CR0 and CR4 have no bits above 31.
        s.gdtBase = try record.unsigned("gdtBase")
        s.gdtLimit = try record.unsigned("gdtLimit")
        s.idtBase = try record.unsigned("idtBase")
        s.idtLimit = try record.unsigned("idtLimit")
        s.cr0 = UInt64(try record.unsigned("cr0", as: UInt32.self))
        s.cr2 = try record.unsigned("cr2")
        s.cr3 = try record.unsigned("cr3")
        s.cr4 = UInt64(try record.unsigned("cr4", as: UInt32.self))
        for (name, field) in X86CPU.longModeFields where record.contains(name) {
            s[keyPath: field] = try record.unsigned(name)
        }
        guard s.efer & ~EFER.writable == 0 else { throw StateRecordError.outOfRange(record: X86CPU.stateName, field: "efer") }
        let debugRegisters = try record.bytes("debugRegisters", count: MemoryLayout.size(ofValue: s.debugRegisters))
        let a20Mask: UInt32 = try record.unsigned("a20Mask")
        s.sysenterCS = try record.unsigned("sysenterCS")
        s.sysenterESP = try record.unsigned("sysenterESP")
        s.sysenterEIP = try record.unsigned("sysenterEIP")
        s.tscOffset = try record.signed("tscOffset")
        s.apicBase = try record.unsigned("apicBase")
        s.instructionCount = try record.unsigned("instructionCount")
        let wasHalted = try record.bool("halted")
        let shadow = try record.bool("interruptShadow")
        s.x87 = try X86CPU.loadX87(try record.record("x87"))
        // Absent from states saved before the MTRRs existed: power-on values.
        let msrs = record.contains("cacheControl") ? try CacheControlMSRs.load(try record.record("cacheControl")) : CacheControlMSRs()
        // A state saved before the SSE state existed has none: the power-on value.
        s.simd = record.contains("sse") ? try X86CPU.loadSIMD(try record.record("sse")) : SIMDState()
        // A20 is either open or bit 20 cleared; anything else would mask more memory.
        guard a20Mask == 0xFFFF_FFFF || a20Mask == ~UInt32(1 << 20) else {
            throw StateRecordError.outOfRange(record: X86CPU.stateName, field: "a20Mask")
        }
        s.a20Mask = a20Mask == 0xFFFF_FFFF ? ~0 : ~(1 << 20)

        withUnsafeMutableBytes(of: &s.registers) { raw in
            for (number, value) in registers.enumerated() { raw.storeBytes(of: value, toByteOffset: 8 * number, as: UInt64.self) }
        }
        withUnsafeMutableBytes(of: &s.debugRegisters) { $0.copyBytes(from: debugRegisters) }
        s.pendingException = -1
        s.x87Residence = X87Residence.state
        s.hiddenFlags = shadow ? HiddenFlags.interruptShadow.rawValue : 0
        state.pointee = s
        cacheControl = msrs
        for ((_, segment), cache) in zip(X86CPU.segmentNames, segments) { setSegment(segment, cache) }
        flags = eflags  // also recomputes the mode bits from CR0, EFLAGS and the segments
        halted = wasHalted
        tripleFault = false
        // The machine loads RAM first: blocks translated from what it held go too.
        memoryMapChanged()
    }

    static func save(_ segment: SegmentCache) -> StateRecord {
        var record = StateRecord(name: "segment", version: 1)
        record.put("selector", segment.selector)
        record.put("base", segment.base)
        record.put("limit", segment.limit)
        record.put("flags", segment.flags)
        return record
    }

    static func loadSegment(_ record: StateRecord) throws -> SegmentCache {
        try record.expect("segment", version: 1)
        let selector: UInt32 = try record.unsigned("selector")
        guard selector <= 0xFFFF else { throw StateRecordError.outOfRange(record: "segment", field: "selector") }
        return SegmentCache(selector: selector, base: try record.unsigned("base"), limit: try record.unsigned("limit"),
                            flags: try record.unsigned("flags"))
    }

    /// XMM0-15 (256 bytes, little-endian) and MXCSR.
    static func save(_ simd: SIMDState) -> StateRecord {
        var record = StateRecord(name: "sse", version: 1)
        var bytes = [UInt8]()
        for index in 0..<16 {
            let register = simd.register(index)
            withUnsafeBytes(of: register.low.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: register.high.littleEndian) { bytes += $0 }
        }
        record.put("xmm", bytes)
        record.put("mxcsr", simd.mxcsr)
        return record
    }

    static func loadSIMD(_ record: StateRecord) throws -> SIMDState {
        try record.expect("sse", version: 1)
        let bytes = try record.bytes("xmm", count: 256)
        let mxcsr: UInt32 = try record.unsigned("mxcsr")
        guard mxcsr & ~MXCSR.writableMask == 0 else { throw StateRecordError.outOfRange(record: "sse", field: "mxcsr") }
        var simd = SIMDState()
        simd.setMXCSR(mxcsr)
        func qword(_ at: Int) -> UInt64 { bytes[at..<at + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        for index in 0..<16 { simd.setRegister(index, low: qword(16 * index), high: qword(16 * index + 8)) }
        return simd
    }

    static func save(_ x87: X87State) -> StateRecord {
        var record = StateRecord(name: "x87", version: 1)
        var registers = [UInt8]()
        var copy = x87
        withUnsafeBytes(of: &copy.registers) { raw in
            for index in 0..<8 {
                let register = raw.load(fromByteOffset: index * MemoryLayout<X87Register>.stride, as: X87Register.self)
                withUnsafeBytes(of: register.significand.littleEndian) { registers += $0 }
                withUnsafeBytes(of: register.signExponent.littleEndian) { registers += $0 }
            }
        }
        record.put("registers", registers)
        record.put("controlWord", x87.controlWord)
        record.put("statusWord", x87.statusWord)
        record.put("tagValid", x87.tagValid)
        record.put("fop", x87.fop)
        record.put("fip", x87.fip)
        record.put("fcs", x87.fcs)
        record.put("fdp", x87.fdp)
        record.put("fds", x87.fds)
        return record
    }

    static func loadX87(_ record: StateRecord) throws -> X87State {
        try record.expect("x87", version: 1)
        let bytes = try record.bytes("registers", count: 80)
        var x87 = X87State()
        withUnsafeMutableBytes(of: &x87.registers) { raw in
            for index in 0..<8 {
                let significand = bytes[index * 10..<index * 10 + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let signExponent = UInt16(bytes[index * 10 + 8]) | UInt16(bytes[index * 10 + 9]) << 8
                raw.storeBytes(of: X87Register(significand: significand, signExponent: signExponent),
                               toByteOffset: index * MemoryLayout<X87Register>.stride, as: X87Register.self)
            }
        }
        x87.controlWord = try record.unsigned("controlWord")
        x87.statusWord = try record.unsigned("statusWord")
        x87.tagValid = try record.unsigned("tagValid")
        x87.fop = try record.unsigned("fop")
        x87.fip = try record.unsigned("fip")
        x87.fcs = try record.unsigned("fcs")
        x87.fdp = try record.unsigned("fdp")
        x87.fds = try record.unsigned("fds")
        return x87
    }
}
