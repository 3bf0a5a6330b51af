import Foundation

/// Log categories, selected with `-d LIST` as in QEMU. Each is one bit of a mask
/// so that a disabled category costs one load and one test.
public struct LogCategory: OptionSet, Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static let inAsm = LogCategory(rawValue: 1 << 0)       // guest code as it is translated
    public static let op = LogCategory(rawValue: 1 << 1)          // IR before optimisation
    public static let opOpt = LogCategory(rawValue: 1 << 2)       // IR after optimisation
    public static let outAsm = LogCategory(rawValue: 1 << 3)      // generated host code
    public static let interrupts = LogCategory(rawValue: 1 << 4)  // interrupts and exceptions
    public static let exec = LogCategory(rawValue: 1 << 5)        // each translation block run
    public static let cpu = LogCategory(rawValue: 1 << 6)         // CPU state before each block
    public static let cpuReset = LogCategory(rawValue: 1 << 7)
    public static let unimplemented = LogCategory(rawValue: 1 << 8)
    public static let guestErrors = LogCategory(rawValue: 1 << 9) // nonsense the guest asked for
    public static let mmu = LogCategory(rawValue: 1 << 10)
    public static let ioport = LogCategory(rawValue: 1 << 11)     // every port access
    public static let pcall = LogCategory(rawValue: 1 << 12)      // far calls, gates, task switches
    public static let timer = LogCategory(rawValue: 1 << 13)      // the event scheduler
    public static let device = LogCategory(rawValue: 1 << 14)     // device models' own notes

    /// The names accepted by `-d`, with what each shows (printed by `-d help`).
    public static let named: [(name: String, category: LogCategory, help: String)] = [
        ("in_asm", .inAsm, "show guest code as it is translated"),
        ("op", .op, "show the IR of each translated block"),
        ("op_opt", .opOpt, "show the IR after optimisation"),
        ("out_asm", .outAsm, "show the generated host code"),
        ("int", .interrupts, "show interrupts and exceptions"),
        ("exec", .exec, "show each translation block executed"),
        ("cpu", .cpu, "show the CPU state before each block"),
        ("cpu_reset", .cpuReset, "show the CPU state at reset"),
        ("unimp", .unimplemented, "log what the guest used that is not implemented"),
        ("guest_errors", .guestErrors, "log invalid operations the guest asked for"),
        ("mmu", .mmu, "log page walks and TLB flushes"),
        ("ioport", .ioport, "log every I/O port access"),
        ("pcall", .pcall, "log far calls, gates and task switches"),
        ("timer", .timer, "log the event scheduler"),
        ("device", .device, "log device models' notes"),
    ]

    /// Parses a comma-separated `-d` list. Throws on an unknown name.
    public static func parse(_ list: String) throws -> LogCategory {
        var result: LogCategory = []
        for name in list.split(separator: ",", omittingEmptySubsequences: true) {
            guard let entry = named.first(where: { $0.name == name }) else {
                throw EmulatorError.badOption("-d", "unknown log category '\(name)' (try -d help)")
            }
            result.insert(entry.category)
        }
        return result
    }
}

/// Where log lines go. One process-wide sink, like QEMU's qemu_log: the categories
/// mask is read on hot paths, so it is a plain global, written only at start-up.
public enum Log {
    public nonisolated(unsafe) static var enabled: LogCategory = []
    nonisolated(unsafe) private static var output: UnsafeMutablePointer<FILE>? = nil
    private static let lock = NSLock()

    @inline(__always)
    public static func isEnabled(_ category: LogCategory) -> Bool {
        enabled.rawValue & category.rawValue != 0
    }

    /// Sends the log to a file (`-D FILE`); stderr otherwise.
    public static func redirect(toFile path: String) throws {
        guard let file = fopen(path, "w") else {
            throw EmulatorError.io(path, String(cString: strerror(errno)))
        }
        setvbuf(file, nil, _IOLBF, 0)
        output = file
    }

    /// Writes one line if the category is on. The message is built only then.
    @inline(__always)
    public static func write(_ category: LogCategory, _ message: @autoclosure () -> String) {
        if isEnabled(category) { emit(message()) }
    }

    @inline(never)
    public static func emit(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        fputs(line, output ?? stderr)
        fputs("\n", output ?? stderr)
    }
}
