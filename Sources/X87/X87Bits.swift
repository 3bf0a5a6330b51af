/// Bit masks of the control and status words (SDM Vol. 1, 8.1.3 and 8.1.5).
public enum X87Bits {
    // Exception flags (status word) and masks (control word) share bits 0-5.
    public static let invalid: UInt16 = 0x0001       // IE / IM
    public static let denormal: UInt16 = 0x0002      // DE / DM
    public static let zeroDivide: UInt16 = 0x0004    // ZE / ZM
    public static let overflow: UInt16 = 0x0008      // OE / OM
    public static let underflow: UInt16 = 0x0010     // UE / UM
    public static let precision: UInt16 = 0x0020     // PE / PM
    public static let exceptions: UInt16 = 0x003F

    // Status word.
    public static let stackFault: UInt16 = 0x0040    // SF
    public static let errorSummary: UInt16 = 0x0080  // ES
    public static let c0: UInt16 = 0x0100
    public static let c1: UInt16 = 0x0200
    public static let c2: UInt16 = 0x0400
    public static let c3: UInt16 = 0x4000
    public static let conditionCodes: UInt16 = 0x4700
    public static let topShift: UInt16 = 11
    public static let topMask: UInt16 = 0x3800
    public static let busy: UInt16 = 0x8000          // B, mirrors ES on P6 and later

    // Control word.
    public static let precisionControlShift: UInt16 = 8  // PC: 0 single, 2 double, 3 extended
    public static let roundingControlShift: UInt16 = 10  // RC: 0 nearest, 1 down, 2 up, 3 toward zero
    public static let infinityControl: UInt16 = 0x1000   // X, kept but without effect since the 387

    // EFLAGS bits written by FCOMI/FUCOMI and read by FCMOVcc.
    public static let carryFlag: UInt32 = 0x01
    public static let parityFlag: UInt32 = 0x04
    public static let zeroFlag: UInt32 = 0x40
}
