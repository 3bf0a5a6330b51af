import IR

/// Where a CPU keeps its software TLB, for the inline hit path generated
/// code will take before calling the load/store functions. Passed in rather
/// than imported: the backend knows the IR, not the guest's state layout.
/// Sizes and counts must be powers of two; tags are 64-bit linear page
/// addresses (an address register holds its address zero-extended), the
/// addend a signed 64-bit host offset.
public struct TLBLayout: Sendable {
    /// Offset of MMU index 0's first entry from the state pointer.
    public var offset: Int
    public var entryBytes: Int
    public var entriesPerMMU: Int
    public var pageBits: Int
    /// Within an entry.
    public var readTagOffset: Int
    public var writeTagOffset: Int
    public var addendOffset: Int

    public init(offset: Int, entryBytes: Int, entriesPerMMU: Int, pageBits: Int,
                readTagOffset: Int, writeTagOffset: Int, addendOffset: Int) {
        self.offset = offset
        self.entryBytes = entryBytes
        self.entriesPerMMU = entriesPerMMU
        self.pageBits = pageBits
        self.readTagOffset = readTagOffset
        self.writeTagOffset = writeTagOffset
        self.addendOffset = addendOffset
    }
}

/// Where the CPU keeps what chained blocks check on entry, so control can
/// pass from block to block without returning to the run loop: an Int64
/// instruction budget each block charges its instruction count to, leaving
/// when it goes negative. An exit request pushes the budget far below zero
/// (`exitBias`), so one check serves both.
public struct ChainingLayout: Sendable {
    public var budgetOffset: Int
    /// What an exit request subtracts from the budget; a budget below
    /// -exitBias/2 carries it (a block charges at most a few hundred).
    public static let exitBias: Int64 = 1 << 40

    public init(budgetOffset: Int) {
        self.budgetOffset = budgetOffset
    }
}

/// Where the CPU keeps a guest FPU that `hostX87` ops run on the host's x87:
/// a residence byte (`host` while the host FPU holds the guest's state) and
/// a 16-byte aligned 108-byte FNSAVE image. Every exit from generated code
/// saves a resident FPU to the image and marks it `image`, so host code
/// outside generated code never finds the guest's state in the host FPU.
public struct HostX87Layout: Sendable {
    public var residenceOffset: Int
    public var imageOffset: Int
    public var host: UInt8
    public var image: UInt8

    public init(residenceOffset: Int, imageOffset: Int, host: UInt8, image: UInt8) {
        self.residenceOffset = residenceOffset
        self.imageOffset = imageOffset
        self.host = host
        self.image = image
    }
}

/// The function a block leaving with exit code 0 (EIP and state stored: an
/// indirect jump, a jump to another page, a mode change) calls to find the
/// next block: it returns the address to jump to (a compiled block's body),
/// or 0 to return to the run loop, which then looks further.
public typealias NextBlockLookup = @convention(c) (UnsafeMutableRawPointer) -> UInt64

/// The CPU's jump cache as generated code probes it on exit code 0 before
/// calling `NextBlockLookup`: a table at a fixed host address whose first
/// 32-bit word (the bypass word) is nonzero while the lookup must be asked
/// (just `bypassUnlessInterruptsOff`: only while the guest's EFLAGS has
/// `interruptFlag` set),
/// then `entryCount` entries of `entryBytes` from `entriesOffset`, each with
/// the key (a 64-bit linear PC, then CS base and mode flags of 32 bits), a
/// 32-bit generation and the 64-bit body address of the block to enter. An entry
/// counts only when its generation equals the header's 32-bit word number
/// (generation & 1) from `generationsOffset`. Where the probe finds the key in the
/// state (EIP, CS base, mode flags, the pending-exception word) and which
/// mode bits forbid entering another block directly (`unchainableFlags`)
/// come with it.
public struct JumpCacheLayout: Sendable {
    public var address: UInt64
    public var entriesOffset: Int
    /// Sets of `ways` adjacent entries: a linear PC's set is `slot(_:entryCount:)`.
    public var entryCount: Int
    public static let ways = 2
    public var entryBytes: Int
    public var linearPCOffset: Int
    public var codeSegmentBaseOffset: Int
    public var flagsOffset: Int
    public var generationOffset: Int
    public var generationsOffset: Int
    public var bodyOffset: Int
    /// In the state.
    public var eipOffset = 0
    public var codeSegmentBaseStateOffset = 0
    public var flagsStateOffset = 0
    public var pendingExceptionOffset = 0
    public var unchainableFlags: UInt32 = 0
    public var eflagsOffset = 0
    public var interruptFlag: UInt32 = 0
    public static let bypassUnlessInterruptsOff: UInt32 = 1

    public init(address: UInt64, entriesOffset: Int, entryCount: Int, entryBytes: Int, linearPCOffset: Int,
                codeSegmentBaseOffset: Int, flagsOffset: Int, generationOffset: Int, generationsOffset: Int,
                bodyOffset: Int) {
        self.generationOffset = generationOffset
        self.generationsOffset = generationsOffset
        self.address = address
        self.entriesOffset = entriesOffset
        self.entryCount = entryCount
        self.entryBytes = entryBytes
        self.linearPCOffset = linearPCOffset
        self.codeSegmentBaseOffset = codeSegmentBaseOffset
        self.flagsOffset = flagsOffset
        self.bodyOffset = bodyOffset
    }

    /// The set of a linear PC: its page number folded onto its low bits.
    @inline(__always)
    public static func slot(_ linearPC: UInt64, entryCount: Int) -> Int {
        Int(truncatingIfNeeded: linearPC ^ (linearPC >> 12)) & (entryCount - 1)
    }
}

/// What the backend needs of the CPU it compiles for: the interpreter's
/// configuration (scratch slots, fault word, current-instruction field,
/// guest load/store functions), and optionally the TLB layout and the
/// fields block chaining needs.
public struct X64BackendConfiguration {
    public var base: InterpreterConfiguration
    public var tlb: TLBLayout?
    public var chaining: ChainingLayout?
    public var hostX87: HostX87Layout?
    /// Where `hostSIMD` ops find the XMM registers and their fields.
    public var hostSIMD: HostSIMDLayout?
    /// Only with `chaining`, whose entry checks the block jumped to makes.
    public var nextBlockLookup: NextBlockLookup?
    /// Only with `nextBlockLookup`: probed inline before calling it.
    public var jumpCache: JumpCacheLayout?

    public init(_ base: InterpreterConfiguration, tlb: TLBLayout? = nil, chaining: ChainingLayout? = nil,
                hostX87: HostX87Layout? = nil, nextBlockLookup: NextBlockLookup? = nil, jumpCache: JumpCacheLayout? = nil) {
        self.jumpCache = jumpCache
        self.base = base
        self.tlb = tlb
        self.chaining = chaining
        self.hostX87 = hostX87
        self.nextBlockLookup = nextBlockLookup
    }
}
