import Foundation
import PCEmuSupport

/// The guest's RAM: one anonymous mmap'd block, pinned for the life of the
/// machine, so generated code and the TLB can hold plain host pointers into it.
public final class GuestRAM {
    public let base: UnsafeMutableRawPointer
    public let size: Int

    /// Pages are 4 KiB everywhere in PCEmu: the guest's page size and the TLB's.
    public static let pageSize = 4096

    public init(size: Int) throws {
        guard size > 0, size % GuestRAM.pageSize == 0 else {
            throw EmulatorError.configuration("guest RAM size \(size) is not a positive multiple of 4 KiB")
        }
        let hostBytes = GuestRAM.hostMemoryBytes
        guard UInt64(size) <= hostBytes else {
            throw EmulatorError.badOption("-m", "\(size >> 20) MiB of guest RAM is more than the host's \(hostBytes >> 20) MiB of memory")
        }
        // Reserved, not committed: the host gives a page only when the guest first touches it.
        let pointer = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let pointer, pointer != MAP_FAILED else {
            throw EmulatorError.configuration("cannot reserve \(size >> 20) MiB of guest RAM: \(String(cString: strerror(errno)))")
        }
        base = pointer
        self.size = size
    }

    deinit { munmap(base, size) }

    /// The host's physical memory: a guest may have as much, not more.
    public static var hostMemoryBytes: UInt64 {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageBytes = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageBytes > 0 else { return .max }
        return UInt64(pages) &* UInt64(pageBytes)
    }

    /// Host pointer for a RAM offset; the caller has checked the range.
    @inline(__always)
    public func uncheckedPointer(at offset: Int) -> UnsafeMutableRawPointer {
        base + offset
    }

    /// Copies bytes into RAM, for loaders (firmware, kernels). Throws if they do not fit.
    public func load(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        guard offset >= 0, bytes.count <= size - offset else {
            throw EmulatorError.configuration("\(bytes.count) bytes do not fit in guest RAM at 0x\(String(offset, radix: 16))")
        }
        if let source = bytes.baseAddress { (base + offset).copyMemory(from: source, byteCount: bytes.count) }
    }
}
