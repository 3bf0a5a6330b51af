import Execution
import IR
import PCEmuSupport
import X64Backend
import X86Frontend
import X86State

/// The CPU under a debugger. Breakpoints stop before their instruction:
/// the translator ends every block before a breakpoint address, so each one
/// starts a block, and the debugging loop (`runDebugged`, taken instead of
/// `run`'s while anything is set) looks at every block's address before
/// running it; its blocks are never chained and the jump cache's inline
/// probe is bypassed, so no block is entered behind its back. Changing the
/// breakpoints drops every translation. Watchpoints force their pages off the
/// TLB's fast path; the slow path checks each access, and a hit inside a
/// block abandons the instruction (as a fault does), which then runs again
/// alone and completes before the CPU stops. A single step runs one
/// instruction from a block of its own and takes no interrupt, as QEMU's
/// default stepping does. With nothing set, none of this is on any path.
extension X86CPU {
    /// `pendingException` while an access hit a watchpoint inside a block: not a vector.
    static let watchpointHit: Int32 = 0x101

    /// Adds a breakpoint at a linear address; false when too many are set.
    public func insertBreakpoint(linear: UInt32) -> Bool {
        guard !debugger.breakpoints.contains(linear) else { return true }
        guard debugger.insert(breakpoint: linear) else { return false }
        debugPointsChanged(translations: true)
        return true
    }

    public func removeBreakpoint(linear: UInt32) {
        guard debugger.breakpoints.contains(linear) else { return }
        debugger.remove(breakpoint: linear)
        debugPointsChanged(translations: true)
    }

    /// Adds a watchpoint; false when too many are set or it is empty.
    public func insertWatchpoint(_ watchpoint: CPUDebugger.Watchpoint) -> Bool {
        guard debugger.insert(watchpoint) else { return false }
        debugPointsChanged(translations: false)
        return true
    }

    public func removeWatchpoint(_ watchpoint: CPUDebugger.Watchpoint) {
        guard debugger.watchpoints.contains(watchpoint) else { return }
        debugger.remove(watchpoint)
        debugPointsChanged(translations: false)
    }

    /// The debugger left: the CPU runs as if it had never come.
    public func removeAllDebugPoints() {
        let hadBreakpoints = !debugger.breakpoints.isEmpty
        debugger.removeAll()
        debugPointsChanged(translations: hadBreakpoints)
    }

    /// Breakpoints changed: every block may end in the wrong place, and
    /// chained jumps would skip the loop's look at block addresses. Watchpoints
    /// changed: TLB entries carry the old fast paths.
    private func debugPointsChanged(translations: Bool) {
        translator.stopBefore = Set(debugger.breakpoints.map { LinearAddress($0) })
        if translations { translationCache.flush() }
        flushTLB()
        updateJumpCacheBypass()
    }

    /// The linear address of the next instruction (CS base + EIP), in the
    /// debugger's 32 bits (gdb's i386).
    public var linearInstructionPointer: UInt32 {
        UInt32(truncatingIfNeeded: codeAddress().linear)
    }

    /// The next `run` goes past a breakpoint at the current instruction
    /// instead of stopping there again (gdb's continue from a breakpoint).
    public func prepareToContinue() {
        debugger.skipBreakpointAt = linearInstructionPointer
        debugger.watchHit = nil
    }

    /// Executes exactly one instruction (or enters the handler of the
    /// exception it raises) with interrupts held off, for a debugger's step.
    /// Returns the watchpoint the instruction touched, if any.
    public func debugStep() -> CPUDebugger.Stop {
        debugger.watchHit = nil
        runAlone()
        if let hit = debugger.takeWatchHit() { return .watchpoint(hit) }
        return .step
    }

    /// One instruction from an uncached one-instruction block, outside
    /// `runningBlock`, so a watchpoint it hits is only recorded.
    private func runAlone() {
        guard !halted, stopReason == nil, let block = currentBlock(maximumInstructions: 1, cached: false) else { return }
        let hidden = state.pointee.hiddenFlags
        state.pointee.instructionBudget = X86CPU.chainBudget
        let exit = execute(block)
        takeX87FromHost()
        state.pointee.instructionCount &+= 1
        if clock.mode != .host { clock.advance(instructions: 1) }
        if hidden & HiddenFlags.interruptShadow.rawValue != 0 { state.pointee.hiddenFlags &= ~HiddenFlags.interruptShadow.rawValue }
        if exit & BlockExit.fault != 0 || state.pointee.pendingException >= 0 {
            deliverPendingException()
        } else if hidden & HiddenFlags.singleStep.rawValue != 0 {
            singleStepTrap()
        }
    }

