import X87

/// One instruction of a test case: escape 0-7, ModRM (memory forms use
/// mod 00 rm 001), operand bytes, and the ZF/PF/CF value loaded before it.
struct ScriptInstruction {
    var escape: UInt8
    var modrm: UInt8
    var operand: [UInt8] = []
    var flags: UInt8 = 0x02

    static func register(_ escape: UInt8, _ modrm: UInt8, flags: UInt8 = 0x02) -> ScriptInstruction {
        ScriptInstruction(escape: escape - 0xD8, modrm: modrm, flags: flags)
    }

    /// Memory form `reg` of escape byte `escape` (D8-DF) with the operand's bytes.
    static func memory(_ escape: UInt8, _ reg: UInt8, _ operand: [UInt8] = []) -> ScriptInstruction {
        ScriptInstruction(escape: escape - 0xD8, modrm: reg << 3 | 1, operand: operand)
    }

    var isMemoryForm: Bool { modrm < 0xC0 }

    var text: String {
        var t = hex([escape, modrm])
        if !operand.isEmpty { t += ":" + hex(operand) }
        return t + "/" + hex([flags])
    }
}

/// A test case: the state to FRSTOR, then instructions.
struct ScriptCase {
    var image: [UInt8]
    var instructions: [ScriptInstruction]

    var text: String { ([hex(image)] + instructions.map(\.text)).joined(separator: " ") }

    /// The same case run through the X87 module, printed like the native program.
    func runThroughModule() -> String {
        var state = X87State()
        var restoreImage = image
        restoreImage.withUnsafeMutableBytes { state.restore(.protected32, from: $0.baseAddress!) }
        var out = ""
        for instruction in instructions {
            if state.hasPendingException { break }
            var buffer = [UInt8](repeating: 0, count: 128)
            buffer.replaceSubrange(0..<instruction.operand.count, with: instruction.operand)
            var ax = "----"
            var flags = instruction.flags & 0x45
            if instruction.isMemoryForm {
                let reg = (instruction.modrm >> 3) & 7
                switch X87Encoding.memoryOperand(escape: instruction.escape, reg: reg) {
                case .bytes(let size):
                    var operand = X87Operand(low: littleEndian(buffer[0..<8]), high: UInt16(littleEndian(buffer[8..<10])))
                    let outcome = state.executeMemoryForm(escape: instruction.escape, reg: reg, operand: &operand)
                    if outcome.effects.contains(.storesMemory) {
                        for i in 0..<size {
                            buffer[i] = i < 8 ? UInt8(truncatingIfNeeded: operand.low >> (8 * i))
                                              : UInt8(truncatingIfNeeded: operand.high >> (8 * (i - 8)))
                        }
                    }
                case .environment:
                    buffer.withUnsafeMutableBytes {
                        if reg == 4 { state.loadEnvironment(.protected32, from: $0.baseAddress!) }
                        else { state.storeEnvironment(.protected32, to: $0.baseAddress!) }
                    }
                case .saveArea:
                    buffer.withUnsafeMutableBytes {
                        if reg == 4 { state.restore(.protected32, from: $0.baseAddress!) }
                        else { state.save(.protected32, to: $0.baseAddress!) }
                    }
                case .none:
                    return "reserved encoding \(instruction.text)"
                }
                if reg == 6 && (instruction.escape == 1 || instruction.escape == 5) {
                    for i in 12..<28 { buffer[i] = 0 }
                }
            } else {
                let outcome = state.executeRegisterForm(escape: instruction.escape, modrm: instruction.modrm,
                                                        eflags: UInt32(instruction.flags))
                if outcome.effects.contains(.invalidOpcode) { return "reserved encoding \(instruction.text)" }
                if instruction.escape == 7 && instruction.modrm == 0xE0 {
                    ax = hex([UInt8(outcome.ax >> 8), UInt8(outcome.ax & 0xFF)])
                }
                if outcome.effects.contains(.writesEFLAGS) { flags = UInt8(outcome.eflags) & 0x45 }
            }
            out += " " + hex(Array(buffer[0..<108])) + ":" + ax + ":" + hex([flags])
        }
        var fx = [UInt8](repeating: 0, count: 512)
        fx.withUnsafeMutableBytes { state.fxsave(to: $0.baseAddress!) }
        for i in 6..<32 { fx[i] = 0 }
        var saved = [UInt8](repeating: 0, count: 108)
        saved.withUnsafeMutableBytes { state.save(.protected32, to: $0.baseAddress!) }
        for i in 12..<28 { saved[i] = 0 }
        return out + " | " + hex(Array(fx[0..<160])) + " " + hex(saved)
    }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 15)])
    }
    return String(decoding: out, as: UTF8.self)
}

func littleEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    var v: UInt64 = 0
    for (i, b) in bytes.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
    return v
}

func bytes(_ value: UInt64, count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
}

func bytes(_ value: X87Register) -> [UInt8] {
    bytes(value.significand, count: 8) + bytes(UInt64(value.signExponent), count: 2)
}

/// An FRSTOR image (32-bit protected layout) with the given control word,
/// status word (TOP included) and ST(0)-ST(7); `empty` lists the empty ST(i).
func frstorImage(controlWord: UInt16 = 0x037F, statusWord: UInt16 = 0, registers: [X87Register],
                 empty: Set<Int>? = nil) -> [UInt8] {
    let top = Int(statusWord >> 11) & 7
    var tags: UInt16 = 0
    let emptyST = empty ?? Set(registers.count..<8)
    for st in 0..<8 where emptyST.contains(st) {
        tags |= 3 << UInt16(((top + st) & 7) * 2)
    }
    var image = bytes(UInt64(controlWord), count: 4) + bytes(UInt64(statusWord), count: 4)
        + bytes(UInt64(tags), count: 4) + [UInt8](repeating: 0, count: 16)
    for st in 0..<8 {
        image += bytes(st < registers.count ? registers[st] : X87Register())
    }
    return image
}
