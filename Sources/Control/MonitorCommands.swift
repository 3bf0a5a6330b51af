import Configuration
import Dispatch
import Foundation
import Glibc
import Devices
import Machine
import Memory
import PCEmuSupport
import Storage

/// The human monitor's commands, with QEMU's names and output where a tool
/// may read it. What QMP does too goes through `MachineControl`.
final class MonitorCommands {
    let machine: PCMachine
    let control: MachineControl
    /// Stubs started with `gdbserver`.
    private var gdbServers: [GDBServer] = []

    init(control: MachineControl) {
        self.control = control
        machine = control.machine
    }

    /// What `help` prints, one command a line.
    static let help: [(String, String)] = [
        ("help|?", "show this list"),
        ("info status|registers|cpus|version", "show the VM's state"),
        ("info block|network|pci|mtree|irq", "show the drives, the network cards, the PCI functions, the memory map, the IRQ counts"),
        ("info jit", "show the translator's statistics: blocks, code cache, flushes"),
        ("change device filename [format]", "put a disc or disk in a CD or floppy drive (e.g. change ide1-cd0 debian.iso, change floppy0 a.img raw)"),
        ("eject [-f] device", "take the disc or disk out of a CD or floppy drive"),
        ("stop", "stop the guest (its clock stops too)"),
        ("cont|c", "let a stopped guest run on"),
        ("system_reset", "reset the machine"),
        ("system_powerdown", "press the ACPI power button"),
        ("sendkey keys", "press and release a key combination, e.g. ctrl-alt-delete"),
        ("screendump filename", "save the screen as PPM (or PNG by the name)"),
        ("savevm [tag]", "save the machine and its disks as snapshot tag (in every writable qcow2 disk)"),
        ("loadvm tag", "go back to snapshot tag"),
        ("delvm tag", "delete snapshot tag"),
        ("info snapshots", "list the snapshots"),
        ("migrate [-d] file:PATH|exec:CMD", "save the machine's state to a file or a command, then stop"),
        ("log item1[,...]|none", "log these -d items from now on (to -D's file or stderr)"),
        ("x /fmt addr", "dump memory at a linear address through the guest's page tables"),
        ("xp /fmt addr", "dump physical memory: /NFU, N count, F x|d|u, U b|h|w|g"),
        ("gdbserver [tcp::PORT]", "start a gdb stub (default tcp::1234)"),
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
            control.stop()
            return ("", false)
        case "cont", "c":
            control.cont()
            return ("", false)
        case "system_reset":
            control.systemReset()
            return ("", false)
        case "system_powerdown":
            control.powerDown()
            return ("", false)
        case "quit", "q":
            control.quit()
            return ("", true)
        case "sendkey": return (sendKey(arguments), false)
        case "screendump": return (screenDump(arguments), false)
        case "log": return (log(arguments), false)
        case "change": return (changeMedium(arguments), false)
        case "eject": return (eject(arguments), false)
        case "savevm", "loadvm", "delvm", "migrate": return (snapshotCommand(String(command), arguments, line: line), false)
        case "xp": return (memoryDump(arguments, command: "xp", linear: false), false)
        case "x": return (memoryDump(arguments, command: "x", linear: true), false)
        case "gdbserver": return (startGDBServer(arguments), false)
        default: return ("unknown command: '\(command)'", false)
        }
    }

    private func info(_ item: String?) -> String {
        switch item {
        case "status":
            switch machine.loop.runState {
            case .running: return "VM status: running"
            case .paused: return "VM status: paused"
            case .prelaunch: return "VM status: paused (prelaunch)"  // -S, before the first cont, as QEMU says it
            }
        case "registers": return answer { self.machine.cpu.stateDump() }
        case "cpus": return "* CPU #0: thread_id=\(machine.loop.threadID)"
        case "version": return HelpText.version
        case "network": return machine.networkDescriptions.joined(separator: "\n")
        case "block":
            do {
                return MonitorInfo.block(try control.blockDevices())
            } catch {
                return error.message
            }
        case "pci": return answer { MonitorInfo.pci(self.machine.pciBus) }
        case "mtree": return answer { MonitorInfo.memoryTree(self.machine.addressSpace) }
        case "irq": return answer { MonitorInfo.irq(pic: self.machine.pic, ioAPIC: self.machine.ioAPIC) }
        case "jit": return answer { self.machine.cpu.translationStatistics.report }
        case "snapshots": return snapshotList()
        default:
            return "info " + (item.map { "\($0): unknown item" } ?? "needs an item") + " (status, registers, cpus, version, block, network, pci, mtree, irq, jit, snapshots)"
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
        control.pressKeys(usages, holdMilliseconds: holdMilliseconds)
        return ""
    }

    private func screenDump(_ arguments: [Substring]) -> String {
        guard let path = arguments.first else { return "screendump: which file?" }
        do {
            try control.screenDump(to: String(path))
            return ""
        } catch {
            return "screendump: \(error.message)"
        }
    }

    private func log(_ arguments: [Substring]) -> String {
        guard let list = arguments.first else { return "log: which items? (as -d takes them, or none)" }
        let categories: LogCategory
        if list == "none" {
            categories = []
        } else {
            do {
                categories = try LogCategory.parse(String(list))
            } catch let EmulatorError.badOption(_, reason) {
                return "log: \(reason)"
            } catch {
                return "log: \(error)"
            }
        }
        // The CPU thread reads the set at every block: change it there.
        onCPUThread { Log.enabled = categories }
        return ""
    }

    private func changeMedium(_ arguments: [Substring]) -> String {
        guard arguments.count >= 2 else { return "change: usage: change device filename [format]" }
        var format: DiskImage.Format?
        if arguments.count > 2 {
            guard let named = DiskImage.Format(rawValue: String(arguments[2])) else { return "change: unknown format '\(arguments[2])' (raw, qcow2)" }
            format = named
        }
        return mediumChange(String(arguments[0]), path: String(arguments[1]), format: format)
    }

    private func eject(_ arguments: [Substring]) -> String {
        // -f (force) changes nothing here: no guest can lock the tray yet.
        guard let device = arguments.last(where: { $0 != "-f" }) else { return "eject: which device?" }
        return mediumChange(String(device), path: nil, format: nil)
    }

    private func mediumChange(_ device: String, path: String?, format: DiskImage.Format?) -> String {
        do {
            try control.changeMedium(device: device, path: path, format: format)
            return ""
        } catch {
            return error.message
        }
    }

    /// `xp` (physical) and `x` (linear: each byte through the page tables
    /// as they are, unmapped bytes refused), QEMU's /NFU format.
    private func memoryDump(_ arguments: [Substring], command: String, linear: Bool) -> String {
        var format = MemoryDumpFormat()
        var rest = arguments[...]
        if let first = rest.first, first.hasPrefix("/") {
            guard let parsed = MemoryDumpFormat(first.dropFirst()) else { return "\(command): bad format '\(first)'" }
            format = parsed
            rest = rest.dropFirst()
        }
        guard let text = rest.first, let address = MonitorCommands.number(text) else { return "\(command): which address?" }
        let end = address &+ UInt64(format.count * format.unitBytes)
        // Linear addresses are 32-bit; physical ones reach RAM above 4 GiB.
        let limit = linear ? AddressSpace.lowLimit : AddressSpace.physicalLimit
        guard address < limit, end <= limit else {
            return "\(command): beyond the \(linear ? "32" : "36")-bit address space"
        }
        let result: Result<[UInt64], MonitorError>? = onCPUThread {
            let machine = self.machine
            func byte(_ at: UInt64) throws(MonitorError) -> UInt64 {
                guard linear else { return UInt64(machine.addressSpace.read(at, size: .byte)) }
                guard let physical = machine.cpu.physicalAddress(ofLinear: at), physical < AddressSpace.physicalLimit else {
                    throw MonitorError("Cannot access memory at 0x\(MemoryDumpFormat.hex(at, digits: 8))")
                }
                return UInt64(machine.addressSpace.read(physical, size: .byte))
            }
            do throws(MonitorError) {
                var values: [UInt64] = []
                for index in 0..<format.count {
                    let at = address + UInt64(index * format.unitBytes)
                    var value: UInt64 = 0
                    for part in 0..<format.unitBytes { value |= try byte(at + UInt64(part)) << (8 * UInt64(part)) }
                    values.append(value)
                }
                return .success(values)
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case let .success(values)?:
            return format.lines(address: address, values: values, addressDigits: linear ? 8 : 16).joined(separator: "\n")
        case let .failure(error)?: return error.message
        case nil: return MachineControl.noAnswer
        }
    }

    /// `gdbserver [DEVICE]`, in QEMU's words. The stub serves until PCEmu ends.
    private func startGDBServer(_ arguments: [Substring]) -> String {
        let device = arguments.first.map(String.init) ?? "tcp::\(MachineConfiguration.SocketAddress.defaultGDBPort)"
        do {
            let server = try GDBServer(address: .gdb(device, option: "gdbserver"), machine: machine, option: "gdbserver")
            server.start()
            gdbServers.append(server)
            return "Waiting for gdb connection on device '\(device)'"
        } catch {
            return (error as? EmulatorError)?.description ?? "\(error)"
        }
    }

    /// A number as QEMU's monitor takes it: 0x hex, else decimal.
    static func number(_ text: Substring) -> UInt64? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt64(text.dropFirst(2), radix: 16) }
        return UInt64(text)
    }

    private func answer(_ body: @escaping () -> String) -> String { control.answer(body) }

    @discardableResult
    private func onCPUThread<Result>(_ body: @escaping () -> Result) -> Result? { control.onCPUThread(body) }
}
