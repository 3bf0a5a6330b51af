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
        let code = try generateCode(block)
        var entry = cache.install(code)
        if entry == nil {
            willFlush?()
            cache.flush()
            entry = cache.install(code)
        }
        guard let entry else { throw X64BackendError.cacheTooSmall(code.count) }
        return CompiledBlock(entry: entry, size: code.count, generation: cache.generation,
                             function: unsafeBitCast(entry, to: CompiledBlockFunction.self))
    }

    @inline(__always)
    public func run(_ block: CompiledBlock, state: UnsafeMutableRawPointer) -> UInt64 {
        assert(block.generation == cache.generation, "running a block from a flushed cache")
        return block.run(state)
    }
}
