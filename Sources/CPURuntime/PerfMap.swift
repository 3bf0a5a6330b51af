import Glibc

/// Names generated code for Linux `perf`: with PCEMU_PERF_MAP set in the
/// environment, each compiled block is appended to /tmp/perf-PID.map as
/// "start size name" (perf's JIT symbol map format), so `perf report` shows
/// guest blocks by their linear PC instead of unknown addresses. Blocks of a
/// flushed code cache stay listed; perf then picks one of the overlapping names.
final class PerfMap {
    private let file: UnsafeMutablePointer<FILE>

    /// Nil unless PCEMU_PERF_MAP is set and the map file can be opened.
    init?() {
        guard let value = getenv("PCEMU_PERF_MAP"), value.pointee != 0 else { return nil }
        guard let file = fopen("/tmp/perf-\(getpid()).map", "a") else { return nil }
        self.file = file
    }

    deinit { fclose(file) }

    func record(start: UnsafeRawPointer, size: Int, linearPC: UInt64, flags: UInt32) {
        let line = "\(String(UInt(bitPattern: start), radix: 16)) \(String(size, radix: 16)) "
            + "guest_\(String(linearPC, radix: 16))_\(String(flags, radix: 16))\n"
        fputs(line, file)
        fflush(file)
    }
}
