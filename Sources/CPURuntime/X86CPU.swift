import IR
import Execution
import Memory
import PCEmuSupport
import Timing
import X64Backend
import X86Frontend
import X86State

/// The x86 CPU: translates guest code into blocks, runs them as host code
/// from the JIT (or on the IR interpreter), chains blocks that jump to each
/// other, takes interrupts at block boundaries and delivers exceptions.
/// Segmentation, system instructions, task switches and the x87 live in the
/// X86CPU+… files beside this one; paging in the SoftMMU.
public final class X86CPU: ExecutionEngine {
    public let stateBlock = CPUStateBlock()
    public var state: UnsafeMutablePointer<CPUState> { stateBlock.state }
    let addressSpace: AddressSpace
    let ports: IOPortBus
    let clock: VirtualClock
    let translator: X86Translator
    let interpreter: IRInterpreter
    /// The JIT, when the CPU runs generated host code (the default).
    let jit: X64Backend?
    let translationCache = TranslationCache()
    /// Breakpoints and watchpoints a debugger set (X86CPU+Debug).
    public let debugger = CPUDebugger()
    /// Where CS's base sits in the state, read at every block.
    let codeBaseOffset = CPUStateLayout.segmentBase(.cs)
    /// The mode bits after which the run loop must look (read on every lookup:
    /// a stored copy, since another module's static needs a once-check).
    let unchainableFlags = HiddenFlags.interruptShadow.rawValue | HiddenFlags.singleStep.rawValue
    let jumpCache: JumpCache
    let optimizer = PassManager()
    /// The JIT symbol map for perf, when asked for (PCEMU_PERF_MAP).
    let perfMap: PerfMap?
    private(set) var mmu: SoftMMU!
    /// The interrupt controller on INTR; nil leaves INTR low.
    public var interrupts: InterruptSource?
    /// The local APIC, for IA32_APIC_BASE, IA32_TSC_DEADLINE and CPUID.
    public var localAPIC: LocalAPICRegisters?
    /// What CPUID says the CPU is (-cpu); set before the first instruction.
    public let model: CPUModel
    /// MTRRs, PAT and the machine-check bank: kept, never acted on.
    var cacheControl = CacheControlMSRs()
    /// The INTR line's level, kept by the controller's output callback so the
    /// check at each block boundary is one load.
    public var interruptLine = false { didSet { updateJumpCacheBypass() } }
    /// HLT executed and no interrupt has woken the CPU yet.
    public internal(set) var halted = false { didSet { updateJumpCacheBypass() } }
    /// True while a block runs from the loop: a store then may be held back (X86CPU+StoreAhead).
    var runningBlock = false
    /// Generated code's budget by default (QEMU's too); a full cache is
    /// flushed whole. The desktop image's boot to X writes about 700 MiB of
    /// code, and each flush retranslates all hot code; the pages are only
    /// touched as code is written.
    public static let defaultCodeCacheBytes = 1 << 30
    /// Counted as blocks are translated and dropped; read through `translationStatistics`.
    var statistics = TranslationStatistics()

    /// Interrupts and exceptions entered so far (tests and statistics).
    public internal(set) var deliveredInterrupts = 0
    /// The exception being delivered, to tell a double fault from two in a row.
    var deliveringVector: UInt32?
    /// A fault while delivering a double fault: the machine resets.
    public internal(set) var tripleFault = false { didSet { updateJumpCacheBypass() } }
    /// Why the machine must stop (a guest using what is not built); set by helpers.
    public internal(set) var stopReason: String? { didSet { updateJumpCacheBypass() } }
    /// FERR#: called when a waiting x87 instruction finds an unmasked exception
    /// pending while CR0.NE is clear. The machine wires it to IRQ 13 of the
    /// PIC; a write to port F0 lowers it again (the machine's job too).
    public var ferr: (() -> Void)?
    /// Staging for the x87 helper's block operands (FSAVE image, FXSAVE's
    /// first 160 bytes), allocated once so no instruction allocates.
    let x87Buffer = UnsafeMutableRawPointer.allocate(byteCount: 512, alignment: 16)

    /// Which backend runs the IR.
    public enum Backend { case jit, interpreter }

