import Memory

/// A bus-mastering device's view of guest physical memory: copies in and
/// out page by page, RAM directly and anything else (ROM, MMIO, holes,
/// addresses past the physical address space) through the bus, so a
/// guest-given address can never reach host memory outside the guest's.
/// Writes are reported (`memoryWritten`) so the CPU can drop code
/// translated from the pages they changed.
///
/// Addresses are 64-bit physical addresses, RAM above 4 GiB included; the
/// `UInt32` forms are for devices with 32-bit addresses, which wrap at 4 GiB
/// as such a bus master's counter does.
public struct GuestMemoryDMA {
    let memory: AddressSpace
    let memoryWritten: (PhysicalAddress, Int) -> Void

    public init(memory: AddressSpace, memoryWritten: @escaping (PhysicalAddress, Int) -> Void) {
        self.memory = memory
        self.memoryWritten = memoryWritten
    }

    /// Whether the byte `done` bytes after `address` is past the top of the 64-bit
    /// space: there is nothing there, and nothing wraps round to address 0.
    @inline(__always)
    private static func overflows(_ address: PhysicalAddress, _ done: Int) -> Bool {
        PhysicalAddress(done) > PhysicalAddress.max - address
    }

    /// RAM's host pointer for the page holding `address`, nil for anything else.
    @inline(__always)
    private func ramPointer(_ address: PhysicalAddress) -> UnsafeMutableRawPointer? {
        guard memory.backingKind(at: address) == .ram else { return nil }
        return memory.hostPointer(at: address)
    }

    public func write(_ address: PhysicalAddress, _ bytes: UnsafeRawBufferPointer) {
        var done = 0
        while done < bytes.count {
            let target = address &+ PhysicalAddress(done)
            let chunk = min(bytes.count - done, 4096 - Int(target & 0xFFF))
            if GuestMemoryDMA.overflows(address, done) || memory.backingKind(at: target) == .none {
                // Nothing there (regions are page aligned): the whole chunk is dropped.
            } else if let pointer = ramPointer(target) {
                pointer.copyMemory(from: bytes.baseAddress! + done, byteCount: chunk)
            } else {
                for i in 0..<chunk { memory.write(target &+ PhysicalAddress(i), value: UInt32(bytes[done + i]), size: .byte) }
            }
            done += chunk
        }
        if !bytes.isEmpty { memoryWritten(address, bytes.count) }
    }

    public func read(_ address: PhysicalAddress, into buffer: UnsafeMutableRawBufferPointer) {
        var done = 0
        while done < buffer.count {
            let source = address &+ PhysicalAddress(done)
            let chunk = min(buffer.count - done, 4096 - Int(source & 0xFFF))
            if GuestMemoryDMA.overflows(address, done) || memory.backingKind(at: source) == .none {
                // Nothing there: all ones, as the bus reads it.
                (buffer.baseAddress! + done).initializeMemory(as: UInt8.self, repeating: 0xFF, count: chunk)
            } else if let pointer = ramPointer(source) {
                (buffer.baseAddress! + done).copyMemory(from: pointer, byteCount: chunk)
            } else {
                for i in 0..<chunk { buffer[done + i] = UInt8(truncatingIfNeeded: memory.read(source &+ PhysicalAddress(i), size: .byte)) }
            }
            done += chunk
        }
    }

    public func write(_ address: PhysicalAddress, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write(address, $0) }
    }

    public func read(_ address: PhysicalAddress, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { read(address, into: $0) }
        return bytes
    }

    public func readDword(_ address: PhysicalAddress) -> UInt32 { memory.read(address, size: .dword) }

    public func writeDword(_ address: PhysicalAddress, _ value: UInt32) {
        memory.write(address, value: value, size: .dword)
        memoryWritten(address, 4)
    }

    // MARK: 32-bit bus masters

    /// How many bytes from `address` come before a 32-bit address wraps to 0.
    @inline(__always)
    private static func bytesBeforeWrap(_ address: UInt32, _ count: Int) -> Int {
        min(count, Int(AddressSpace.lowLimit - PhysicalAddress(address)))
    }

    public func write(_ address: UInt32, _ bytes: UnsafeRawBufferPointer) {
        let first = GuestMemoryDMA.bytesBeforeWrap(address, bytes.count)
        write(PhysicalAddress(address), UnsafeRawBufferPointer(rebasing: bytes[..<first]))
        if first < bytes.count { write(PhysicalAddress(0), UnsafeRawBufferPointer(rebasing: bytes[first...])) }
    }

    public func write(_ address: UInt32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write(address, $0) }
    }

    public func read(_ address: UInt32, into buffer: UnsafeMutableRawBufferPointer) {
        let first = GuestMemoryDMA.bytesBeforeWrap(address, buffer.count)
        read(PhysicalAddress(address), into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<first]))
        if first < buffer.count { read(PhysicalAddress(0), into: UnsafeMutableRawBufferPointer(rebasing: buffer[first...])) }
    }

    public func read(_ address: UInt32, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { read(address, into: $0) }
        return bytes
    }

    public func readDword(_ address: UInt32) -> UInt32 { readDword(PhysicalAddress(address)) }

    public func writeDword(_ address: UInt32, _ value: UInt32) { writeDword(PhysicalAddress(address), value) }
}
