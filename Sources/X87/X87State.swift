/// The architectural x87 state: a plain value with a fixed layout and no
/// references, meant to be embedded in the CPU's state struct.
///
/// The tag word is kept abridged (one "holds a value" bit per physical
/// register, as FXSAVE stores it): only empty versus non-empty affects
/// execution, and the full 2-bit tags are computed from the register contents
/// when FSTENV/FSAVE write them out, as the hardware does.
public struct X87State: Sendable {
    /// Physical registers R0-R7 (ST(i) is R((TOP + i) mod 8)).
    public var registers: (X87Register, X87Register, X87Register, X87Register,
                           X87Register, X87Register, X87Register, X87Register)
    public var controlWord: UInt16
    /// The status word, TOP included (bits 11-13).
    public var statusWord: UInt16
    /// Bit i set: physical register i is not empty.
    public var tagValid: UInt8
    /// Last non-control instruction: opcode (11 bits: low 3 bits of the escape
    /// byte, then the ModRM byte), instruction pointer and selector, and its
    /// memory operand's offset and selector. In real mode the pointers are the
    /// linear addresses the CPU layer records.
    public var fop: UInt16
    public var fip: UInt32
    public var fcs: UInt16
    public var fdp: UInt32
    public var fds: UInt16

    /// The state after FNINIT.
    public init() {
        let zero = X87Register()
        registers = (zero, zero, zero, zero, zero, zero, zero, zero)
        controlWord = 0x037F
        statusWord = 0
        tagValid = 0
        fop = 0
        fip = 0
        fcs = 0
        fdp = 0
        fds = 0
    }

    /// The state after RESET (SDM Vol. 3, Table 9-1): CW 0040H, all registers +0.0 and tagged valid/zero.
    public static var afterReset: X87State {
        var s = X87State()
        s.controlWord = 0x0040
        s.tagValid = 0xFF
        return s
    }

    @inline(__always)
    public var top: Int {
        get { Int((statusWord & X87Bits.topMask) >> X87Bits.topShift) }
        set { statusWord = (statusWord & ~X87Bits.topMask) | (UInt16(newValue & 7) << X87Bits.topShift) }
    }

    /// True when an unmasked exception is pending: the next waiting x87
    /// instruction (and WAIT/FWAIT) must raise #MF (or signal FERR#) first.
    @inline(__always)
    public var hasPendingException: Bool { statusWord & X87Bits.errorSummary != 0 }

    @inline(__always)
    public func physicalIndex(st i: Int) -> Int { (top &+ i) & 7 }

    /// Physical register access without arrays: the tuple's elements sit 16 bytes apart.
    @inline(__always)
    public subscript(physical index: Int) -> X87Register {
        get {
            withUnsafeBytes(of: registers) {
                $0.load(fromByteOffset: (index & 7) &* MemoryLayout<X87Register>.stride, as: X87Register.self)
            }
        }
        set {
            withUnsafeMutableBytes(of: &registers) {
                $0.storeBytes(of: newValue, toByteOffset: (index & 7) &* MemoryLayout<X87Register>.stride,
                              as: X87Register.self)
            }
        }
    }

    @inline(__always)
    public subscript(st i: Int) -> X87Register {
        get { self[physical: physicalIndex(st: i)] }
        set { self[physical: physicalIndex(st: i)] = newValue }
    }

    @inline(__always)
    public func isEmpty(st i: Int) -> Bool { tagValid & (1 << UInt8(physicalIndex(st: i))) == 0 }

    @inline(__always)
    public mutating func setValid(st i: Int) { tagValid |= 1 << UInt8(physicalIndex(st: i)) }

    @inline(__always)
    public mutating func setEmpty(st i: Int) { tagValid &= ~(1 << UInt8(physicalIndex(st: i))) }

    /// Writes ST(i) and tags it as holding a value.
    @inline(__always)
    public mutating func write(st i: Int, _ value: X87Register) {
        self[st: i] = value
        setValid(st: i)
    }

    @inline(__always)
    public mutating func push(_ value: X87Register) {
        top = (top &- 1) & 7
        write(st: 0, value)
    }

    @inline(__always)
    public mutating func pop() {
        setEmpty(st: 0)
        top = (top &+ 1) & 7
    }

    /// The full tag word (2 bits per physical register) as FSTENV/FSAVE store it.
    public var fullTagWord: UInt16 {
        var word: UInt16 = 0
        for index in 0..<8 {
            let tag: UInt16 = tagValid & (1 << UInt8(index)) == 0 ? 3 : self[physical: index].tag
            word |= tag << UInt16(index * 2)
        }
        return word
    }

    /// Sets the abridged tags from a full tag word: only "empty" (11) matters.
    public mutating func setFullTagWord(_ word: UInt16) {
        var valid: UInt8 = 0
        for index in 0..<8 where (word >> UInt16(index * 2)) & 3 != 3 {
            valid |= 1 << UInt8(index)
        }
        tagValid = valid
    }
}
