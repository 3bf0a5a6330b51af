import XCTest
import IR
@testable import X64Backend

/// Small blocks with exact expected results.
final class HandwrittenBlockTests: XCTestCase {
    private let guest = TestGuest()
    private var backend: X64Backend!

    override func setUpWithError() throws {
        backend = X64Backend(configuration: X64BackendConfiguration(TestMachine.configuration), cache: try CodeCache(capacity: 1 << 20))
    }

    private func run(_ build: (IRBuilder) -> Void, setUp: (TestState) -> Void = { _ in }) throws -> (UInt64, TestState) {
        let (block, builder) = guest.newBlock()
        build(builder)
        XCTAssertEqual(IRValidator.validate(block), [])
        let state = TestState()
        state.set32(TestMachine.faultOffset, UInt32(bitPattern: -1))
        setUp(state)
        let exit = backend.run(try backend.compile(block), state: state.base)
        return (exit, state)
    }

    func testArithmeticOnGlobals() throws {
        let (exit, state) = try run({ b in
            b.instructionStart(0x100)
            let sum = b.add(self.guest.eax, self.guest.ecx)
            b.binary(.shl, into: self.guest.eax, sum, b.constant(3))
            b.binary(.sub, into: self.guest.ecx, self.guest.ecx, b.constant(1))  // wraps below zero
            b.unary(.exts32to64, into: self.guest.rsi, self.guest.ecx, .i64)
            b.exitBlock(5)
        }, setUp: { state in
            state.set32(TestMachine.eax, 0x1000_0001)
            state.set32(TestMachine.ecx, 0)
            state.set64(TestMachine.rsi, 7)
        })
        XCTAssertEqual(exit, 5)
        XCTAssertEqual(state.u32(TestMachine.eax), 0x8000_0008)
        XCTAssertEqual(state.u32(TestMachine.ecx), 0xFFFF_FFFF)
        XCTAssertEqual(state.u64(TestMachine.rsi), ~0)
        XCTAssertEqual(state.u64(TestMachine.instructionOffset), 0x100)
    }

    func testCountedLoop() throws {
        // eax = 1 + 2 + ... + 10
        let (exit, state) = try run({ b in
            let counter = b.constant(10)
            b.move(into: self.guest.eax, constant: 0)
            let top = b.newLabel()
            b.setLabel(top)
            b.binary(.add, into: self.guest.eax, self.guest.eax, counter)
            b.binary(.sub, into: counter, counter, b.constant(1))
            b.branch(if: .ne, counter, b.constant(0), to: top)
            b.gotoBlock(slot: 1)
        })
        XCTAssertEqual(exit, BlockExit.gotoSlot | 1)
        XCTAssertEqual(state.u32(TestMachine.eax), 55)
    }

    func testFaultingLoadLeavesEarlierWritesAndTheInstruction() throws {
        let (exit, state) = try run({ b in
            b.instructionStart(0x200)
            b.move(into: self.guest.eax, constant: 0x1234)
            b.instructionStart(0x203)
            let value = b.loadGuest(b.constant(0x43), .u32, mmu: 0)  // faults: low bits 000011
            b.move(into: self.guest.ebx, value)
            b.exitBlock(0)
        })
        XCTAssertEqual(exit, BlockExit.fault)
        XCTAssertEqual(state.u32(TestMachine.eax), 0x1234)
        XCTAssertEqual(state.u32(TestMachine.ebx), 0)
        XCTAssertEqual(state.u32(TestMachine.faultOffset), 14)
        XCTAssertEqual(state.u64(TestMachine.instructionOffset), 0x203)
    }

    func testGuestMemoryRoundTripWithSignExtension() throws {
        let (exit, state) = try run({ b in
            let address = b.constant(0x80)
            b.storeGuest(address, b.constant(0xFFFF_FF85), .u8, mmu: 0)
            b.move(into: self.guest.eax, b.loadGuest(address, .s8, mmu: 0))
            let wide = b.loadGuest(address, .s8, mmu: 0, .i64)
            b.move(into: self.guest.rsi, wide, .i64)
            b.exitBlock(1)
        })
        XCTAssertEqual(exit, 1)
        XCTAssertEqual(state.u32(TestMachine.eax), 0xFFFF_FF85)
        XCTAssertEqual(state.u64(TestMachine.rsi), 0xFFFF_FFFF_FFFF_FF85)
    }

    func testHelpersGetTheirArgumentsAndSeeTheGlobals() throws {
        let (exit, state) = try run({ b in
            b.move(into: self.guest.eax, constant: 100)
            let pure = b.call(self.guest.helperPure, [b.constant(1), b.constant(2), b.constant(4)], result: .i32)
            b.move(into: self.guest.ebx, pure)
            // The state helper reads EAX from the state and writes ECX = EAX ^ argument.
            let result = b.call(self.guest.helperState, [b.constant(6)], result: .i32)
            b.move(into: self.guest.edx, result)
            b.binary(.add, into: self.guest.ccOp, self.guest.ecx, b.constant(1))
            b.exitBlock(2)
        })
        XCTAssertEqual(exit, 2)
        XCTAssertEqual(state.u32(TestMachine.ebx), (1 + 2 * 5) ^ 8)
        XCTAssertEqual(state.u32(TestMachine.edx), 106)
        XCTAssertEqual(state.u32(TestMachine.ecx), 100 ^ 6)
        XCTAssertEqual(state.u32(TestMachine.ccOp), (100 ^ 6) + 1)
    }

    func testFaultingHelperExitsWithGlobalsStored() throws {
        let (exit, state) = try run({ b in
            b.instructionStart(0x300)
            b.move(into: self.guest.ccDst, constant: 9)
            b.call(self.guest.helperNoState, [b.constant(0x30)])
            b.move(into: self.guest.ccDst, constant: 10)
            b.exitBlock(0)
        })
        XCTAssertEqual(exit, BlockExit.fault)
        XCTAssertEqual(state.u32(TestMachine.ccDst), 9)
        XCTAssertEqual(state.u64(TestMachine.instructionOffset), 0x300)
    }

    func testTooManyTempsIsRefused() throws {
        let (block, builder) = guest.newBlock()
        for _ in 0...TestMachine.scratchSlots { _ = builder.constant(1) }
        builder.exitBlock(0)
        XCTAssertThrowsError(try backend.compile(block))
    }

    func testAFullCacheIsFlushedWhole() throws {
        let backend = X64Backend(configuration: X64BackendConfiguration(TestMachine.configuration), cache: try CodeCache(capacity: 4096))
        var flushes = 0
        backend.willFlush = { flushes += 1 }
        var last: CompiledBlock?
        for index in 0..<200 {
            let (block, builder) = guest.newBlock()
            builder.move(into: guest.eax, constant: UInt64(index))
            builder.exitBlock(UInt64(index))
            last = try backend.compile(block)
        }
        XCTAssertGreaterThan(flushes, 0)
        XCTAssertEqual(backend.cache.generation, flushes)
        let state = TestState()
        XCTAssertEqual(backend.run(last!, state: state.base), 199)
        XCTAssertEqual(state.u32(TestMachine.eax), 199)
        XCTAssertTrue(backend.cache.contains(last!.entry))
    }
}
