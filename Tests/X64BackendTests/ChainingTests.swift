import XCTest
import IR
@testable import X64Backend

/// Block chaining and the inline jump-cache probe: which block a chaining
/// exit names, patching it, and when the probe enters a block directly.
final class ChainingTests: XCTestCase {
    private let guest = TestGuest()
    private var backend: X64Backend!
    private var table: UnsafeMutableRawPointer!

    // Fields of the test state the chaining and the probe use (free bytes between the instruction address and memory).
    static let budget = 88, eip = 96, codeBase = 100, flags = 104, pendingException = 108, eflags = 112
    static let entries = 16, entryBytes = 32, headerBytes = 64
    static let unchainable: UInt32 = 0x100, interruptFlag: UInt32 = 0x200
    nonisolated(unsafe) static var lookups = 0

    override func setUpWithError() throws {
        let bytes = Self.headerBytes + Self.entries * JumpCacheLayout.ways * Self.entryBytes
        table = .allocate(byteCount: bytes, alignment: 64)
        table.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        var probe = JumpCacheLayout(address: UInt64(UInt(bitPattern: table)), entriesOffset: Self.headerBytes,
                                    entryCount: Self.entries, entryBytes: Self.entryBytes, linearPCOffset: 0,
                                    codeSegmentBaseOffset: 4, flagsOffset: 8, generationOffset: 12,
                                    generationsOffset: 4, bodyOffset: 16)
        probe.eipOffset = Self.eip
        probe.codeSegmentBaseStateOffset = Self.codeBase
        probe.flagsStateOffset = Self.flags
        probe.pendingExceptionOffset = Self.pendingException
        probe.unchainableFlags = Self.unchainable
        probe.eflagsOffset = Self.eflags
        probe.interruptFlag = Self.interruptFlag
        // Generations: 2 for entries of the even kind, 3 for the odd.
        (table + 4).storeBytes(of: UInt32(2), as: UInt32.self)
        (table + 8).storeBytes(of: UInt32(3), as: UInt32.self)
        Self.lookups = 0
        let configuration = X64BackendConfiguration(
            TestMachine.configuration, chaining: ChainingLayout(budgetOffset: Self.budget),
            nextBlockLookup: { _ in ChainingTests.lookups += 1; return 0 }, jumpCache: probe)
        backend = X64Backend(configuration: configuration, cache: try CodeCache(capacity: 1 << 20))
    }

    override func tearDown() { table.deallocate() }

    private func compile(tag: ChainTag = ChainTag(), _ build: (IRBuilder) -> Void) throws -> CompiledBlock {
        let (block, builder) = guest.newBlock()
        build(builder)
        XCTAssertEqual(IRValidator.validate(block), [])
        return try backend.compile(block, chainTag: tag)
    }

    private func newState() -> TestState {
        let state = TestState()
        state.set32(TestMachine.faultOffset, UInt32(bitPattern: -1))
        state.set32(Self.pendingException, UInt32(bitPattern: -1))
        state.set64(Self.budget, 1000)
        return state
    }

    private func increment(_ b: IRBuilder, _ temp: Temp, by value: UInt64) {
        b.instructionStart(0x100)
        b.binary(.add, into: temp, temp, b.constant(value))
    }

    func testAnUnchainedExitNamesTheBlockThatLeftEvenAfterAChainedJump() throws {
        let first = try compile(tag: ChainTag(linearPC: 0x1000, codeSegmentBase: 0, flags: 5)) { b in
            increment(b, guest.eax, by: 1)
            b.gotoBlock(slot: 1)
        }
        let second = try compile(tag: ChainTag(linearPC: 0x1040, codeSegmentBase: 0, flags: 5)) { b in
            increment(b, guest.ecx, by: 1)
            b.gotoBlock(slot: 0)
        }
        let last = try compile { b in
            increment(b, guest.edx, by: 1)
            b.exitBlock(7)
        }
        let state = newState()
        let exit = backend.run(first, state: state.base)
        XCTAssertEqual(exit & BlockExit.codeMask, 1)
        XCTAssertNotEqual(exit & BlockExit.gotoSlot, 0)
        XCTAssertEqual(backend.chainSource(of: exit)?.tag, ChainTag(linearPC: 0x1000, codeSegmentBase: 0, flags: 5))
        XCTAssertEqual(backend.chainSource(of: exit)?.slot, 1)
        backend.chain(exit: exit, to: second)
        // Now the second block leaves, through its own slot 0: the exit names it.
        let secondExit = backend.run(first, state: state.base)
        XCTAssertEqual(backend.chainSource(of: secondExit)?.tag, ChainTag(linearPC: 0x1040, codeSegmentBase: 0, flags: 5))
        XCTAssertEqual(backend.chainSource(of: secondExit)?.slot, 0)
        backend.chain(exit: secondExit, to: last)
        XCTAssertEqual(backend.run(first, state: state.base), 7)
        XCTAssertEqual(state.u32(TestMachine.eax), 3)
        XCTAssertEqual(state.u32(TestMachine.ecx), 2)
        XCTAssertEqual(state.u32(TestMachine.edx), 1)
        // Each block charged its one instruction to the budget.
        XCTAssertEqual(state.u64(Self.budget), 1000 - 6)
    }

