/// Code that is the same for every block, kept once at the start of the
/// code cache instead of in each block: the epilogue (FPU hand-back,
/// register restores, return), the lookup of the next block (the jump-cache
/// probe, the runtime call and the jump to its answer), and the calls of the
/// guest load and store functions from TLB miss paths. The exits run in the
/// block's own stack frame, which every block lays out alike, so a block
/// just jumps there; the call stubs pass the state pointer and tail-jump to
/// the function. The code stays small and more of it fits the host's caches.
extension X64CodeGenerator {
    /// Cache offsets of the shared exits.
    struct SharedExits: Equatable {
        /// Restores and returns, exit code in RAX.
        var epilogue: Int
        /// Finds and enters the next block (globals stored), or returns 0;
        /// nil when the configuration has no lookup.
        var lookup: Int?
        /// Call these instead of the guest load and store functions: they
        /// pass the state pointer in RDI and jump to the function.
        var loadCall: Int
        var storeCall: Int
    }

    /// A rel32 jump or call to shared code: where its field is in the block, and the target's cache offset.
    struct SharedJump {
        var site: Int
        var target: Int
    }

    /// Emits the shared exits into the (reset) assembler; returns their
    /// offsets from the start of the code.
    func emitSharedExits() -> SharedExits {
        assembler.reset()
        epilogue = assembler.newLabel()
        var lookupStart: Int?
        if configuration.chaining != nil, let lookup = configuration.nextBlockLookup {
            lookupStart = assembler.position
            emitLookup(lookup)
        }
        let epilogueStart = assembler.position
        assembler.bind(epilogue)
        emitEpilogue()
        let loadCall = assembler.position
        emitTailJump(unsafeBitCast(configuration.base.load, to: Int.self))
        let storeCall = assembler.position
        emitTailJump(unsafeBitCast(configuration.base.store, to: Int.self))
        return SharedExits(epilogue: epilogueStart, lookup: lookupStart, loadCall: loadCall, storeCall: storeCall)
    }

    /// Passes the state pointer and jumps to `function`, which returns to
    /// the stub's caller: the stack is as the caller's call left it.
    private func emitTailJump(_ function: Int) {
        assembler.mov(.qword, .rdi, stateRegister)
        assembler.movImmediate(.rax, UInt64(UInt(bitPattern: function)))
        assembler.jump(.rax)
    }

    /// `call rel32` to the shared stub at cache offset `target`, filled in at install.
    func callShared(_ target: Int) {
        assembler.byte(0xE8)
        sharedJumps.append(SharedJump(site: assembler.position, target: target))
        assembler.int32(0)
    }

    /// `jmp rel32` to the shared exit at cache offset `target`, its field filled in at install.
    func jumpToShared(_ target: Int) {
        assembler.byte(0xE9)
        sharedJumps.append(SharedJump(site: assembler.position, target: target))
        assembler.int32(0)
    }
}
