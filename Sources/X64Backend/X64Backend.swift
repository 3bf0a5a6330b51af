import IR

/// The signature of every compiled block: state pointer in, exit code out.
public typealias CompiledBlockFunction = @convention(c) (UnsafeMutableRawPointer) -> UInt64

/// One block's host code in the code cache. Valid until the cache is
/// flushed (`generation` then differs from the cache's).
public struct CompiledBlock {
    public let entry: UnsafeRawPointer
    public let size: Int
    public let generation: Int
    let function: CompiledBlockFunction
    /// Where a chained jump enters (after the prologue).
    public let body: UnsafeRawPointer
    /// Offsets of the chaining slots' rel32 fields from `entry`, -1 for none.
    let chainSites: (Int32, Int32)

    /// Whether the block leaves through chaining slot `slot` (0 or 1).
    public func hasChainSite(_ slot: Int) -> Bool { (slot == 0 ? chainSites.0 : chainSites.1) >= 0 }

    /// Runs the block on the state at `state`; returns a `BlockExit` code
    /// exactly as `IRInterpreter.run` would.
    @inline(__always)
    public func run(_ state: UnsafeMutableRawPointer) -> UInt64 { function(state) }
}

/// What the runtime knows of a block when it is compiled and needs back to
/// decide whether a jump out of it may be chained (for x86: the block's key).
public struct ChainTag: Sendable, Equatable {
    public var linearPC: UInt64 = 0
    public var codeSegmentBase: UInt32 = 0
    public var flags: UInt32 = 0

    public init(linearPC: UInt64 = 0, codeSegmentBase: UInt32 = 0, flags: UInt32 = 0) {
        self.linearPC = linearPC
        self.codeSegmentBase = codeSegmentBase
        self.flags = flags
    }
}

/// Data after a block's code that has chaining slots: its `ChainTag`, then
/// per slot the distance from the record to the slot's rel32 field. A slot's
/// unchained exit code carries the record's offset in the code cache (above
/// `BlockExit.fault`), so the runtime can patch the jump of whichever block
/// left, even one that was entered through a chained jump.
public enum ChainRecord {
    static let noSite = Int32.min
    static let offsetShift: UInt64 = 34
    /// The tag: linear PC (8 bytes), CS base, flags (4 each).
    static let tagBytes = 16
}

/// The x86-64 JIT: compiles IR blocks into a code cache and runs them, with
/// the interpreter's contract (same exit codes, same state at exits and faults).
public final class X64Backend {
    public let configuration: X64BackendConfiguration
    public let cache: CodeCache
    /// Called before a full cache is flushed: drop every `CompiledBlock` made so far.
    public var willFlush: (() -> Void)?

    /// Kept from block to block: its tables and code buffer are reused.
    private var generator: X64CodeGenerator?

    public init(configuration: X64BackendConfiguration, cache: CodeCache) {
        self.configuration = configuration
        self.cache = cache
    }

    /// The host code for `block`, not yet installed (for tests and disassembly).
    public func generateCode(_ block: IRBlock) throws -> [UInt8] {
        try X64CodeGenerator(block, configuration: configuration).generate()
    }

    /// The generator, ready for `block`. The first call also installs the
    /// shared exits at the start of the cache, where flushes leave them.
    private func generator(for block: IRBlock) throws -> X64CodeGenerator {
        if let generator {
            try generator.prepare(block)
            return generator
        }
        let made = try X64CodeGenerator(block, configuration: configuration)
        let offsets = made.emitSharedExits()
        guard let start = cache.installShared(made.assembler.emitted) else {
            throw X64BackendError.cacheTooSmall(made.assembler.position)
        }
        let base = cache.offset(of: start)
        made.sharedExits = X64CodeGenerator.SharedExits(epilogue: base + offsets.epilogue,
                                                        lookup: offsets.lookup.map { base + $0 },
                                                        loadCall: base + offsets.loadCall, storeCall: base + offsets.storeCall)
        try made.prepare(block)
        generator = made
        return made
    }

    /// Compiles `block` into the cache, flushing it first when it is full.
    /// The code goes from the generator's buffer straight into the cache.
    public func compile(_ block: IRBlock, chainTag: ChainTag = ChainTag()) throws -> CompiledBlock {
        let generator = try generator(for: block)
        defer { generator.release() }
        generator.chainTag = chainTag
        try generator.emit()
        let code = generator.assembler.emitted
        var entry = cache.install(code)
        if entry == nil {
            willFlush?()
            cache.flush()
            entry = cache.install(code)
        }
        guard let entry else { throw X64BackendError.cacheTooSmall(code.count) }
        for jump in generator.sharedJumps {
            cache.patchRelative32(at: entry + jump.site, target: cache.executableAddress(jump.target))
        }
        if generator.chainRecordOffset >= 0 {
            let record = UInt64(cache.offset(of: entry) + generator.chainRecordOffset)
            for stub in generator.stubExitCodes {
                cache.patch64(at: entry + stub.offset, BlockExit.gotoSlot | stub.slot | record << ChainRecord.offsetShift)
            }
        }
        return CompiledBlock(entry: entry, size: code.count, generation: cache.generation,
                             function: unsafeBitCast(entry, to: CompiledBlockFunction.self),
                             body: entry + generator.bodyOffset,
                             chainSites: (Int32(generator.chainSites.0), Int32(generator.chainSites.1)))
    }

    /// Patches `source`'s jump for `slot` to go straight to `target`'s body.
    /// Both must come from this cache's current generation; the runtime makes
    /// sure a chained target stays valid as long as the source can run.
    public func chain(_ source: CompiledBlock, slot: Int, to target: CompiledBlock) {
        let site = Int(slot == 0 ? source.chainSites.0 : source.chainSites.1)
        guard site >= 0, source.generation == cache.generation, target.generation == cache.generation else { return }
        cache.patchRelative32(at: source.entry + site, target: target.body)
    }

    /// The tag of the block that left with `exit` through an unchained slot,
    /// and the slot. Only while the code cache has not been flushed since.
    public func chainSource(of exit: UInt64) -> (tag: ChainTag, slot: Int)? {
        let offset = Int(exit >> ChainRecord.offsetShift)
        guard exit & BlockExit.gotoSlot != 0, offset != 0, offset + ChainRecord.tagBytes + 8 <= cache.used else { return nil }
        let record = cache.executableAddress(offset)
        let tag = ChainTag(linearPC: record.loadUnaligned(as: UInt64.self), codeSegmentBase: record.load(fromByteOffset: 8, as: UInt32.self),
                           flags: record.load(fromByteOffset: 12, as: UInt32.self))
        return (tag, Int(exit & 1))
    }

    /// Patches the jump of the slot that left with `exit` to go straight to
    /// `target`'s body. `target` must come from the cache's current
    /// generation, and the cache must not have been flushed since `exit`.
    public func chain(exit: UInt64, to target: CompiledBlock) {
        let offset = Int(exit >> ChainRecord.offsetShift)
        guard exit & BlockExit.gotoSlot != 0, offset != 0, target.generation == cache.generation else { return }
        let record = cache.executableAddress(offset)
        let site = record.load(fromByteOffset: ChainRecord.tagBytes + 4 * Int(exit & 1), as: Int32.self)
        guard site != ChainRecord.noSite else { return }
        cache.patchRelative32(at: record + Int(site), target: target.body)
    }

    @inline(__always)
    public func run(_ block: CompiledBlock, state: UnsafeMutableRawPointer) -> UInt64 {
        assert(block.generation == cache.generation, "running a block from a flushed cache")
        return block.run(state)
    }
}
