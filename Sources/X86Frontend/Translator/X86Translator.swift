import IR
import PCEmuSupport
import X86State

/// Where the translator reads guest code from: the runtime, through its MMU.
public protocol GuestCodeReader {
    /// Copies code bytes starting at a linear address into `buffer`; returns how
    /// many it could read (fewer when a page is not there or not executable).
    func readCode(linear: LinearAddress, into buffer: UnsafeMutableRawBufferPointer) -> Int
}

/// One translated block's IR and what it covers.
public struct TranslatedCode {
    public let block: IRBlock
    public let instructionCount: Int
    /// Linear address of the first byte and one past the last byte of its code.
    public let startLinear: LinearAddress
    public let endLinear: LinearAddress
    /// The linear address of its last byte (`endLinear` - 1, wrapped as the mode wraps).
    public let lastLinear: LinearAddress

    init(block: IRBlock, instructionCount: Int, startLinear: LinearAddress, endLinear: LinearAddress, addressSize: AddressSize) {
        self.block = block
        self.instructionCount = instructionCount
        self.startLinear = startLinear
        self.endLinear = endLinear
        lastLinear = addressSize.mask(endLinear &- 1)
    }
}

/// Translates x86 code into IR a block at a time: the one place that
/// defines instruction semantics. The generic loop is here; each instruction
/// family lives in its own file as an extension of `TranslationContext`.
public final class X86Translator {
    public let globals = X86Globals()
    public let helpers: HelperTable
    public static let maximumInstructions = 64
    static let pageSize: LinearAddress = 4096
    /// Linear addresses a block must end before (a debugger's breakpoints),
    /// so that each starts a block of its own.
    public var stopBefore: Set<LinearAddress> = []

    /// Bit n set: instructions of `InstructionSet(rawValue: n)` raise #UD
    /// (their CPUID bit is clear in the CPU's model).
    public var missingInstructionSets: UInt32 = 0

    public init(helpers: HelperTable) { self.helpers = helpers }

    /// Translates the block at CS:EIP (RIP in 64-bit mode). `nil` when not
    /// even the first instruction's bytes can be read: the caller raises the fetch fault.
    public func translate(eip: UInt64, codeSegmentBase: UInt32, flags: HiddenFlags,
                          reader: GuestCodeReader, maximumInstructions: Int = X86Translator.maximumInstructions) -> TranslatedCode? {
        let block = IRBlock(globals: globals.set, helpers: helpers)
        let addressSize = flags.addressSize
        /// CS:offset as a linear address, wrapped as the mode wraps.
        let long64 = flags.contains(.code64)
        func linearOf(_ offset: UInt64) -> LinearAddress {
            addressSize.mask(LinearAddress(codeSegmentBase) &+ LinearAddress(offset))
        }
        let startLinear = linearOf(eip)
        let context = TranslationContext(builder: IRBuilder(block), globals: globals, flags: flags,
                                         codeSegmentBase: codeSegmentBase, startLinear: startLinear)
        context.missingInstructionSets = missingInstructionSets
        var address = eip
        var count = 0
        var bytes = (UInt64(0), UInt64(0))
        while true {
            let linear = linearOf(address)
            let available = withUnsafeMutableBytes(of: &bytes) { buffer in
                reader.readCode(linear: linear, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<15]))
            }
            if available == 0 && count == 0 { return nil }
            let result = withUnsafeBytes(of: &bytes) { buffer in
                let code = UnsafeRawBufferPointer(rebasing: buffer[0..<available])
                return long64 ? decode64(code) : decode(code, codeSize32: flags.contains(.code32))
            }
            context.instructionAddress = address
            switch result {
            case let .instruction(instruction):
                if Log.isEnabled(.inAsm) {
                    Log.emit(String(format: "0x%08llx: ", linear) + instruction.disassembly(address: UInt32(truncatingIfNeeded: address)))
                }
                context.instruction = instruction
                context.nextAddress = long64 ? address &+ UInt64(instruction.length)
                    : flags.contains(.code32) ? (address &+ UInt64(instruction.length)) & 0xFFFF_FFFF
                    : (address &+ UInt64(instruction.length)) & 0xFFFF
                context.b.instructionStart(address)
                // Operations are as wide as the operand: i64 for 64-bit operands only.
                block.wordType = instruction.operandSize == 64 ? .i64 : .i32
                context.translateInstruction()
                block.wordType = .i32
                address = context.nextAddress
            case .truncated:
                // The rest of the instruction is on a page that cannot be read:
                // a later block will start here and report the fault precisely.
                guard count > 0 else { return nil }
                context.exitBlock(nextEIP: address)
                return TranslatedCode(block: block, instructionCount: count, startLinear: startLinear,
                                      endLinear: linear, addressSize: addressSize)
            case .invalid:
                context.b.instructionStart(address)
                context.raiseException(ExceptionVector.invalidOpcode)
            case .tooLong:
                context.b.instructionStart(address)
                context.raiseException(ExceptionVector.generalProtection)
            }
            count += 1
            if context.blockEnded { break }
            let nextLinear = linearOf(address)
            if count >= maximumInstructions || nextLinear / X86Translator.pageSize != startLinear / X86Translator.pageSize
                || flags.contains(.singleStep) || flags.contains(.interruptShadow)
                || (!stopBefore.isEmpty && stopBefore.contains(nextLinear)) {
                context.jump(to: address, slot: 0)
                break
            }
        }
        return TranslatedCode(block: block, instructionCount: count, startLinear: startLinear,
                              endLinear: linearOf(address), addressSize: addressSize)
    }
}

/// Exception vectors the translator raises.
public enum ExceptionVector {
    public static let divideError: UInt32 = 0
    public static let debug: UInt32 = 1
    public static let breakpoint: UInt32 = 3
    public static let overflow: UInt32 = 4
    public static let boundRange: UInt32 = 5
    public static let invalidOpcode: UInt32 = 6
    public static let deviceNotAvailable: UInt32 = 7
    public static let doubleFault: UInt32 = 8
    public static let invalidTSS: UInt32 = 10
    public static let segmentNotPresent: UInt32 = 11
    public static let stackFault: UInt32 = 12
    public static let generalProtection: UInt32 = 13
    public static let pageFault: UInt32 = 14
    public static let floatingPoint: UInt32 = 16
    public static let alignmentCheck: UInt32 = 17
    public static let simdFloatingPoint: UInt32 = 19
}