    /// The TLB as generated code sees it, for the JIT's inline hit path: the
    /// same lookup as `GuestMemoryAccessors` (which then only sees misses).
    static let tlbLayout = TLBLayout(
        offset: CPUStateBlock.tlbOffset, entryBytes: MemoryLayout<TLBEntry>.stride,
        entriesPerMMU: CPUStateBlock.tlbEntries, pageBits: 12,
        readTagOffset: MemoryLayout<TLBEntry>.offset(of: \.readTag)!,
        writeTagOffset: MemoryLayout<TLBEntry>.offset(of: \.writeTag)!,
        addendOffset: MemoryLayout<TLBEntry>.offset(of: \.addend)!)

    public init(addressSpace: AddressSpace, ports: IOPortBus, clock: VirtualClock, backend: Backend = .jit,
                codeCacheBytes: Int = X86CPU.defaultCodeCacheBytes, model: CPUModel = CPUModel.defaultModel) {
        self.model = model
        self.addressSpace = addressSpace
        self.ports = ports
        self.clock = clock
        let helpers = HelperTable()
        X86Helpers.register(into: helpers)
        translator = X86Translator(helpers: helpers)
        translator.missingInstructionSets = model.missingInstructionSets
        let jumpCache = JumpCache()
        self.jumpCache = jumpCache
        interpreter = IRInterpreter(configuration: InterpreterConfiguration(
            scratchOffset: CPUStateBlock.scratchOffset, scratchSlots: CPUStateBlock.scratchSlots,
            faultOffset: CPUStateLayout.pendingException, currentInstructionOffset: CPUStateLayout.currentInstruction,
            load: GuestMemoryAccessors.load, store: GuestMemoryAccessors.store,
            hostSIMD: { [simdStubs = HostSIMDStubs()] in simdStubs.function(for: $0) }))
        let perfMap = PerfMap()
        self.perfMap = perfMap
        if backend == .jit, let cache = try? CodeCache(capacity: codeCacheBytes, dualMapped: perfMap == nil) {
            let chaining = ChainingLayout(budgetOffset: CPUStateLayout.instructionBudget)
            var configuration = X64BackendConfiguration(interpreter.configuration, tlb: X86CPU.tlbLayout,
                                                        chaining: chaining, hostX87: X86CPU.hostX87Layout,
                                                        nextBlockLookup: X86CPU.nextBlockLookup,
                                                        jumpCache: X86CPU.jumpCacheLayout(jumpCache))
            configuration.hostSIMD = HostSIMDStubs.layout
            jit = X64Backend(configuration: configuration, cache: cache)
        } else {
            jit = nil
        }
        mmu = SoftMMU(cpu: self, addressSpace: addressSpace)
        state.pointee.owner = Unmanaged.passUnretained(self).toOpaque()
        // A full code cache is emptied whole: every block pointing into it goes too.
        jit?.willFlush = { [unowned self] in
            statistics.fullCacheFlushes += 1
            translationCache.flush()
            jumpCache.clear()
        }
        // Weak: tests build several CPUs over one address space.
        addressSpace.addMapChangeListener { [weak self] in self?.memoryMapChanged() }
        reset()
    }

    deinit { x87Buffer.deallocate() }

    /// Calls `body` with the CPU behind a state pointer, with no reference
    /// counting: the CPU outlives every call generated code makes.
    @inline(__always)
    static func withOwner<Result>(of state: UnsafeMutableRawPointer, _ body: (X86CPU) -> Result) -> Result {
        Unmanaged<X86CPU>.fromOpaque(state.assumingMemoryBound(to: CPUState.self).pointee.owner!)._withUnsafeGuaranteedRef(body)
    }

    /// Power-on state: real mode at F000:FFF0 with CS base FFFF0000.
    public func reset() {
        let owner = state.pointee.owner
        let a20 = state.pointee.a20Mask
        state.pointee = CPUState()
        state.pointee.owner = owner
        state.pointee.a20Mask = a20
        state.pointee.eip = 0xFFF0
        state.pointee.registers.2 = UInt64(model.signature)  // EDX: CPUID 1's EAX
        cacheControl = CacheControlMSRs()
        for segment in Segment.allCases { setSegment(segment, .realMode(selector: 0, code: segment == .cs)) }
        var cs = SegmentCache.realMode(selector: 0xF000, code: true)
        cs.base = 0xFFFF_0000
        setSegment(.cs, cs)
        halted = false
        stopReason = nil
        flushTLB()
        translationCache.flush()
        updateHiddenFlags()
    }

