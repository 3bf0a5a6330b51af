/// Text form of IR for `-d op` / `-d op_opt` and for optimizer tests:
/// one op a line, `name_type out, in…, extras`.
extension IRBlock: CustomStringConvertible {
    public var description: String {
        ops.map(describe).joined(separator: "\n")
    }

    public func describe(_ op: IROp) -> String {
        func name(_ temp: Temp) -> String {
            guard !temp.isNone else { return "-" }
            return self.name(of: temp) ?? temp.description
        }
        let properties = op.opcode.properties
        var fields: [String] = []
        if properties.outputs > 0, !op.output.isNone { fields.append(name(op.output)) }
        for index in 0..<properties.inputs where !op.input(index).isNone { fields.append(name(op.input(index))) }
        switch op.opcode {
        case .movi: fields.append("$0x" + String(op.constant, radix: 16))
        case .setcond, .movcond, .brcond: fields.append("\(op.condition)")
        case .loadState, .storeState: fields.append("\(op.access) @\(op.constant)")
        case .loadGuest, .storeGuest: fields.append("\(op.access) mmu\(op.constant)")
        case .deposit, .extract, .sextract: fields.append("\(op.aux), \(op.constant)")
        case .call: fields.insert(helpers[op.constant].name, at: 0)
        case .insnStart: fields.append("$0x" + String(op.constant, radix: 16))
        case .exitBlock, .gotoBlock: fields.append("$\(op.constant)")
        case .hostX87, .hostSIMD: fields.append("$0x" + String(op.constant, radix: 16))
        default: break
        }
        if properties.usesLabel { fields.append("L\(op.constant)") }
        let typed = op.opcode == .label || op.opcode == .br || op.opcode == .insnStart
            || op.opcode == .exitBlock || op.opcode == .gotoBlock || op.opcode == .call
            || op.opcode == .hostX87 || op.opcode == .hostSIMD
        let head = typed ? op.opcode.name : "\(op.opcode.name)_\(op.type)"
        return fields.isEmpty ? head : head + " " + fields.joined(separator: ", ")
    }
}
