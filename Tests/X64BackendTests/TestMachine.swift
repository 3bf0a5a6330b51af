import IR
@testable import X64Backend

/// A small guest for the backend tests, all inside one state block so the
/// C-callable load/store functions and helpers need no globals: registers
/// packed tightly (i32 fields side by side, so a too-wide access shows),
/// other state, the fault word, the instruction address, guest memory, and
/// the interpreter's scratch slots last.
enum TestMachine {
    static let eax = 0, ecx = 4, edx = 8, ebx = 12, rsi = 16, ccSrc = 24, ccDst = 28, ccOp = 32, rdi = 40
    /// State fields that are no global.
    static let otherState = [48, 56]
    static let faultOffset = 64
    static let instructionOffset = 72
    static let memoryOffset = 128
    static let memoryBytes = 4096
    static let scratchOffset = 8192
    static let scratchSlots = 512
    static let stateBytes = scratchOffset + 8 * scratchSlots
    /// The bytes compared between backends: everything but the scratch slots.
    static let observedBytes = scratchOffset

    /// A fault is injected at every address with low bits 00_0011.
    static func faults(_ address: UInt32) -> Bool { address & 0x3F == 3 }

    static let load: GuestLoadFunction = { state, address, access, _ in
        if TestMachine.faults(address) {
            (state + TestMachine.faultOffset).storeBytes(of: Int32(14), as: Int32.self)
            return 0
        }
        let pointer = state + TestMachine.memoryOffset + Int(address & 0xFFF)
        return MemoryAccess(rawValue: UInt8(access)).extend(pointer.loadUnaligned(as: UInt64.self))
    }

    static let store: GuestStoreFunction = { state, address, value, accessAndMMU in
        if TestMachine.faults(address) {
            (state + TestMachine.faultOffset).storeBytes(of: Int32(14), as: Int32.self)
            return
        }
        let pointer = state + TestMachine.memoryOffset + Int(address & 0xFFF)
        for index in 0..<MemoryAccess(rawValue: UInt8(accessAndMMU & 0xFF)).bytes {
            (pointer + index).storeBytes(of: UInt8(truncatingIfNeeded: value >> UInt64(8 * index)), as: UInt8.self)
        }
    }

    static var configuration: InterpreterConfiguration {
        InterpreterConfiguration(scratchOffset: scratchOffset, scratchSlots: scratchSlots, faultOffset: faultOffset,
                                 currentInstructionOffset: instructionOffset, load: load, store: store)
    }
}

/// The guest's globals and helpers, as a translator would declare them.
final class TestGuest {
    let globals: GlobalSet
    let helpers = HelperTable()
    let eax, ecx, edx, ebx, rsi, ccSrc, ccDst, ccOp, rdi: Temp
    /// Reads EAX, writes ECX, faults when its argument's low six bits are 3F.
    let helperState: UInt32
    /// Faults when its argument's low six bits are 30; no state.
    let helperNoState: UInt32
    /// Three arguments, no effects.
    let helperPure: UInt32
    /// Writes EDX, never faults.
    let helperNoFault: UInt32

    init() {
        var set = GlobalSet()
        eax = set.declare("eax", .i32, offset: TestMachine.eax)
        ecx = set.declare("ecx", .i32, offset: TestMachine.ecx)
        edx = set.declare("edx", .i32, offset: TestMachine.edx)
        ebx = set.declare("ebx", .i32, offset: TestMachine.ebx)
        rsi = set.declare("rsi", .i64, offset: TestMachine.rsi)
        ccSrc = set.declare("cc_src", .i32, offset: TestMachine.ccSrc)
        ccDst = set.declare("cc_dst", .i32, offset: TestMachine.ccDst)
        ccOp = set.declare("cc_op", .i32, offset: TestMachine.ccOp)
        rdi = set.declare("rdi", .i64, offset: TestMachine.rdi)
        globals = set
        helperState = helpers.register(Helper("state", [], { state, a, _, _ in
            if a & 0x3F == 0x3F {
                (state + TestMachine.faultOffset).storeBytes(of: Int32(13), as: Int32.self)
                return 0
            }
            let eax = UInt64((state + TestMachine.eax).load(as: UInt32.self))
            (state + TestMachine.ecx).storeBytes(of: UInt32(truncatingIfNeeded: eax ^ a), as: UInt32.self)
            return a &+ eax
        }))
        helperNoState = helpers.register(Helper("nostate", [.noState], { state, a, _, _ in
            if a & 0x3F == 0x30 {
                (state + TestMachine.faultOffset).storeBytes(of: Int32(6), as: Int32.self)
                return 0
            }
            return a &* 3
        }))
        helperPure = helpers.register(Helper("pure", .pure, { _, a, b, c in a &+ b &* 5 ^ c << 1 }))
        helperNoFault = helpers.register(Helper("nofault", [.noFault], { state, a, _, _ in
            let old = (state + TestMachine.edx).load(as: UInt32.self)
            (state + TestMachine.edx).storeBytes(of: UInt32(truncatingIfNeeded: a), as: UInt32.self)
            return UInt64(old) &+ 1
        }))
    }

    var globals32: [Temp] { [eax, ecx, edx, ebx, ccSrc, ccDst, ccOp] }
    var globals64: [Temp] { [rsi, rdi] }

    func newBlock() -> (IRBlock, IRBuilder) {
        let block = IRBlock(globals: globals, helpers: helpers)
        return (block, IRBuilder(block))
    }
}

/// A state block for one run.
final class TestState {
    let base: UnsafeMutableRawPointer

    init() {
        base = .allocate(byteCount: TestMachine.stateBytes, alignment: 64)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: TestMachine.stateBytes)
    }

    deinit { base.deallocate() }

    func copy(from other: TestState) {
        base.copyMemory(from: other.base, byteCount: TestMachine.stateBytes)
    }

    var observed: [UInt8] { Array(UnsafeRawBufferPointer(start: base, count: TestMachine.observedBytes)) }

    func u32(_ offset: Int) -> UInt32 { (base + offset).loadUnaligned(as: UInt32.self) }
    func u64(_ offset: Int) -> UInt64 { (base + offset).loadUnaligned(as: UInt64.self) }
    func set32(_ offset: Int, _ value: UInt32) { (base + offset).storeBytes(of: value, toByteOffset: 0, as: UInt32.self) }
    func set64(_ offset: Int, _ value: UInt64) { (base + offset).storeBytes(of: value, toByteOffset: 0, as: UInt64.self) }
}