    public func requestExit() {
        // Plain stores: the CPU thread reads the flag in its loop, and
        // generated code sees the biased budget at the next block entry. A
        // block's own charge racing with the bias may lose it; the budget
        // then runs out as usual and the loop sees the flag.
        (UnsafeMutableRawPointer(state) + CPUStateLayout.exitRequest).storeBytes(of: Int32(1), as: Int32.self)
        let budget = (UnsafeMutableRawPointer(state) + CPUStateLayout.instructionBudget).assumingMemoryBound(to: Int64.self)
        if budget.pointee > -ChainingLayout.exitBias / 2 { budget.pointee -= ChainingLayout.exitBias }
    }

    /// Opens or closes the A20 gate (port 0x92, the 8042).
    public func setA20(_ enabled: Bool) {
        let mask: UInt64 = enabled ? ~0 : ~(1 << 20)
        if state.pointee.a20Mask != mask {
            state.pointee.a20Mask = mask
            flushTLB()
        }
    }

    // MARK: segments and mode

    /// How wide linear addresses are in the current mode (`HiddenFlags.addressSize`).
    @inline(__always)
    var addressSize: AddressSize { HiddenFlags(rawValue: state.pointee.hiddenFlags).addressSize }

    /// `base` + `offset` as a linear address, wrapped as the mode wraps: a
    /// segment's or a descriptor table's byte.
    @inline(__always)
    func linear(_ base: LinearAddress, _ offset: UInt32) -> LinearAddress {
        addressSize.mask(base &+ LinearAddress(offset))
    }

    /// A byte of a descriptor table or the TSS: 64-bit linear addresses in
    /// long mode whatever the code segment (compatibility mode's GDT is the
    /// kernel's, above 4 GiB), wrapped at 4 GiB otherwise.
    @inline(__always)
    func systemLinear(_ base: LinearAddress, _ offset: UInt32) -> LinearAddress {
        let address = base &+ LinearAddress(offset)
        return state.pointee.efer & EFER.longModeActive != 0 ? address : address & 0xFFFF_FFFF
    }

    /// The linear address of CS:EIP and the CS base blocks are keyed on,
    /// read straight from the state (the base's low half: 32 bits in every
    /// mode). In 64-bit mode CS has no base and RIP is the linear address.
    @inline(__always)
    func codeAddress() -> (linear: LinearAddress, codeBase: UInt32) {
        if HiddenFlags.isCode64(state.pointee.hiddenFlags) { return (state.pointee.eip, 0) }
        let codeBase = (UnsafeRawPointer(state) + codeBaseOffset).load(as: UInt32.self)
        return (linear(LinearAddress(codeBase), UInt32(truncatingIfNeeded: state.pointee.eip)), codeBase)
    }

    func segment(_ segment: Segment) -> SegmentCache {
        withUnsafeBytes(of: &state.pointee.segments) { $0.load(fromByteOffset: segment.rawValue * MemoryLayout<SegmentCache>.stride, as: SegmentCache.self) }
    }

    func setSegment(_ segment: Segment, _ cache: SegmentCache) {
        withUnsafeMutableBytes(of: &state.pointee.segments) {
            $0.storeBytes(of: cache, toByteOffset: segment.rawValue * MemoryLayout<SegmentCache>.stride, as: SegmentCache.self)
        }
        // Blocks skip the base additions of a flat DS, ES and SS: the bit
        // saying whether they may is kept exact through every path that
        // changes one of them, whether or not it recomputes the other bits.
        if segment == .ds || segment == .es || segment == .ss {
            if needsSegmentBases { state.pointee.hiddenFlags |= HiddenFlags.segmentBases.rawValue }
            else { state.pointee.hiddenFlags &= ~HiddenFlags.segmentBases.rawValue }
        }
    }

    /// Whether memory operands must add their segment's base: outside
    /// protected mode, or when DS, ES or SS has a nonzero base.
    private var needsSegmentBases: Bool {
        let protected = state.pointee.cr0 & ControlRegister.protectionEnable != 0
        let v86 = protected && state.pointee.eflags & EFLAGS.virtual8086 != 0
        if state.pointee.efer & EFER.longModeActive != 0 && segment(.cs).isLong { return false }
        return !protected || v86 || segment(.ds).base != 0 || segment(.es).base != 0 || segment(.ss).base != 0
    }

