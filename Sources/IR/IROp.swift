/// One IR operation: an opcode with up to one output and four inputs, and
/// the immediate fields some opcodes use. A plain value stored in a flat array.
public struct IROp: Sendable {
    public var opcode: IROpcode
    public var type: IRType
    /// Condition, memory access or bit position, by opcode.
    public var aux: UInt8
    public var output: Temp
    public var inputs: (Temp, Temp, Temp, Temp)
    /// movi's value, a state offset, a helper index, an instruction address,
    /// an exit code, a label id, an MMU index or a field size, by opcode.
    public var constant: UInt64

    public init(_ opcode: IROpcode, _ type: IRType = .i32, output: Temp = .none,
                inputs: (Temp, Temp, Temp, Temp) = (.none, .none, .none, .none),
                aux: UInt8 = 0, constant: UInt64 = 0) {
        self.opcode = opcode
        self.type = type
        self.aux = aux
        self.output = output
        self.inputs = inputs
        self.constant = constant
    }

    @inline(__always)
    public func input(_ index: Int) -> Temp {
        switch index {
        case 0: return inputs.0
        case 1: return inputs.1
        case 2: return inputs.2
        default: return inputs.3
        }
    }

    public mutating func setInput(_ index: Int, _ temp: Temp) {
        switch index {
        case 0: inputs.0 = temp
        case 1: inputs.1 = temp
        case 2: inputs.2 = temp
        default: inputs.3 = temp
        }
    }

    public var condition: Condition { Condition(rawValue: aux) ?? .never }
    public var access: MemoryAccess { MemoryAccess(rawValue: aux) }
    public var label: Label { Label(id: UInt32(truncatingIfNeeded: constant)) }

    /// The inputs that are present.
    public var presentInputs: [Temp] {
        (0..<opcode.properties.inputs).map(input).filter { !$0.isNone }
    }
}
