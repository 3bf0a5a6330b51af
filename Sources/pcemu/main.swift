import Configuration
import Control
import Foundation
import Machine
import PCEmuSupport

/// Prints one line naming the problem and exits with status 1, as QEMU does.
func fail(_ error: Error) -> Never {
    let message = (error as? EmulatorError)?.description ?? "\(error)"
    FileHandle.standardError.write("pcemu: \(message)\n".data(using: .utf8)!)
    exit(1)
}

/// The SDL window when asked for (-display sdl), or by default when there is
/// an X display; nothing with -display none or -nographic.
func openDisplay(for configuration: MachineConfiguration) throws -> DisplayFrontEnd? {
    guard configuration.effectiveDisplay == .sdl else { return nil }
    let explicit = configuration.display == .sdl
    let environment = ProcessInfo.processInfo.environment
    let hasDisplay = !(environment["DISPLAY"] ?? "").isEmpty || !(environment["WAYLAND_DISPLAY"] ?? "").isEmpty
    if explicit && !hasDisplay && (environment["SDL_VIDEODRIVER"] ?? "").isEmpty {
        // SDL would fall back to a driver that shows nothing; say so instead.
        throw EmulatorError.badOption("-display", "no display to open ($DISPLAY is not set)")
    }
    guard explicit || hasDisplay else { return nil }
    do {
        return try SDLDisplay(name: configuration.name)
    } catch {
        if explicit { throw error }
        return nil
    }
}

let configuration: MachineConfiguration
do {
    configuration = try OptionParser().parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    fail(error)
}

switch configuration.action {
case .help:
    print(HelpText.usage)
    exit(0)
case .version:
    print(HelpText.versionLine)
    exit(0)
case .cpuHelp:
    for line in PCMachine.cpuHelpLines { print(line) }
    exit(0)
case .logHelp:
    print("Log items (comma-separated) for -d:")
    for entry in LogCategory.named {
        print("  \(entry.name.padding(toLength: 14, withPad: " ", startingAt: 0)) \(entry.help)")
    }
    exit(0)
case .run:
    break
}

do {
    if let list = configuration.logList { Log.enabled = try LogCategory.parse(list) }
    if let file = configuration.logFile { try Log.redirect(toFile: file) }
    let machine = try PCMachine(configuration: configuration)
    for warning in machine.cpuWarnings { FileHandle.standardError.write("pcemu: warning: \(warning)\n".data(using: .utf8)!) }
    // Before any monitor: a client that connects at once sees -S's state.
    if configuration.startStopped { machine.loop.holdAtStart() }
    var monitor: MonitorServer?
    if let device = configuration.monitor, case .socket = device {
        monitor = try MonitorServer(configuration: device, machine: machine)
        monitor?.start()
    }
    let terminalMonitor = configuration.monitorOnTerminal ? MonitorTerminal(machine: machine) : nil
    terminalMonitor?.attach(to: machine)
    var gdb: GDBServer?
    if let address = configuration.gdb {
        gdb = try GDBServer(address: address, machine: machine)
        gdb?.start()
    }
    let qmpServers = try configuration.qmp.map { try QMPServer(configuration: $0, machine: machine) }
    for server in qmpServers { server.start() }
    // A saved machine replaces the one just built, before it runs a single instruction.
    if let endpoint = configuration.incoming { try machine.receiveMigration(from: endpoint) }
    if let tag = configuration.loadSnapshot { try machine.loadSnapshot(tag: tag) }
    let status = try MachineSession(machine: machine).run(display: try openDisplay(for: configuration))
    withExtendedLifetime((monitor, terminalMonitor, qmpServers, gdb)) {}
    exit(status)
} catch {
    fail(error)
}