    /// Recomputes the mode bits blocks are keyed on from CR0, EFLAGS and the segments.
    func updateHiddenFlags() {
        var flags = HiddenFlags(rawValue: state.pointee.hiddenFlags & HiddenFlags.interruptShadow.rawValue)
        let protected = state.pointee.cr0 & ControlRegister.protectionEnable != 0
        let v86 = protected && state.pointee.eflags & EFLAGS.virtual8086 != 0
        if protected { flags.insert(.protectedMode) }
        if v86 { flags.insert(.virtual8086) }
        // The CPL is SS's DPL (as QEMU keeps it), not CS's RPL: code that sets
        // PE while CS holds, say, 9E7Bh still runs at CPL 0 until its far jump.
        let cpl: UInt32 = !protected ? 0 : (v86 ? 3 : segment(.ss).dpl)
        flags = HiddenFlags(rawValue: flags.rawValue | cpl)
        // Real mode too: the caches keep the D and B bits a protected-mode
        // load gave them until CS or SS is loaded again (code that clears PE
        // runs on with them, as on hardware and in QEMU).
        // Long mode: CS.L selects 64-bit mode, where the D bit means nothing
        // and DS, ES and SS have no base or limit (FS and GS keep their bases).
        let longMode = state.pointee.efer & EFER.longModeActive != 0
        let code64 = longMode && segment(.cs).isLong
        if longMode { flags.insert(.longMode) }
        if code64 { flags.insert(.code64) }
        if !v86 && !code64 && segment(.cs).isBig { flags.insert(.code32) }
        if !v86 && (code64 || segment(.ss).isBig) { flags.insert(.stack32) }
        if !code64 && needsSegmentBases { flags.insert(.segmentBases) }
        if state.pointee.cr0 & ControlRegister.paging != 0 { flags.insert(.paging) }
        if state.pointee.eflags & EFLAGS.trap != 0 { flags.insert(.singleStep) }
        if state.pointee.cr0 & (ControlRegister.emulation | ControlRegister.taskSwitched) != 0 { flags.insert(.fpuUnavailable) }
        if !sseEnabled { flags.insert(.sseUnavailable) }
        if state.pointee.simd.masksEveryException { flags.insert(.simdExceptionsMasked) }
        let iopl = (state.pointee.eflags & EFLAGS.iopl) >> EFLAGS.ioplShift
        if protected && (v86 ? iopl < 3 : cpl > iopl) { flags.insert(.ioPrivilegeCheck) }
        if x87MayRunOnHost { flags.insert(.x87OnHost) }
        if protected && !v86 && !code64 {
            for register in Segment.allCases where !segment(register).isFlatWritableData {
                // A null FS or GS is left out of the key (generated code tests for it
                // inline): Linux switches between a null and a flat GS with every
                // task, and its kernel blocks should not be translated twice for it.
                if (register == .fs || register == .gs) && segment(register).selector & 0xFFFC == 0 { continue }
                flags.insert(.checkedSegment(register))
            }
        }
        state.pointee.hiddenFlags = flags.rawValue
    }

    // MARK: running

    /// Guest instructions between looks at the clock.
    static let instructionsPerClockCheck = 20_000
    /// What chained blocks may run before returning to the loop.
    static let chainBudget: Int64 = 20_000

