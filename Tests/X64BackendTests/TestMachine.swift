import IR
@testable import X64Backend

/// A small guest for the backend tests, all inside one state block so the
/// C-callable load/store functions and helpers need no globals: registers
/// packed tightly (i32 fields side by side, so a too-wide access shows),
/// other state, the fault word, the instruction address, guest memory, the
/// interpreter's scratch slots, and a software TLB last.
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
    static let stateBytes = tlbOffset + tlbBytes
    /// The bytes compared between backends: everything but the scratch slots.
    static let observedBytes = scratchOffset

    /// A fault is injected at every address with low bits 00_0011.
    static func faults(_ address: UInt64) -> Bool { address & 0x3F == 3 }

    /// A software TLB, as `TLBLayout` describes it: `tlbMMUs` tables of
    /// `tlbEntries` 32-byte entries (64-bit read tag, write tag, addend), inside
    /// the scratch slots, outside the observed bytes (addends are host
    /// addresses, different for each state). On a hit the load/store functions below access
    /// `address + addend` and never fault, as the JIT's inline path does;
    /// on a miss they do what they did without a TLB. Every linear page maps
    /// to the one 4 KiB of memory, so a valid entry's addend is
    /// `state + memoryOffset - page`.
    static let tlbOffset = scratchOffset + 8 * scratchSlots
    static let tlbEntries = 16
    static let tlbMMUs = 2
    static let tlbEntryBytes = 32
    static let tlbBytes = tlbMMUs * tlbEntries * tlbEntryBytes
    static let tlbLayout = TLBLayout(offset: tlbOffset, entryBytes: tlbEntryBytes, entriesPerMMU: tlbEntries, pageBits: 12,
                                     readTagOffset: 0, writeTagOffset: 8, addendOffset: 16)

    /// Hits the load/store functions saw: with the JIT's inline path, none should reach them.
    nonisolated(unsafe) static var functionHits = 0

    /// The entry's host address for `address` when its read (or write) tag
    /// matches and the access stays in the page.
    static func tlbHit(_ state: UnsafeMutableRawPointer, _ address: UInt64, bytes: Int, mmu: UInt32, write: Bool) -> UnsafeMutableRawPointer? {
        let entry = state + tlbOffset + (Int(mmu) * tlbEntries + Int((address >> 12) & UInt64(tlbEntries - 1))) * tlbEntryBytes
        let tag = (entry + (write ? 8 : 0)).load(as: UInt64.self)
        guard tag == address & ~0xFFF, Int(address & 0xFFF) <= 4096 - bytes else { return nil }
        functionHits += 1
        return UnsafeMutableRawPointer(bitPattern: Int(address) &+ (entry + 16).load(as: Int.self))
    }

    static let load: GuestLoadFunction = { state, address, access, mmu in
        let kind = MemoryAccess(rawValue: UInt8(access))
        if let host = TestMachine.tlbHit(state, address, bytes: kind.bytes, mmu: mmu, write: false) {
            var raw: UInt64 = 0
            for index in 0..<kind.bytes { raw |= UInt64((host + index).load(as: UInt8.self)) << UInt64(8 * index) }
            return kind.extend(raw)
        }
        if TestMachine.faults(address) {
            (state + TestMachine.faultOffset).storeBytes(of: Int32(14), as: Int32.self)
            return 0
        }
        let pointer = state + TestMachine.memoryOffset + Int(address & 0xFFF)
        return kind.extend(pointer.loadUnaligned(as: UInt64.self))
    }

    static let store: GuestStoreFunction = { state, address, value, access, mmu in
        let bytes = MemoryAccess(rawValue: UInt8(access)).bytes
        let pointer: UnsafeMutableRawPointer
        if let host = TestMachine.tlbHit(state, address, bytes: bytes, mmu: mmu, write: true) {
            pointer = host
        } else if TestMachine.faults(address) {
            (state + TestMachine.faultOffset).storeBytes(of: Int32(14), as: Int32.self)
            return
        } else {
            pointer = state + TestMachine.memoryOffset + Int(address & 0xFFF)
        }
        for index in 0..<bytes {
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
        for entry in 0..<TestMachine.tlbMMUs * TestMachine.tlbEntries { setTLB(entry, read: 1, write: 1, addend: 0) }
    }

    /// Entry `index` counting across the MMUs' tables.
    func setTLB(_ index: Int, read: UInt64, write: UInt64, addend: Int) {
        let entry = base + TestMachine.tlbOffset + index * TestMachine.tlbEntryBytes
        entry.storeBytes(of: read, as: UInt64.self)
        (entry + 8).storeBytes(of: write, as: UInt64.self)
        (entry + 16).storeBytes(of: addend, as: Int.self)
    }

    deinit { base.deallocate() }

    func copy(from other: TestState) {
        base.copyMemory(from: other.base, byteCount: TestMachine.stateBytes)
        // Addends point into the state they were made for: move them to this one.
        for index in 0..<TestMachine.tlbMMUs * TestMachine.tlbEntries {
            let addend = base + TestMachine.tlbOffset + index * TestMachine.tlbEntryBytes + 8
            addend.storeBytes(of: addend.load(as: Int.self) &+ (base - other.base), as: Int.self)
        }
    }

    var observed: [UInt8] { Array(UnsafeRawBufferPointer(start: base, count: TestMachine.observedBytes)) }

    func u32(_ offset: Int) -> UInt32 { (base + offset).loadUnaligned(as: UInt32.self) }
    func u64(_ offset: Int) -> UInt64 { (base + offset).loadUnaligned(as: UInt64.self) }
    func set32(_ offset: Int, _ value: UInt32) { (base + offset).storeBytes(of: value, toByteOffset: 0, as: UInt32.self) }
    func set64(_ offset: Int, _ value: UInt64) { (base + offset).storeBytes(of: value, toByteOffset: 0, as: UInt64.self) }
}
