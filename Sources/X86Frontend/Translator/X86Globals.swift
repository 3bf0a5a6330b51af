import IR
import X86State

/// The CPU-state fields translated code works on as IR globals.
public struct X86Globals {
    public let set: GlobalSet
    /// EAX..EDI, as i32 views of the 64-bit registers.
    public let registers: [Temp]
    public let ccOp: Temp
    public let ccSource: Temp
    public let ccDestination: Temp
    public let ccSource2: Temp
    /// +1 / -1: the string step.
    public let direction: Temp
    /// FOP, FIP and FDP as host-run x87 instructions record them. As
    /// globals, a run of records costs no stores: the last values reach the
    /// state where anything could look (a fault's miss path, a helper, the
    /// block's end). FOP's field is 16 bits followed by padding, so the i32
    /// global may cover it.
    public let x87Opcode: Temp
    public let x87InstructionPointer: Temp
    public let x87DataPointer: Temp
    /// 64-bit mode's views: RAX..R15 and the lazy-flags values as i64, over
    /// the same fields. A block is in one mode and uses one set of views.
    public let registers64: [Temp]
    public let ccSource64: Temp
    public let ccDestination64: Temp
    public let ccSource2_64: Temp

    public init() {
        var set = GlobalSet()
        let names = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]
        registers = names.enumerated().map { set.declare($0.element, .i32, offset: CPUStateLayout.register($0.offset)) }
        ccOp = set.declare("cc_op", .i32, offset: CPUStateLayout.ccOp)
        ccSource = set.declare("cc_src", .i32, offset: CPUStateLayout.ccSource)
        ccDestination = set.declare("cc_dst", .i32, offset: CPUStateLayout.ccDestination)
        ccSource2 = set.declare("cc_src2", .i32, offset: CPUStateLayout.ccSource2)
        direction = set.declare("df", .i32, offset: CPUStateLayout.direction)
        x87Opcode = set.declare("fop", .i32, offset: CPUStateLayout.x87Opcode)
        x87InstructionPointer = set.declare("fip", .i32, offset: CPUStateLayout.x87InstructionPointer)
        x87DataPointer = set.declare("fdp", .i32, offset: CPUStateLayout.x87DataPointer)
        let names64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"] + (8...15).map { "r\($0)" }
        registers64 = names64.enumerated().map { set.declare($0.element, .i64, offset: CPUStateLayout.register($0.offset)) }
        ccSource64 = set.declare("cc_src64", .i64, offset: CPUStateLayout.ccSource)
        ccDestination64 = set.declare("cc_dst64", .i64, offset: CPUStateLayout.ccDestination)
        ccSource2_64 = set.declare("cc_src2_64", .i64, offset: CPUStateLayout.ccSource2)
        self.set = set
    }
}