    /// An entry for linear PC `pc` (CS base 0) leading to `target`, in way `way` of its set.
    private func setEntry(pc: UInt32, flags: UInt32, generation: UInt32, target: CompiledBlock, way: Int = 0) {
        let set = Int((pc ^ (pc >> 12)) & UInt32(Self.entries - 1))
        let entry = table + Self.headerBytes + (set * JumpCacheLayout.ways + way) * Self.entryBytes
        entry.storeBytes(of: pc, as: UInt32.self)
        (entry + 4).storeBytes(of: UInt32(0), as: UInt32.self)
        (entry + 8).storeBytes(of: flags, as: UInt32.self)
        (entry + 12).storeBytes(of: generation, as: UInt32.self)
        (entry + 16).storeBytes(of: UInt64(UInt(bitPattern: target.body)), as: UInt64.self)
    }

    func testProbeEntersTheCachedBlockOnlyWhenEverythingMatches() throws {
        let leaving = try compile { b in
            increment(b, guest.eax, by: 1)
            b.exitBlock(0)
        }
        let target = try compile { b in
            increment(b, guest.ecx, by: 1)
            b.exitBlock(7)
        }
        let pc: UInt32 = 0x0804_8123
        setEntry(pc: pc, flags: 0x44, generation: 2, target: target)
        func run(flags: UInt32 = 0x44, eflags: UInt32 = 0, bypass: UInt32 = 0, pendingException: Int32 = -1) -> UInt64 {
            let state = newState()
            state.set32(Self.eip, pc)
            state.set32(Self.flags, flags)
            state.set32(Self.eflags, eflags)
            state.set32(Self.pendingException, UInt32(bitPattern: pendingException))
            table.storeBytes(of: bypass, as: UInt32.self)
            return backend.run(leaving, state: state.base)
        }
        XCTAssertEqual(run(), 7)
        XCTAssertEqual(Self.lookups, 0)
        // Other mode flags, an unchainable mode, a pending exception: the runtime is asked.
        XCTAssertEqual(run(flags: 0x45), 0)
        XCTAssertEqual(run(flags: 0x44 | Self.unchainable), 0)
        XCTAssertEqual(run(pendingException: 14), 0)
        XCTAssertEqual(Self.lookups, 3)
        // A raised interrupt line matters only with IF set; other bypass values always.
        XCTAssertEqual(run(bypass: JumpCacheLayout.bypassUnlessInterruptsOff), 7)
        XCTAssertEqual(run(eflags: Self.interruptFlag, bypass: JumpCacheLayout.bypassUnlessInterruptsOff), 0)
        XCTAssertEqual(run(bypass: 2), 0)
        XCTAssertEqual(Self.lookups, 5)
        // An entry of an older generation, of either kind, is not entered.
        (table + 4).storeBytes(of: UInt32(4), as: UInt32.self)
        XCTAssertEqual(run(), 0)
        setEntry(pc: pc, flags: 0x44, generation: 3, target: target)
        XCTAssertEqual(run(), 7)
        (table + 8).storeBytes(of: UInt32(5), as: UInt32.self)
        XCTAssertEqual(run(), 0)
        XCTAssertEqual(Self.lookups, 7)
    }

    func testProbeFindsTheSecondWayOfTheSet() throws {
        let leaving = try compile { b in
            b.exitBlock(0)
        }
        let first = try compile { b in
            increment(b, guest.ecx, by: 1)
            b.exitBlock(5)
        }
        let second = try compile { b in
            increment(b, guest.ecx, by: 1)
            b.exitBlock(6)
        }
        // Two PCs of one set (16 sets: they differ by 16 pages plus 16 bytes,
        // which the fold of page onto offset cancels).
        let pc: UInt32 = 0x0804_8123, other: UInt32 = 0x0805_8133
        XCTAssertEqual((pc ^ (pc >> 12)) & 15, (other ^ (other >> 12)) & 15)
        setEntry(pc: other, flags: 0x44, generation: 2, target: first, way: 0)
        setEntry(pc: pc, flags: 0x44, generation: 2, target: second, way: 1)
        func run(_ eip: UInt32) -> UInt64 {
            let state = newState()
            state.set32(Self.eip, eip)
            state.set32(Self.flags, 0x44)
            state.set32(Self.pendingException, UInt32(bitPattern: -1))
            table.storeBytes(of: UInt32(0), as: UInt32.self)
            return backend.run(leaving, state: state.base)
        }
        let lookups = Self.lookups
        XCTAssertEqual(run(other), 5)
        XCTAssertEqual(run(pc), 6)
        XCTAssertEqual(Self.lookups, lookups)
        // A PC of the set in neither way: the runtime is asked.
        XCTAssertEqual(run(0x0806_8143), 0)
        XCTAssertEqual(Self.lookups, lookups + 1)
    }
}
