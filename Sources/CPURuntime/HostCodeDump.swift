import X64Backend

/// `-d out_asm`: a block's generated host code as hex, 16 bytes a line with
/// their offsets. `xxd -r` and `objdump -D -b binary -m i386:x86-64`
/// disassemble it.
enum HostCodeDump {
    static func text(of block: CompiledBlock, linearPC: UInt64) -> String {
        let bodyOffset = block.body - block.entry
        var lines = ["host code for 0x\(String(linearPC, radix: 16)) at 0x\(String(UInt(bitPattern: block.entry), radix: 16)), "
                     + "\(block.size) bytes, body at +\(bodyOffset):"]
        let bytes = UnsafeBufferPointer(start: block.entry.assumingMemoryBound(to: UInt8.self), count: block.size)
        var offset = 0
        while offset < bytes.count {
            let row = bytes[offset..<min(offset + 16, bytes.count)]
            lines.append("  " + hex(offset, digits: 4) + ": " + row.map { hex(Int($0), digits: 2) }.joined(separator: " "))
            offset += 16
        }
        return lines.joined(separator: "\n")
    }

    /// `value` in lower-case hex, zero-padded to `digits`.
    private static func hex(_ value: Int, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
