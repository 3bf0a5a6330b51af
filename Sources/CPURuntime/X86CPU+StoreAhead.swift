import IR
import X86State

/// Self-modifying code that rewrites the instructions just after the store
/// (iPXE's `mov cs:[next+1], al` then `int 0`): a processor executes what
/// was stored, but the block running was translated from the old bytes. As
/// QEMU does, the store is held back, the block is left at the storing
/// instruction, and that instruction runs again alone from a block of its
/// own, so what follows it is translated from the new bytes.
extension X86CPU {
    /// `pendingException` while a store waits to run again alone: not a vector.
    static let storeRewritesCode: Int32 = 0x100
    /// How far ahead of the storing instruction a write counts as rewriting
    /// the block being run (a block holds at most 64 instructions).
    static let storeAheadWindow: LinearAddress = 64 * 15

    /// Called for a store to a page holding translated code. True when it
    /// rewrites code just ahead of the instruction storing, inside a block:
    /// then the page's blocks are dropped, the store is not done, and the
    /// block leaves so that the loop runs the instruction again alone.
    func holdBackStoreAheadOfCode(linear: LinearAddress, physicalPage: PhysicalPage) -> Bool {
        guard runningBlock, state.pointee.pendingException < 0 else { return false }
        let instruction = self.linear(segment(.cs).base, UInt32(truncatingIfNeeded: state.pointee.currentInstruction))
        let distance = addressSize.mask(linear &- instruction)
        guard distance != 0, distance < X86CPU.storeAheadWindow else { return false }
        invalidateCode(physicalPage: physicalPage)
        state.pointee.pendingException = X86CPU.storeRewritesCode
        return true
    }

    /// Runs the held-back storing instruction alone, from an uncached block
    /// (its page is no longer protected, so the store now goes through).
    func runHeldBackStoreAlone() {
        state.pointee.pendingException = -1
        state.pointee.eip = state.pointee.currentInstruction & 0xFFFF_FFFF
        guard let block = currentBlock(maximumInstructions: 1, cached: false) else { return }
        state.pointee.instructionBudget = X86CPU.chainBudget
        let exit: UInt64
        if let compiled = block.code.compiled {
            exit = compiled.run(UnsafeMutableRawPointer(state))
        } else {
            exit = interpreter.run(block.code.interpreted!, state: UnsafeMutableRawPointer(state))
        }
        state.pointee.instructionCount &+= 1
        if exit & BlockExit.fault != 0 || state.pointee.pendingException >= 0 { deliverPendingException() }
    }
}
