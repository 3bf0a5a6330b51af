import Memory

/// A bus-mastering device's view of guest physical memory: copies in and
/// out page by page, RAM directly and anything else (ROM, MMIO, holes)
/// through the bus, so a guest-given address can never reach host memory
/// outside the guest's. Writes are reported (`memoryWritten`) so the CPU
/// can drop code translated from the pages they changed.
public struct GuestMemoryDMA {
    let memory: AddressSpace
    let memoryWritten: (UInt32, Int) -> Void

    public init(memory: AddressSpace, memoryWritten: @escaping (UInt32, Int) -> Void) {
        self.memory = memory
        self.memoryWritten = memoryWritten
    }

    public func write(_ address: UInt32, _ bytes: UnsafeRawBufferPointer) {
        var done = 0
        while done < bytes.count {
            let target = PhysicalAddress(address &+ UInt32(done))
            let chunk = min(bytes.count - done, 4096 - Int(target & 0xFFF))
            if let region = memory.region(at: target), case .ram = region.kind, let pointer = memory.hostPointer(at: target) {
                pointer.copyMemory(from: bytes.baseAddress! + done, byteCount: chunk)
            } else {
                for i in 0..<chunk { memory.write(target &+ PhysicalAddress(i), value: UInt32(bytes[done + i]), size: .byte) }
            }
            done += chunk
        }
        if !bytes.isEmpty { memoryWritten(address, bytes.count) }
    }

    public func write(_ address: UInt32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write(address, $0) }
    }

    public func read(_ address: UInt32, into buffer: UnsafeMutableRawBufferPointer) {
        var done = 0
        while done < buffer.count {
            let source = PhysicalAddress(address &+ UInt32(done))
            let chunk = min(buffer.count - done, 4096 - Int(source & 0xFFF))
            if let region = memory.region(at: source), case .ram = region.kind, let pointer = memory.hostPointer(at: source) {
                (buffer.baseAddress! + done).copyMemory(from: pointer, byteCount: chunk)
            } else {
                for i in 0..<chunk { buffer[done + i] = UInt8(truncatingIfNeeded: memory.read(source &+ PhysicalAddress(i), size: .byte)) }
            }
            done += chunk
        }
    }

    public func read(_ address: UInt32, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { read(address, into: $0) }
        return bytes
    }

    public func readDword(_ address: UInt32) -> UInt32 { memory.read(PhysicalAddress(address), size: .dword) }

    public func writeDword(_ address: UInt32, _ value: UInt32) {
        memory.write(PhysicalAddress(address), value: value, size: .dword)
        memoryWritten(address, 4)
    }
}
