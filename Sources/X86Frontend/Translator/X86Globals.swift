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

    public init() {
        var set = GlobalSet()
        let names = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]
        registers = names.enumerated().map { set.declare($0.element, .i32, offset: CPUStateLayout.register($0.offset)) }
        ccOp = set.declare("cc_op", .i32, offset: CPUStateLayout.ccOp)
        ccSource = set.declare("cc_src", .i32, offset: CPUStateLayout.ccSource)
        ccDestination = set.declare("cc_dst", .i32, offset: CPUStateLayout.ccDestination)
        ccSource2 = set.declare("cc_src2", .i32, offset: CPUStateLayout.ccSource2)
        direction = set.declare("df", .i32, offset: CPUStateLayout.direction)
        self.set = set
    }
}
