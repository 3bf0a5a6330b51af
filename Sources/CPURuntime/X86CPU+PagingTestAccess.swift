import X86State

/// What a test's linear access did: the value read (0 for a write), or the
/// exception it raised with its error code and CR2.
public enum TestLinearAccess: Equatable, Sendable {
    case value(UInt64)
    case fault(vector: UInt32, errorCode: UInt32, cr2: UInt32)
}

/// The software MMU for tests: linear accesses as the interpreter makes them
/// (hit path, slow path and walk), the TLB flushes the CPU's control-register
/// writes and INVLPG must call, and instruction fetch. A raised exception is
/// returned and cleared, so the next access starts clean.
extension X86CPU {
    public func testLinearRead(_ linear: UInt32, bytes: Int, user: Bool = false) -> TestLinearAccess {
        let value = mmu.load(linear, bytes: bytes, mmu: user ? SoftMMU.userIndex : SoftMMU.supervisorIndex)
        return takeTestFault() ?? .value(value)
    }

    public func testLinearWrite(_ linear: UInt32, _ value: UInt64, bytes: Int, user: Bool = false) -> TestLinearAccess {
        mmu.store(linear, value, bytes: bytes, mmu: user ? SoftMMU.userIndex : SoftMMU.supervisorIndex)
        return takeTestFault() ?? .value(0)
    }

    /// Reads code as the translator does at the current CPL: the bytes, and the
    /// page fault `readCode` recorded if it stopped at one.
    public func testReadCode(_ linear: UInt32, count: Int) -> (bytes: [UInt8], fault: TestLinearAccess?) {
        var bytes = [UInt8](repeating: 0, count: count)
        let read = bytes.withUnsafeMutableBytes { mmu.readCode(linear: linear, into: $0) }
        let fault = mmu.raiseCodeFault() ? takeTestFault() : nil
        return (Array(bytes[0..<read]), fault)
    }

    /// The physical address block lookup uses for an instruction fetch.
    public func testFetchPhysical(_ linear: UInt32) -> UInt32 { mmu.physical(linear) }

    /// Stores CR0, CR3 and CR4 and tells the TLB, as MOV to CRn must.
    public func setTestControlRegisters(cr0: UInt32? = nil, cr3: UInt32? = nil, cr4: UInt32? = nil) {
        // CR4 first: enabling paging with PAE needs PAE set before PG.
        if let cr4 {
            let old = state.pointee.cr4
            state.pointee.cr4 = cr4
            mmu.controlRegisterWritten(4, from: old, to: cr4)
        }
        if let cr3 {
            let old = state.pointee.cr3
            state.pointee.cr3 = cr3
            mmu.controlRegisterWritten(3, from: old, to: cr3)
        }
        if let cr0 {
            let old = state.pointee.cr0
            state.pointee.cr0 = cr0
            mmu.controlRegisterWritten(0, from: old, to: cr0)
            updateHiddenFlags()
        }
    }

    public func testFlushTLB(keepingGlobal: Bool = false) { mmu.flushAll(keepingGlobal: keepingGlobal) }
    public func testInvalidatePage(_ linear: UInt32) { mmu.flush(page: linear) }

    private func takeTestFault() -> TestLinearAccess? {
        guard state.pointee.pendingException >= 0 else { return nil }
        let fault = TestLinearAccess.fault(vector: UInt32(state.pointee.pendingException),
                                           errorCode: state.pointee.pendingErrorCode, cr2: state.pointee.cr2)
        state.pointee.pendingException = -1
        return fault
    }
}
