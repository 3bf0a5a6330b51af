/// The ways out of a block that are the same for every block, kept once at
/// the start of the code cache instead of in each block: the epilogue
/// (FPU hand-back, register restores, return) and the lookup of the next
/// block (the jump-cache probe, the runtime call and the jump to its
/// answer). Both run in the block's own stack frame, which every block lays
/// out alike, so a block just jumps there; the code stays small and more of
/// it fits the host's caches.
extension X64CodeGenerator {
    /// Cache offsets of the shared exits.
    struct SharedExits: Equatable {
        /// Restores and returns, exit code in RAX.
        var epilogue: Int
        /// Finds and enters the next block (globals stored), or returns 0;
        /// nil when the configuration has no lookup.
        var lookup: Int?
    }

    /// A rel32 jump to a shared exit: where its field is in the block, and the exit's cache offset.
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
        return SharedExits(epilogue: epilogueStart, lookup: lookupStart)
    }

    /// `jmp rel32` to the shared exit at cache offset `target`, its field filled in at install.
    func jumpToShared(_ target: Int) {
        assembler.byte(0xE9)
        sharedJumps.append(SharedJump(site: assembler.position, target: target))
        assembler.int32(0)
    }
}
