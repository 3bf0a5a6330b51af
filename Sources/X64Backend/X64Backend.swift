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

/// The x86-64 JIT: compiles IR blocks into a code cache and runs them, with
/// the interpreter's contract (same exit codes, same state at exits and faults).
public final class X64Backend {
    public let configuration: X64BackendConfiguration
    public let cache: CodeCache
    /// Called before a full cache is flushed: drop every `CompiledBlock` made so far.
    public var willFlush: (() -> Void)?

    public init(configuration: X64BackendConfiguration, cache: CodeCache) {
        self.configuration = configuration
        self.cache = cache
    }

    /// The host code for `block`, not yet installed (for tests and disassembly).
    public func generateCode(_ block: IRBlock) throws -> [UInt8] {
        try X64CodeGenerator(block, configuration: configuration).generate()
    }

    /// Compiles `block` into the cache, flushing it first when it is full.
    public func compile(_ block: IRBlock) throws -> CompiledBlock {
        let generator = try X64CodeGenerator(block, configuration: configuration)
        let code = try generator.generate()
        var entry = cache.install(code)
        if entry == nil {
            willFlush?()
            cache.flush()
            entry = cache.install(code)
        }
        guard let entry else { throw X64BackendError.cacheTooSmall(code.count) }
        return CompiledBlock(entry: entry, size: code.count, generation: cache.generation,
                             function: unsafeBitCast(entry, to: CompiledBlockFunction.self),
                             body: entry + generator.bodyOffset,
                             chainSites: (Int32(generator.chainSites[0]), Int32(generator.chainSites[1])))
    }

    /// Patches `source`'s jump for `slot` to go straight to `target`'s body.
    /// Both must come from this cache's current generation; the runtime makes
    /// sure a chained target stays valid as long as the source can run.
    public func chain(_ source: CompiledBlock, slot: Int, to target: CompiledBlock) {
        let site = Int(slot == 0 ? source.chainSites.0 : source.chainSites.1)
        guard site >= 0, source.generation == cache.generation, target.generation == cache.generation else { return }
        cache.patchRelative32(at: source.entry + site, target: target.body)
    }

    @inline(__always)
    public func run(_ block: CompiledBlock, state: UnsafeMutableRawPointer) -> UInt64 {
        assert(block.generation == cache.generation, "running a block from a flushed cache")
        return block.run(state)
    }
}
