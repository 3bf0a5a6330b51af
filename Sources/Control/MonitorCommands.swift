import Configuration
import Dispatch
import Foundation
import Glibc
import Devices
import Machine
import Memory

/// The human monitor's commands, with QEMU's names and output where a tool
/// may read it. A command reads or changes the machine on the CPU thread
/// (through its loop's posted work, which also runs while the guest is
/// stopped), so it never races the guest.
final class MonitorCommands {
    let machine: PCMachine

    init(machine: PCMachine) { self.machine = machine }

    /// What `help` prints, one command a line.
    static let help: [(String, String)] = [
        ("help|?", "show this list"),
        ("info status|registers|cpus|version", "show the VM's state"),
        ("info pci|mtree", "show the PCI functions, the physical memory map"),
        ("stop", "stop the guest (its clock stops too)"),
        ("cont|c", "let a stopped guest run on"),
        ("system_reset", "reset the machine"),
        ("system_powerdown", "press the ACPI power button"),
        ("sendkey keys", "press and release a key combination, e.g. ctrl-alt-delete"),
        ("screendump filename", "save the screen as PPM (or PNG by the name)"),
        ("xp /fmt addr", "dump physical memory: /NFU, N count, F x|d|u, U b|h|w|g"),
        ("quit|q", "end PCEmu"),
    ]

    /// The output of one command line, and whether PCEmu is ending.
    func execute(_ line: String) -> (output: String, quit: Bool) {
        let words = line.split(separator: " ", omittingEmptySubsequences: true)
        guard let command = words.first else { return ("", false) }
        let arguments = Array(words.dropFirst())
        switch command {
        case "help", "?":
            return (MonitorCommands.help.map { "\($0.0.padding(toLength: 36, withPad: " ", startingAt: 0)) -- \($0.1)" }
                .joined(separator: "\n"), false)
        case "info": return (info(arguments.first.map(String.init)), false)
        case "stop":
            machine.loop.pause()
            return ("", false)
        case "cont", "c":
            machine.loop.resume()
            return ("", false)
        case "system_reset":
            machine.loop.requestReset()
            return ("", false)
        case "system_powerdown":
            onCPUThread { self.machine.powerManagement.pressPowerButton() }
            return ("", false)
        case "quit", "q":
            machine.loop.stop(status: 0)
            return ("", true)
        case "sendkey": return (sendKey(arguments), false)
        case "screendump": return (screenDump(arguments), false)
        case "xp": return (physicalDump(arguments), false)
        default: return ("unknown command: '\(command)'", false)
        }
    }

    private func info(_ item: String?) -> String {
        switch item {
        case "status": return "VM status: " + (machine.loop.isPaused ? "paused" : "running")
        case "registers": return onCPUThread { self.machine.cpu.stateDump() } ?? "the CPU thread did not answer"
        case "cpus": return "* CPU #0: thread_id=\(machine.loop.threadID)"
        case "version": return HelpText.version
        case "pci": return onCPUThread { MonitorInfo.pci(self.machine.pciBus) } ?? "the CPU thread did not answer"
        case "mtree": return onCPUThread { MonitorInfo.memoryTree(self.machine.addressSpace) } ?? "the CPU thread did not answer"
        default:
            return "info " + (item.map { "\($0): unknown item" } ?? "needs an item") + " (status, registers, cpus, version, pci, mtree)"
        }
    }

    private func sendKey(_ arguments: [Substring]) -> String {
        guard let combination = arguments.first else { return "sendkey: which keys? (e.g. sendkey ctrl-alt-delete)" }
        let (usages, unknown) = QEMUKeyNames.parse(String(combination))
        if let unknown { return "invalid parameter value: \(unknown)" }
        // QEMU's default hold time: 100 ms, on the host's clock like a typist's.
        var holdMilliseconds = 100
        if arguments.count > 1 {
            guard let value = Int(arguments[1]), value >= 0, value <= 10_000 else { return "sendkey: bad hold time '\(arguments[1])'" }
            holdMilliseconds = value
        }
        for usage in usages { machine.keyChanged(hidUsage: usage, pressed: true) }
        usleep(useconds_t(holdMilliseconds * 1000))
        for usage in usages.reversed() { machine.keyChanged(hidUsage: usage, pressed: false) }
        return ""
    }

    private func screenDump(_ arguments: [Substring]) -> String {
        guard let path = arguments.first else { return "screendump: which file?" }
        let result: String? = onCPUThread {
            do {
                try self.machine.writeScreenDump(to: String(path))
                return ""
            } catch {
                return "screendump: \(error)"
            }
        }
        return result ?? "the CPU thread did not answer"
    }

    private func physicalDump(_ arguments: [Substring]) -> String {
        var format = MemoryDumpFormat()
        var rest = arguments[...]
        if let first = rest.first, first.hasPrefix("/") {
            guard let parsed = MemoryDumpFormat(first.dropFirst()) else { return "xp: bad format '\(first)'" }
            format = parsed
            rest = rest.dropFirst()
        }
        guard let text = rest.first, let address = MonitorCommands.number(text) else { return "xp: which address?" }
        let end = address + UInt64(format.count * format.unitBytes)
        guard end <= 1 << 32 else { return "xp: beyond the 32-bit physical address space" }
        let values: [UInt64]? = onCPUThread {
            (0..<format.count).map { index in
                let at = UInt32(address + UInt64(index * format.unitBytes))
                switch format.unitBytes {
                case 1: return UInt64(self.machine.addressSpace.read(at, size: .byte))
                case 2: return UInt64(self.machine.addressSpace.read(at, size: .word))
                case 4: return UInt64(self.machine.addressSpace.read(at, size: .dword))
                default:
                    return UInt64(self.machine.addressSpace.read(at, size: .dword))
                        | UInt64(self.machine.addressSpace.read(at &+ 4, size: .dword)) << 32
                }
            }
        }
        guard let values else { return "the CPU thread did not answer" }
        return format.lines(address: address, values: values).joined(separator: "\n")
    }

    /// A number as QEMU's monitor takes it: 0x hex, else decimal.
    static func number(_ text: Substring) -> UInt64? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt64(text.dropFirst(2), radix: 16) }
        return UInt64(text)
    }

    /// Runs `body` on the CPU thread and waits for it (10 s at most: the
    /// thread may have ended with the machine).
    @discardableResult
    private func onCPUThread<Result>(_ body: @escaping () -> Result) -> Result? {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<Result>()
        machine.loop.post {
            box.value = body()
            done.signal()
        }
        guard done.wait(timeout: .now() + 10) == .success else { return nil }
        return box.value
    }
}

/// Carries a result from the CPU thread back to the monitor's (the
/// semaphore orders the write before the read).
private final class ResultBox<Value>: @unchecked Sendable {
    var value: Value?
}
