import XCTest
import IR
@testable import X64Backend

/// A guest load whose value only feeds an x87 instruction through the
/// transfer field runs that instruction on the host address when the TLB
/// hits, and through the transfer field when it misses; both load the same.
final class FusedX87LoadTests: XCTestCase {
    /// State fields past the test's guest memory (128..<4224), below the scratch slots.
    static let transfer = 4352, result = 4368, residence = 4384, image = 4400
    static let address: UInt32 = 0x1238
    static let value = (1.5e300).bitPattern
    static let sentinel: UInt64 = 0x5A5A_5A5A_5A5A_5A5A

    private func runLoad(tlbHit: Bool) throws -> TestState {
        let layout = HostX87Layout(residenceOffset: Self.residence, imageOffset: Self.image, host: 1, image: 2)
        let backend = X64Backend(configuration: X64BackendConfiguration(TestMachine.configuration, tlb: TestMachine.tlbLayout,
                                                                        hostX87: layout),
                                 cache: try CodeCache(capacity: 1 << 20))
        let guest = TestGuest()
        let (block, b) = guest.newBlock()
        let loaded = b.loadGuest(b.constant(UInt64(Self.address)), .u64, mmu: 0, .i64)
        b.storeState(loaded, offset: Self.transfer, .u64, .i64)
        b.hostX87(HostX87Instruction(escape: 5, reg: 0, stateOffset: Self.transfer))  // FLD qword
        b.hostX87(HostX87Instruction(escape: 5, reg: 3, stateOffset: Self.result))    // FSTP qword
        b.exitBlock(1)
        XCTAssertEqual(IRValidator.validate(block), [])
        let state = TestState()
        state.set32(TestMachine.faultOffset, UInt32(bitPattern: -1))
        state.set64(TestMachine.memoryOffset + Int(Self.address & 0xFFF), Self.value)
        state.set64(Self.transfer, Self.sentinel)
        if tlbHit {
            state.setTLB(Int(Self.address >> 12), read: UInt64(Self.address & ~0xFFF), write: 1,
                         addend: Int(bitPattern: state.base + TestMachine.memoryOffset) - Int(Self.address & ~0xFFF))
        }
        XCTAssertEqual(backend.run(try backend.compile(block), state: state.base), 1)
        return state
    }

    func testTLBHitRunsTheInstructionOnGuestMemory() throws {
        let state = try runLoad(tlbHit: true)
        XCTAssertEqual(state.u64(Self.result), Self.value)
        XCTAssertEqual(state.u64(Self.transfer), Self.sentinel, "the hit path must not go through the transfer field")
    }

    func testTLBMissRunsTheInstructionOnTheTransferField() throws {
        let state = try runLoad(tlbHit: false)
        XCTAssertEqual(state.u64(Self.result), Self.value)
        XCTAssertEqual(state.u64(Self.transfer), Self.value)
    }
}