    public func run(until deadline: Int64) -> EngineStop {
        if debugger.active { return runDebugged(until: deadline) }
        // Whoever called sees the guest's FPU in the state.
        defer { takeX87FromHost() }
        // Loop invariants read once: masks and offsets from other modules are
        // behind lazy-initialisation checks when read in the loop.
        let shadowBit = HiddenFlags.interruptShadow.rawValue
        let stepBit = HiddenFlags.singleStep.rawValue
        let faultBit = BlockExit.fault
        let gotoBit = BlockExit.gotoSlot
        let logging = Log.isEnabled(.exec)
        let loggingState = Log.isEnabled(.cpu)
        let countsTime = clock.mode != .host
        let raw = UnsafeMutableRawPointer(state)
        var instructionsSinceClock = 0
        // The exit code of the block that just left through a chaining slot
        // (naming its chain record), to be patched to the next block: only
        // while no block was dropped in between.
        var chainFrom: (exit: UInt64, generation: Int)?
        while true {
            if let reason = stopReason {
                Log.emit("pcemu: \(reason)")
                return .powerOff(status: 1)
            }
            if tripleFault {
                tripleFault = false
                return .reset
            }
            if interruptLine && takeInterruptIfPossible() { halted = false; chainFrom = nil }
            if halted { return .halted }
            if state.pointee.exitRequest != 0 {
                state.pointee.exitRequest = 0
                return .yielded
            }
            guard let handle = cachedBlock() else { chainFrom = nil; continue }
            if let source = chainFrom, source.generation == translationCache.generation {
                chain(exit: source.exit, to: handle)
            }
            chainFrom = nil
            let hidden = state.pointee.hiddenFlags
            // Read what is needed before running: a guest store into its own code
            // may drop the block while it runs (its host code stays until the
            // code cache is flushed, which only a translation does).
            let (compiled, count, linearPC) = handle._withUnsafeGuaranteedRef { ($0.code.compiled, $0.instructionCount, $0.key.linearPC) }
            if logging {
                Log.emit("exec \(String(segment(.cs).selector, radix: 16)):\(String(state.pointee.eip, radix: 16)) linear \(String(linearPC, radix: 16))")
            }
            if loggingState { Log.emit(stateDump()) }
            let exit: UInt64
            let executed: Int
            if let compiled {
                // Chained blocks charge themselves to the budget; what it lost is what ran.
                state.pointee.instructionBudget = X86CPU.chainBudget
                let generation = translationCache.generation
                runningBlock = true
                exit = compiled.run(raw)
                runningBlock = false
                var left = state.pointee.instructionBudget
                if left < -ChainingLayout.exitBias / 2 { left += ChainingLayout.exitBias }  // an exit request's
                executed = Int(X86CPU.chainBudget - max(left, -Int64(count)))
                // The exit code names the chain record of the block that left,
                // which may be one this block chained to.
                if exit & gotoBit != 0 && exit & faultBit == 0 {
                    chainFrom = (exit, generation)
                }
            } else {
                let block = handle.takeUnretainedValue()  // held for the whole run
                runningBlock = true
                exit = interpreter.run(block.code.interpreted!, state: raw)
                runningBlock = false
                executed = count
            }
            state.pointee.instructionCount &+= UInt64(executed)
            if countsTime { clock.advance(instructions: Int64(executed)) }
            if hidden & shadowBit != 0 { state.pointee.hiddenFlags &= ~shadowBit }
            if exit & faultBit != 0 || state.pointee.pendingException >= 0 {
                deliverPendingException()
                chainFrom = nil
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

    /// Patches `source`'s jump to go straight to `target`, when that is safe:
    /// both compiled, the same mode and CS base (a chained jump changes
    /// nothing but EIP), and `target` wholly in `source`'s first page, so that
    /// dropping the blocks of a page drops every block that jumps into them.
    /// Blocks run in an interrupt shadow or single-stepping need the loop
    /// after them, so they are never chained from.
    private func chain(exit: UInt64, to targetHandle: Unmanaged<TranslatedBlock>) {
        guard let jit, let source = jit.chainSource(of: exit)?.tag else { return }
        let target = targetHandle.takeUnretainedValue()
        guard let to = target.code.compiled, source.flags == target.key.flags, source.flags & unchainableFlags == 0,
              source.codeSegmentBase == target.key.codeSegmentBase,
              source.linearPC >> 12 == target.key.linearPC >> 12,
              target.lastLinear >> 12 == target.key.linearPC >> 12 else { return }
        jit.chain(exit: exit, to: to)
    }

    /// The cached block for the current CS:EIP and mode, translating it if
    /// needed; unretained, since the translation cache keeps it alive.
    @inline(__always)
    private func cachedBlock() -> Unmanaged<TranslatedBlock>? {
        let (linear, codeBase) = codeAddress()
        if let handle = jumpCache.lookupHandle(linearPC: linear, codeSegmentBase: codeBase, flags: state.pointee.hiddenFlags) {
            return handle
        }
        return currentBlock(maximumInstructions: X86Translator.maximumInstructions, cached: true).map { Unmanaged.passUnretained($0) }
    }

    /// Executes one guest instruction (one iteration of a repeated string
    /// instruction), or takes one pending interrupt: for tests and debuggers.
    public func step() {
        if takeInterruptIfPossible() { halted = false; return }
        guard !halted, stopReason == nil, let block = currentBlock(maximumInstructions: 1, cached: false) else { return }
        let singleStep = state.pointee.hiddenFlags & HiddenFlags.singleStep.rawValue != 0
        // A compiled block charges its instruction to the budget on entry.
        state.pointee.instructionBudget = X86CPU.chainBudget
        let exit = execute(block)
        takeX87FromHost()
        state.pointee.instructionCount &+= 1
        clock.advance(instructions: 1)
        if exit & BlockExit.fault != 0 || state.pointee.pendingException >= 0 {
            deliverPendingException()
        } else if singleStep {
            singleStepTrap()
        }
    }

    /// The translated block for a linear PC in the current mode, if there is
    /// one still valid for the current mapping (entered into the jump cache).
    func translatedBlock(linearPC linear: LinearAddress, codeSegmentBase codeBase: UInt32) -> Unmanaged<TranslatedBlock>? {
        let key = BlockKey(linearPC: linear, physicalPC: mmu.physical(linear), codeSegmentBase: codeBase,
                           flags: state.pointee.hiddenFlags)
        guard let block = translationCache.lookup(key), secondPageStillMatches(block) else { return nil }
        enterIntoJumpCache(block)
        return Unmanaged.passUnretained(block)
    }

    func currentBlock(maximumInstructions: Int, cached: Bool) -> TranslatedBlock? {
        // RIP in 64-bit mode; EIP (the register's low half) in the other modes.
        let eip = HiddenFlags.isCode64(state.pointee.hiddenFlags) ? state.pointee.eip : state.pointee.eip & 0xFFFF_FFFF
        let (linear, codeBase) = codeAddress()
        if cached, let block = translatedBlock(linearPC: linear, codeSegmentBase: codeBase) {
            return block.takeUnretainedValue()
        }
        let key = BlockKey(linearPC: linear, physicalPC: mmu.physical(linear), codeSegmentBase: codeBase,
                           flags: state.pointee.hiddenFlags)
        let reader = CodeReader(mmu: mmu)
        guard let code = translator.translate(eip: eip, codeSegmentBase: codeBase, flags: HiddenFlags(rawValue: key.flags),
                                              reader: reader, maximumInstructions: maximumInstructions) else {
            // The first instruction could not be fetched: a page fault the MMU
            // recorded while reading it (CR2 = the byte that faulted), else no
            // memory there (#GP). Reported at this instruction, not the last one run.
            if !mmu.raiseCodeFault() {
                Log.write(.guestErrors, "no code at linear 0x\(String(linear, radix: 16))")
                raiseException(ExceptionVector.generalProtection, errorCode: 0)
            }
            state.pointee.currentInstruction = eip
            deliverPendingException()
            return nil
        }
        if Log.isEnabled(.op) { Log.emit("IR for 0x\(String(linear, radix: 16)):\n\(code.block)") }
        optimizer.run(on: code.block)
        if Log.isEnabled(.opOpt) { Log.emit("optimized IR for 0x\(String(linear, radix: 16)):\n\(code.block)") }
        let firstPage = mmu.physical(code.startLinear) >> 12, lastPage = mmu.physical(code.lastLinear) >> 12
        let pages = firstPage == lastPage ? [firstPage] : [min(firstPage, lastPage), max(firstPage, lastPage)]
        let compiled: ExecutableBlock
        do {
            if let jit {
                let block = try jit.compile(code.block, chainTag: ChainTag(linearPC: linear, codeSegmentBase: codeBase, flags: key.flags))
                perfMap?.record(start: block.entry, size: block.size, linearPC: linear, flags: key.flags)
                if Log.isEnabled(.outAsm) { Log.emit(HostCodeDump.text(of: block, linearPC: linear)) }
                compiled = ExecutableBlock(compiled: block)
            } else {
                compiled = ExecutableBlock(interpreted: try InterpretedBlock(code.block, configuration: interpreter.configuration))
            }
        } catch {
            stopReason = "cannot run the block at 0x\(String(linear, radix: 16)): \(error)"
            return nil
        }
        let block = TranslatedBlock(key: key, code: compiled, instructionCount: code.instructionCount, physicalPages: pages,
                                    lastLinear: code.lastLinear, lastPhysicalPage: lastPage)
        statistics.blocksTranslated += 1
        statistics.guestInstructionsTranslated += code.instructionCount
        statistics.hostBytesGenerated += compiled.compiled?.size ?? 0
        guard cached else { return block }
        let newCodePages = pages.filter { !translationCache.holdsCode(physicalPage: $0) }
        translationCache.insert(block)
        // Writes to these pages must now be seen: their write tags take the slow path.
        for page in newCodePages { mmu.protectCode(physicalPage: page) }
        enterIntoJumpCache(block)
        return block
    }

    /// Runs a block on its backend; returns the `BlockExit` code.
    @inline(__always)
    func execute(_ block: TranslatedBlock) -> UInt64 {
        if let compiled = block.code.compiled { return compiled.run(UnsafeMutableRawPointer(state)) }
        return interpreter.run(block.code.interpreted!, state: UnsafeMutableRawPointer(state))
    }

    /// A block whose code runs onto a second page was keyed by its first page
    /// only: it is still valid only if the second page maps where it did.
    private func secondPageStillMatches(_ block: TranslatedBlock) -> Bool {
        block.lastLinear >> 12 == block.key.linearPC >> 12 || mmu.physical(block.lastLinear) >> 12 == block.lastPhysicalPage
    }

    /// Into the jump cache, with how its pages are mapped: through global
    /// TLB entries or not, through a large page or not (the entries were just
    /// filled by looking the block up or translating it).
    private func enterIntoJumpCache(_ block: TranslatedBlock) {
        let first = mmu.codeMapping(block.key.linearPC), last = mmu.codeMapping(block.lastLinear)
        jumpCache.insert(block, global: first.global && last.global, largePage: first.large || last.large)
    }

    /// A write hit a page holding translated code: its blocks are stale.
    /// The blocks go from the jump cache too; writes to the page need not
    /// take the slow path any more.
    func invalidateCode(physicalPage page: PhysicalPage) {
        statistics.blocksInvalidated += translationCache.invalidate(physicalPage: page) { jumpCache.remove($0) }
        mmu.unprotectCode(physicalPage: page)
    }

    /// The physical memory map changed (ROM shadowing, a region moved): every
    /// translation and translated block may point at the wrong memory. The
    /// address space calls it on every map and unmap.
    public func memoryMapChanged() {
        flushTLB()
        statistics.memoryMapFlushes += 1
        translationCache.flush()
    }

    /// Drops every TLB entry, and with them the jump cache (which trusts the
    /// linear-to-physical mapping of the blocks it points to).
    func flushTLB() {
        stateBlock.flushTLB()
        jumpCache.clear()
    }

    /// The translator's statistics and the code cache's fill, as `info jit` prints them.
    public var translationStatistics: TranslationStatistics {
        var current = statistics
        current.liveBlocks = translationCache.count
        current.codeCacheUsed = jit?.cache.used ?? 0
        current.codeCacheCapacity = jit?.cache.capacity ?? 0
        return current
    }

    // MARK: interrupts and exceptions

    /// Records a guest exception; the interpreter leaves the block and the loop delivers it.
    func raiseException(_ vector: UInt32, errorCode: UInt32? = nil) {
        guard state.pointee.pendingException < 0 else { return }
        state.pointee.pendingException = Int32(vector)
        state.pointee.pendingErrorCode = errorCode ?? 0
        state.pointee.pendingHasErrorCode = errorCode == nil ? 0 : 1
    }

    /// Delivers the pending exception, reported at the faulting instruction.
    /// A fault while delivering one becomes a double fault where the SDM says
    /// so, and a fault while delivering a double fault resets the machine.
    func deliverPendingException() {
        if state.pointee.pendingException == X86CPU.storeRewritesCode { return runHeldBackStoreAlone() }
        var attempts = 0
        while state.pointee.pendingException >= 0 {
            var vector = UInt32(state.pointee.pendingException)
            var errorCode: UInt32? = state.pointee.pendingHasErrorCode != 0 ? state.pointee.pendingErrorCode : nil
            state.pointee.pendingException = -1
            // A fault while entering a handler: a previous pass of this loop, or a
            // helper's delivery (INT n, a limit fault) that recorded its vector.
            if attempts > 0 || deliveringVector != nil {
                let first = deliveringVector ?? vector
                if first == ExceptionVector.doubleFault {
                    Log.write(.interrupts, "triple fault")
                    tripleFault = true
                    return
                }
                if X86CPU.isContributory(first) && X86CPU.isContributory(vector)
                    || first == ExceptionVector.pageFault && (X86CPU.isContributory(vector) || vector == ExceptionVector.pageFault) {
                    vector = ExceptionVector.doubleFault
                    errorCode = 0
                }
            }
            attempts += 1
            if attempts > 3 { tripleFault = true; return }
            let faultingEIP = state.pointee.currentInstruction
            Log.write(.interrupts, "exception \(vector) at \(String(segment(.cs).selector, radix: 16)):\(String(faultingEIP, radix: 16))")
            deliveringVector = vector
            deliverInterrupt(vector: vector, returnAddress: faultingEIP, kind: .exception,
                             errorCode: X86CPU.pushesErrorCode(vector) ? (errorCode ?? 0) : nil)
        }
        deliveringVector = nil
    }

    /// TF was set when the instruction (a block of one) started: #DB after it, with DR6.BS.
    func singleStepTrap() {
        state.pointee.debugRegisters.6 |= 1 << 14
        deliverInterrupt(vector: ExceptionVector.debug, returnAddress: state.pointee.eip, kind: .exception)
    }

    /// #DE, #TS, #NP, #SS, #GP: two in a row make a double fault.
    static func isContributory(_ vector: UInt32) -> Bool {
        vector == 0 || (10...13).contains(vector)
    }

    /// An external interrupt when IF is set and nothing holds it off.
    func takeInterruptIfPossible() -> Bool {
        guard interruptLine, let interrupts, interrupts.interruptPending,
              state.pointee.eflags & EFLAGS.interrupt != 0,
              state.pointee.hiddenFlags & HiddenFlags.interruptShadow.rawValue == 0 else { return false }
        let vector = UInt32(interrupts.acknowledge())
        Log.write(.interrupts, "external interrupt vector \(vector)")
        deliverInterrupt(vector: vector, returnAddress: state.pointee.eip, kind: .external)
        return true
    }

    /// Enters an interrupt or exception handler. Real mode: push FLAGS, CS, IP
    /// and jump through the vector table.
    func deliverInterrupt(vector: UInt32, returnAddress: UInt64, kind: InterruptKind, errorCode: UInt32? = nil) {
        deliveredInterrupts += 1
        if protectedMode {
            do {
                if longModeActive {
                    try deliverLongModeInterrupt(vector: vector, returnAddress: returnAddress, kind: kind, errorCode: errorCode)
                } else {
                    try deliverProtectedInterrupt(vector: vector, returnAddress: UInt32(truncatingIfNeeded: returnAddress),
                                                  kind: kind, errorCode: errorCode)
                }
            } catch {
                raise(error)
                // Delivered from the run loop, the new fault is taken there as a double fault;
                // from a helper (INT n), the interpreter leaves the block and the loop takes it.
                if deliveringVector == nil { deliveringVector = vector }
            }
            return
        }
        // Real mode: the vector must lie inside the IDTR's limit (#GP), and the
        // three words must fit under SS's limit (#SS); a fault leaves SP as it was.
        // Only CS's selector and base change: its hidden limit stays (unreal mode).
        guard vector &* 4 &+ 3 <= state.pointee.idtLimit else {
            if deliveringVector == nil { deliveringVector = vector }
            return raiseException(ExceptionVector.generalProtection, errorCode: vector &* 8 &+ 2)
        }
        let flags = LazyFlagsEvaluation.fullFlags(state)
        let stackPointer = register(Register.esp.rawValue)
        for value in [flags, segment(.cs).selector, UInt32(truncatingIfNeeded: returnAddress)] {
            push(value & 0xFFFF, bytes: 2)
            if state.pointee.pendingException >= 0 {
                if deliveringVector == nil { deliveringVector = vector }
                return setRegister(Register.esp.rawValue, stackPointer)
            }
        }
        let entry = linear(state.pointee.idtBase, vector &* 4)
        let offset = UInt32(mmu.load(entry, bytes: 2, mmu: 0))
        let selector = UInt32(mmu.load(linear(entry, 2), bytes: 2, mmu: 0))
        var cs = segment(.cs)
        cs.selector = selector
        cs.base = LinearAddress(selector) << 4
        setSegment(.cs, cs)
        state.pointee.eip = UInt64(offset)
        state.pointee.eflags &= ~(EFLAGS.interrupt | EFLAGS.trap | EFLAGS.alignmentCheck)
        updateHiddenFlags()
    }
}

/// The translator's view of guest code: bytes through the MMU.
struct CodeReader: GuestCodeReader {
    let mmu: SoftMMU
    func readCode(linear: LinearAddress, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        mmu.readCode(linear: linear, into: buffer)
    }
}
