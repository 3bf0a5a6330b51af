/// The x87 part of the 512-byte FXSAVE/FXRSTOR image (SDM Vol. 1, Table
/// 10-2, 32-bit format): bytes 0-23 and the registers at 32-159. MXCSR
/// (24-31) and the XMM registers belong to the CPU layer.
extension X87State {
    public func fxsave(to memory: UnsafeMutableRawPointer) {
        func put16(_ offset: Int, _ value: UInt16) { (memory + offset).storeBytes(of: value.littleEndian, as: UInt16.self) }
        func put32(_ offset: Int, _ value: UInt32) { (memory + offset).storeBytes(of: value.littleEndian, as: UInt32.self) }
        put16(0, controlWord)
        put16(2, statusWord)
        memory.storeBytes(of: tagValid, toByteOffset: 4, as: UInt8.self)
        memory.storeBytes(of: 0, toByteOffset: 5, as: UInt8.self)
        put16(6, fop & 0x7FF)
        put32(8, fip)
        put16(12, fcs)
        put16(14, 0)
        put32(16, fdp)
        put16(20, fds)
        put16(22, 0)
        for i in 0..<8 {
            let value = self[st: i]
            let slot = memory + 32 + i * 16
            slot.storeBytes(of: value.significand.littleEndian, as: UInt64.self)
            (slot + 8).storeBytes(of: value.signExponent.littleEndian, as: UInt16.self)
            (slot + 10).storeBytes(of: 0, as: UInt16.self)
            (slot + 12).storeBytes(of: 0, as: UInt32.self)
        }
    }

    public mutating func fxrstor(from memory: UnsafeRawPointer) {
        func get16(_ offset: Int) -> UInt16 { UInt16(littleEndian: (memory + offset).loadUnaligned(as: UInt16.self)) }
        func get32(_ offset: Int) -> UInt32 { UInt32(littleEndian: (memory + offset).loadUnaligned(as: UInt32.self)) }
        controlWord = get16(0)
        statusWord = get16(2)
        tagValid = memory.load(fromByteOffset: 4, as: UInt8.self)
        fop = get16(6) & 0x7FF
        fip = get32(8)
        fcs = get16(12)
        fdp = get32(16)
        fds = get16(20)
        for i in 0..<8 {
            let slot = memory + 32 + i * 16
            self[st: i] = X87Register(significand: UInt64(littleEndian: slot.loadUnaligned(as: UInt64.self)),
                                      signExponent: UInt16(littleEndian: (slot + 8).loadUnaligned(as: UInt16.self)))
        }
    }
}
