/// IA32_EFER bits (MSR C000_0080h).
public enum EFER {
    /// SYSCALL/SYSRET enabled.
    public static let systemCallEnable: UInt64 = 1 << 0
    /// Long mode enabled: paging turned on with PAE enters long mode.
    public static let longModeEnable: UInt64 = 1 << 8
    /// Long mode active: set by the CPU (LME and CR0.PG), read-only to WRMSR.
    public static let longModeActive: UInt64 = 1 << 10
    /// No-execute: bit 63 of PAE and 4-level paging entries is XD.
    public static let noExecuteEnable: UInt64 = 1 << 11

    /// What WRMSR may set; any other bit raises #GP.
    public static let writable: UInt64 = systemCallEnable | longModeEnable | longModeActive | noExecuteEnable
}

/// Long mode's linear addresses: 48 bits, sign-extended to 64.
public enum CanonicalAddress {
    /// Bits 63:47 all equal: the address is canonical. Every address a
    /// 32-bit mode produces (below 4 GiB) is.
    @inlinable @inline(__always)
    public static func isCanonical(_ linear: LinearAddress) -> Bool {
        (Int64(bitPattern: linear) << 16) >> 16 == Int64(bitPattern: linear)
    }
}
