/// The CPU's INTR input: the interrupt controller, asked only at block boundaries.
public protocol InterruptSource: AnyObject {
    var interruptPending: Bool { get }
    /// The INTA cycle: the vector of the highest-priority request.
    func acknowledge() -> UInt8
}

/// The CPU's own local APIC as its MSRs reach it: IA32_APIC_BASE and
/// IA32_TSC_DEADLINE. With one attached, CPUID declares the APIC while
/// IA32_APIC_BASE enables it.
public protocol LocalAPICRegisters: AnyObject {
    var baseMSR: UInt64 { get }
    var hardwareEnabled: Bool { get }
    /// False when the value sets reserved bits (the WRMSR raises #GP).
    func writeBaseMSR(_ value: UInt64) -> Bool
    var tscDeadline: UInt64 { get }
    /// `time`: the guest time at which the TSC reaches `tsc`.
    func setTSCDeadline(_ tsc: UInt64, time: Int64)
    /// The APIC's registers by offset (CR8 is TPR[7:4] at offset 0x80).
    func readRegister(_ offset: UInt32) -> UInt32
    func writeRegister(_ offset: UInt32, _ value: UInt32)
}
