/// A guest memory load through the software MMU: (state, linear address,
/// MemoryAccess raw value, MMU index) -> value. The address is 64 bits (a
/// 32-bit mode's zero-extended). A fault is recorded in the state and seen
/// through `faultOffset`.
public typealias GuestLoadFunction = @convention(c) (UnsafeMutableRawPointer, UInt64, UInt32, UInt32) -> UInt64
/// A guest memory store: (state, linear address, value, MemoryAccess raw value, MMU index).
public typealias GuestStoreFunction = @convention(c) (UnsafeMutableRawPointer, UInt64, UInt64, UInt32, UInt32) -> Void

/// What the interpreter needs to know of the CPU it runs for: where temps
/// live, where faults and the current instruction are recorded, and how to
/// reach guest memory. The IR itself knows no guest architecture.
public struct InterpreterConfiguration {
    /// Byte offset of the scratch slots (8 bytes per block-local temp) from the state pointer.
    public var scratchOffset: Int
    public var scratchSlots: Int
    /// Offset of an Int32 that is >= 0 when a guest exception is pending.
    public var faultOffset: Int
    /// Offset of a UInt64 that insn_start sets to the guest instruction's address.
    public var currentInstructionOffset: Int
    public var load: GuestLoadFunction
    public var store: GuestStoreFunction
    /// The code that runs a `hostSIMD` op's constant on the state pointer
    /// (the same host instruction the JIT emits inline), looked up once per
    /// op when a block is resolved; nil: blocks with such ops are refused.
    public var hostSIMD: ((UInt64) -> HelperFunction)?

    public init(scratchOffset: Int, scratchSlots: Int, faultOffset: Int, currentInstructionOffset: Int,
                load: @escaping GuestLoadFunction, store: @escaping GuestStoreFunction,
                hostSIMD: ((UInt64) -> HelperFunction)? = nil) {
        self.hostSIMD = hostSIMD
        self.scratchOffset = scratchOffset
        self.scratchSlots = scratchSlots
        self.faultOffset = faultOffset
        self.currentInstructionOffset = currentInstructionOffset
        self.load = load
        self.store = store
    }
}

/// How a block run ended.
public enum BlockExit {
    /// exit_tb with this code.
    public static let codeMask: UInt64 = 0xFFFF_FFFF
    /// goto_tb through slot `value & 1`.
    public static let gotoSlot: UInt64 = 1 << 32
    /// A guest exception is pending in the state.
    public static let fault: UInt64 = 1 << 33
}
