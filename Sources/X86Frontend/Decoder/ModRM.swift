/// Decoding of the memory operand of a ModRM byte with mod != 11 (SDM Vol. 2,
/// Tables 2-1 to 2-3), including the SIB byte and the displacement.
extension ByteReader {
    mutating func memoryOperand(mod: UInt8, rm: UInt8, addressSize32: Bool,
                                override: SegmentRegister?) throws(DecodeStop) -> MemoryOperand {
        var operand = MemoryOperand.none
        var stackBased = false
        if addressSize32 {
            if rm == 4 {
                let sib = try byte()
                let base = sib & 7, index = (sib >> 3) & 7
                operand.scaleShift = sib >> 6
                // Index 100 means "no index" (ESP cannot be an index).
                operand.index = index == 4 ? MemoryOperand.noRegister : index
                if base == 5 && mod == 0 {
                    operand.displacement = Int32(bitPattern: try value(bytes: 4))
                } else {
                    operand.base = base
                }
            } else if rm == 5 && mod == 0 {
                operand.displacement = Int32(bitPattern: try value(bytes: 4))
            } else {
                operand.base = rm
            }
            stackBased = operand.base == 4 || operand.base == 5
            if mod == 1 {
                operand.displacement = Int32(bitPattern: try signExtendedByte())
            } else if mod == 2 {
                operand.displacement = Int32(bitPattern: try value(bytes: 4))
            }
        } else {
            // rm: [bx+si] [bx+di] [bp+si] [bp+di] [si] [di] [bp] [bx]
            let bx: UInt8 = 3, bp: UInt8 = 5, si: UInt8 = 6, di: UInt8 = 7
            switch rm {
            case 0: operand.base = bx; operand.index = si
            case 1: operand.base = bx; operand.index = di
            case 2: operand.base = bp; operand.index = si
            case 3: operand.base = bp; operand.index = di
            case 4: operand.base = si
            case 5: operand.base = di
            case 6: if mod != 0 { operand.base = bp }
            default: operand.base = bx
            }
            stackBased = operand.base == bp
            if mod == 0 && rm == 6 || mod == 2 {
                operand.displacement = Int32(bitPattern: try signExtendedWord())
            } else if mod == 1 {
                operand.displacement = Int32(bitPattern: try signExtendedByte())
            }
        }
        if let override {
            operand.segment = override
            operand.segmentIsDefault = false
        } else {
            operand.segment = stackBased ? .ss : .ds
        }
        return operand
    }
}
