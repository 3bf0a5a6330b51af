@testable import CPURuntime
import Memory
import X86State

/// What a probe's linear access did: the value read (0 for a write), or the
/// exception it raised with its error code and CR2.
enum TestLinearAccess: Equatable {
    case value(UInt64)
    case fault(vector: UInt32, errorCode: UInt32, cr2: LinearAddress)
}

/// The software MMU as the paging tests drive it: linear accesses as the
/// interpreter makes them (hit path, slow path and walk), INVLPG's and the
/// full flushes, and instruction fetch. A raised exception is returned and
/// cleared, so the next access starts clean.
extension X86CPU {
    func testLinearRead(_ linear: LinearAddress, bytes: Int, user: Bool = false) -> TestLinearAccess {
        let value = mmu.load(linear, bytes: bytes, mmu: user ? SoftMMU.userIndex : SoftMMU.supervisorIndex)
        return takeTestFault() ?? .value(value)
    }

    func testLinearWrite(_ linear: LinearAddress, _ value: UInt64, bytes: Int, user: Bool = false) -> TestLinearAccess {
        mmu.store(linear, value, bytes: bytes, mmu: user ? SoftMMU.userIndex : SoftMMU.supervisorIndex)
        return takeTestFault() ?? .value(0)
    }

    /// Reads code as the translator does at the current CPL: the bytes, and the
    /// page fault `readCode` recorded if it stopped at one.
    func testReadCode(_ linear: LinearAddress, count: Int) -> (bytes: [UInt8], fault: TestLinearAccess?) {
        var bytes = [UInt8](repeating: 0, count: count)
        let read = bytes.withUnsafeMutableBytes { mmu.readCode(linear: linear, into: $0) }
        let fault = mmu.raiseCodeFault() ? takeTestFault() : nil
        return (Array(bytes[0..<read]), fault)
    }

    /// The physical address block lookup uses for an instruction fetch.
    func testFetchPhysical(_ linear: LinearAddress) -> PhysicalAddress { mmu.physical(linear) }

    func testFlushTLB(keepingGlobal: Bool = false) { mmu.flushAll(keepingGlobal: keepingGlobal) }
    func testInvalidatePage(_ linear: LinearAddress) { mmu.flush(page: linear) }

    /// Runs at `level` from now on: CS's RPL and SS's DPL (where the CPL lives) set to it.
    func setTestPrivilege(_ level: UInt32) {
        var code = segmentRegister(.cs), stack = segmentRegister(.ss)
        code.selector = code.selector & ~3 | level & 3
        stack.selector = stack.selector & ~3 | level & 3
        stack.flags = stack.flags & ~(3 << SegmentCache.dplShift) | (level & 3) << SegmentCache.dplShift
        setSegmentRegister(.cs, code)
        setSegmentRegister(.ss, stack)
    }

    private func takeTestFault() -> TestLinearAccess? {
        guard state.pointee.pendingException >= 0 else { return nil }
        let fault = TestLinearAccess.fault(vector: UInt32(state.pointee.pendingException),
                                           errorCode: state.pointee.pendingErrorCode, cr2: state.pointee.cr2)
        state.pointee.pendingException = -1
        return fault
    }
}