    /// Called from the MMU's slow path while watchpoints are set. True when
    /// the access must not happen: inside a block, the instruction is
    /// abandoned (to run again alone); elsewhere the hit is recorded and the
    /// access goes on.
    func watchAccess(_ linear: LinearAddress, bytes: Int, write: Bool) -> Bool {
        // Watchpoints are gdb's i386 ones: 32-bit linear addresses.
        guard let hit = debugger.watchpoint(hitBy: UInt32(truncatingIfNeeded: linear), bytes: bytes, write: write) else { return false }
        if runningBlock {
            if state.pointee.pendingException < 0 { state.pointee.pendingException = X86CPU.watchpointHit }
            return true
        }
        if debugger.watchHit == nil { debugger.watchHit = hit }
        return false
    }

    /// `run` while breakpoints or watchpoints are set: one block at a time
    /// through this loop, each block's address looked at first.
    func runDebugged(until deadline: Int64) -> EngineStop {
        defer { takeX87FromHost() }
        let shadowBit = HiddenFlags.interruptShadow.rawValue
        let stepBit = HiddenFlags.singleStep.rawValue
        let countsTime = clock.mode != .host
        var instructionsSinceClock = 0
        while true {
            if let reason = stopReason {
                Log.emit("pcemu: \(reason)")
                return .powerOff(status: 1)
            }
            if tripleFault {
                tripleFault = false
                return .reset
            }
            if interruptLine && takeInterruptIfPossible() { halted = false }
            if let hit = debugger.takeWatchHit() { return debugStopped(.watchpoint(hit)) }
            if halted { return .halted }
            if state.pointee.exitRequest != 0 {
                state.pointee.exitRequest = 0
                return .yielded
            }
            let linear = linearInstructionPointer
            if debugger.breakpoints.contains(linear) && debugger.skipBreakpointAt != linear {
                return debugStopped(.breakpoint)
            }
            debugger.skipBreakpointAt = nil
            guard let block = currentBlock(maximumInstructions: X86Translator.maximumInstructions, cached: true) else { continue }
            let hidden = state.pointee.hiddenFlags
            state.pointee.instructionBudget = X86CPU.chainBudget
            runningBlock = true
            let exit = execute(block)
            runningBlock = false
            let executed: Int
            if block.code.compiled != nil {
                var left = state.pointee.instructionBudget
                if left < -ChainingLayout.exitBias / 2 { left += ChainingLayout.exitBias }
                executed = Int(X86CPU.chainBudget - max(left, -Int64(block.instructionCount)))
            } else {
                executed = block.instructionCount
            }
            state.pointee.instructionCount &+= UInt64(executed)
            if countsTime { clock.advance(instructions: Int64(executed)) }
            if hidden & shadowBit != 0 { state.pointee.hiddenFlags &= ~shadowBit }
            if state.pointee.pendingException == X86CPU.watchpointHit {
                // The access was not done: the instruction runs again alone and completes.
                state.pointee.pendingException = -1
                state.pointee.eip = state.pointee.currentInstruction & 0xFFFF_FFFF
                takeX87FromHost()
                debugger.watchHit = nil
                runAlone()
                if let hit = debugger.takeWatchHit() { return debugStopped(.watchpoint(hit)) }
                continue
            }
            if exit & BlockExit.fault != 0 || state.pointee.pendingException >= 0 {
                deliverPendingException()
            } else if hidden & stepBit != 0 {
                singleStepTrap()
            }
            instructionsSinceClock &+= executed
            if instructionsSinceClock >= X86CPU.instructionsPerClockCheck {
                instructionsSinceClock = 0
                if clock.now >= deadline { return .yielded }
            }
        }
    }

    private func debugStopped(_ stop: CPUDebugger.Stop) -> EngineStop {
        debugger.onStop?(stop)
        return .yielded
    }
}

extension X86CPU {
    /// A debugger's write of a segment register: the selector loaded as MOV
    /// would load it (a descriptor read in protected mode, where CS keeps
    /// its value). False when the load would fault; nothing changes then.
    public func debuggerLoadSegment(_ target: Segment, selector: UInt16) -> Bool {
        if descriptorMode {
            if target == .cs { return segment(.cs).selector & 0xFFFF == UInt32(selector) }
            do { try loadProtectedSegment(target, selector: selector) } catch { return false }
            updateHiddenFlags()
            return true
        }
        var cache = virtual8086 ? SegmentCache.realMode(selector: selector, code: target == .cs) : segment(target)
        cache.selector = UInt32(selector)
        cache.base = LinearAddress(selector) << 4
        setSegment(target, cache)
        updateHiddenFlags()
        return true
    }
}
