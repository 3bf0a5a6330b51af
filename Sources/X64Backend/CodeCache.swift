import Glibc

/// The memory generated code runs from: one fixed-size region, filled from
/// the start and flushed whole when full (but for the shared code at its
/// start, which stays).
///
/// The region is mapped twice from one memfd: a read-write view the
/// generator writes (and, later, chaining patches) and a read-execute view
/// the code runs from. No page is ever writable and executable at once, and
/// no mprotect call is needed per block. If memfd is unavailable (old
/// kernel, sandbox) it falls back to one read-write-execute mapping.
public final class CodeCache {
    public let capacity: Int
    /// Where code is written.
    private let writable: UnsafeMutableRawPointer
    /// Where the same bytes are executed (equal to `writable` in the fallback).
    private let executable: UnsafeMutableRawPointer
    public private(set) var used = 0
    /// Bytes at the start that every block may jump to (`installShared`): flushes keep them.
    public private(set) var sharedBytes = 0
    /// Bumped by every flush: code compiled in an older generation is gone.
    public private(set) var generation = 0
    public let isDualMapped: Bool

    /// `dualMapped: false` asks for the single read-write-execute mapping:
    /// perf reads a JIT symbol map only for anonymous memory, not a memfd.
    public init(capacity: Int = 32 << 20, dualMapped: Bool = true) throws {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let size = (capacity + pageSize - 1) / pageSize * pageSize
        self.capacity = size
        if dualMapped, let (writable, executable) = CodeCache.dualMapping(size: size) {
            self.writable = writable
            self.executable = executable
            isDualMapped = true
        } else {
            guard let memory = mmap(nil, size, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  memory != MAP_FAILED else { throw CodeCacheError.mapFailed(errno) }
            writable = memory
            executable = memory
            isDualMapped = false
        }
    }

    deinit {
        munmap(writable, capacity)
        if isDualMapped { munmap(executable, capacity) }
    }

    /// Copies `code` into the cache and returns its executable address, or
    /// nil when it does not fit (the caller flushes and compiles again).
    public func install(_ code: [UInt8]) -> UnsafeRawPointer? {
        code.withUnsafeBytes { install($0) }
    }

    /// The same, from bytes the caller owns.
    public func install(_ code: UnsafeRawBufferPointer) -> UnsafeRawPointer? {
        let start = (used + 15) & ~15  // align blocks for the decoder's fetch
        guard start + code.count <= capacity else { return nil }
        if let source = code.baseAddress { (writable + start).copyMemory(from: source, byteCount: code.count) }
        used = start + code.count
        return UnsafeRawPointer(executable + start)
    }

    /// Installs code that blocks jump to at the start of the cache, before
    /// any block; flushes leave it in place, at the same address.
    public func installShared(_ code: UnsafeRawBufferPointer) -> UnsafeRawPointer? {
        precondition(used == sharedBytes, "shared code goes in before any block")
        guard let start = install(code) else { return nil }
        sharedBytes = used
        return start
    }

    /// Rewrites the rel32 field at `site` (an executable address) so the jump it
    /// ends reaches `target`, writing through the writable view.
    public func patchRelative32(at site: UnsafeRawPointer, target: UnsafeRawPointer) {
        let offset = site - UnsafeRawPointer(executable)
        precondition(offset >= 0 && offset + 4 <= used, "patching outside the cache")
        let distance = Int32(truncatingIfNeeded: target - (site + 4))
        (writable + offset).storeBytes(of: distance, as: Int32.self)
    }

    /// Rewrites the 64-bit value at `site` (an executable address).
    public func patch64(at site: UnsafeRawPointer, _ value: UInt64) {
        let offset = site - UnsafeRawPointer(executable)
        precondition(offset >= 0 && offset + 8 <= used, "patching outside the cache")
        (writable + offset).storeBytes(of: value, as: UInt64.self)
    }

    /// Where an executable address lies from the cache's start, and back.
    public func offset(of address: UnsafeRawPointer) -> Int { address - UnsafeRawPointer(executable) }
    public func executableAddress(_ offset: Int) -> UnsafeRawPointer { UnsafeRawPointer(executable + offset) }

    /// Forgets every block; their addresses must not be called again.
    public func flush() {
        used = sharedBytes
        generation += 1
    }

    /// Whether `address` lies in the executable view (for tests and chaining).
    public func contains(_ address: UnsafeRawPointer) -> Bool {
        address >= UnsafeRawPointer(executable) && address < UnsafeRawPointer(executable + capacity)
    }

    private typealias MemfdCreate = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32

    /// memfd_create is looked up at run time: Swift's Glibc module does not declare it.
    private static func dualMapping(size: Int) -> (UnsafeMutableRawPointer, UnsafeMutableRawPointer)? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "memfd_create") else { return nil }
        let memfdCreate = unsafeBitCast(symbol, to: MemfdCreate.self)
        let descriptor = memfdCreate("pcemu-code-cache", 1 /* MFD_CLOEXEC */)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        guard ftruncate(descriptor, off_t(size)) == 0 else { return nil }
        guard let writable = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0), writable != MAP_FAILED else {
            return nil
        }
        guard let executable = mmap(nil, size, PROT_READ | PROT_EXEC, MAP_SHARED, descriptor, 0), executable != MAP_FAILED else {
            munmap(writable, size)
            return nil
        }
        return (writable, executable)
    }
}

public enum CodeCacheError: Error, CustomStringConvertible {
    case mapFailed(Int32)

    public var description: String { "cannot map the code cache: errno \(self)" }
}
