import CPURuntime
import X86State

/// Puts the CPU where the 32-bit boot protocol says a kernel is entered:
/// protected mode without paging, CS and DS/ES/SS/FS/GS flat 4 GiB segments
/// loaded straight into the segment caches (selectors 0x10 and 0x18 of the
/// loader's GDT, so a kernel that reloads them gets the same), interrupts
/// off, ESI pointing at boot_params, EIP at the 32-bit entry.
enum ProtectedModeEntry {
    static let flatLimit: UInt32 = 0xFFFF_FFFF
    static let codeFlags = SegmentCache.present | SegmentCache.codeOrData | SegmentCache.code | SegmentCache.readable
        | SegmentCache.accessed | SegmentCache.big | SegmentCache.granularity
    static let dataFlags = SegmentCache.present | SegmentCache.codeOrData | SegmentCache.writable
        | SegmentCache.accessed | SegmentCache.big | SegmentCache.granularity

    static func enterKernel(_ cpu: X86CPU, layout: LinuxBootLoader.Layout) {
        cpu.setA20(true)
        let state = cpu.state
        state.pointee.cr0 |= ControlRegister.protectionEnable
        state.pointee.gdtBase = layout.gdtAddress
        state.pointee.gdtLimit = UInt32(LinuxBootLoader.gdt.count * 8 - 1)
        let code = SegmentCache(selector: UInt32(LinuxBootLoader.codeSelector), base: 0, limit: flatLimit, flags: codeFlags)
        let data = SegmentCache(selector: UInt32(LinuxBootLoader.dataSelector), base: 0, limit: flatLimit, flags: dataFlags)
        state.pointee.segments = (data, code, data, data, data, data)  // ES CS SS DS FS GS
        for number in 0..<8 { cpu.setTestRegister(number, 0) }
        cpu.setTestRegister(Register.esi.rawValue, layout.bootParamsAddress)
        state.pointee.eip = UInt64(layout.entryPoint)
        // EFLAGS with IF clear; setting it through the CPU recomputes the
        // mode bits its blocks are keyed on from CR0 and the new segments.
        cpu.setTestFlags(EFLAGS.reserved1)
        cpu.stateBlock.flushTLB()
    }
}
