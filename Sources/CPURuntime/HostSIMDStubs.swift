import IR
import X64Backend
import X86State

/// The host code the interpreter backend runs for `hostSIMD` ops: one stub
/// per distinct instruction (`HostSIMDEncoder.stub`, the bytes the JIT emits
/// inline, wrapped as a C function of the state pointer), compiled the first
/// time a block holding it is resolved and kept for the CPU's life. A stub
/// rather than a C shim with one asm statement per instruction because the
/// interpreter then runs exactly what the JIT runs, every SSE form included,
/// without a second encoding of each to keep in step.
final class HostSIMDStubs {
    private var stubs: [UInt64: HelperFunction] = [:]
    private var caches: [CodeCache] = []

    static let layout = HostSIMDLayout(
        xmmOffset: CPUStateLayout.xmm, transferOffset: CPUStateLayout.simdTransfer,
        resultOffset: CPUStateLayout.simdResult, mxcsrOnHostOffset: CPUStateLayout.mxcsrOnHost,
        hostMXCSROffset: CPUStateLayout.hostMXCSR, raisedFlagsOffset: CPUStateLayout.simdRaisedFlags,
        mxcsrOffset: CPUStateLayout.mxcsr,
        mmxOffset: CPUStateLayout.mmx, mmxStride: CPUStateLayout.mmxStride)

    /// The stub for `constant` (a `HostSIMDInstruction`), compiled on first use.
    func function(for constant: UInt64) -> HelperFunction {
        if let stub = stubs[constant] { return stub }
        let code = HostSIMDEncoder.stub(HostSIMDInstruction(rawValue: constant), layout: Self.layout)
        var address = caches.last?.install(code)
        if address == nil {
            // Full (or none yet): a new cache; the old one stays, its stubs still in use.
            guard let cache = try? CodeCache(capacity: 1 << 20) else {
                fatalError("cannot map executable memory for SSE stubs")
            }
            caches.append(cache)
            address = cache.install(code)
        }
        let stub = unsafeBitCast(address!, to: HelperFunction.self)
        stubs[constant] = stub
        return stub
    }
}
