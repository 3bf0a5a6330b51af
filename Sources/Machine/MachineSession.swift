import Foundation
import PCEmuSupport

/// What shows the machine's screen and feeds it input: the SDL window. It runs
/// on the main thread while the CPU thread runs the machine.
public protocol DisplayFrontEnd: AnyObject {
    /// Shows frames and passes input until the user closes the display or
    /// `cpuFinished()` turns true; it may sleep until input or `wake()`.
    func run(machine: PCMachine, cpuFinished: () -> Bool)
    /// Thread-safe: makes `run` look again (the CPU thread ended).
    func wake()
    /// Writes the screen the display shows now (PNG or PPM, by the file name).
    func writeScreenshot(to path: String) throws
}

/// Runs a built machine until it powers off, the user quits, or the CPU
/// meets something it cannot do yet. Without a display the CPU thread's loop
/// runs on the calling thread; with one, the CPU gets its own thread and the
/// calling (main) thread runs the display. The terminal's reader runs beside.
public struct MachineSession {
    public let machine: PCMachine

    public init(machine: PCMachine) { self.machine = machine }

    /// The CPU thread's stack: translation and helpers recurse little, but the
    /// main thread's 8 MiB is what the loop was tested with.
    static let cpuThreadStack = 8 << 20

    /// The exit status: 0 for a power-off, Ctrl-A x, a reset with -no-reboot or
    /// the window closed; 1 when the CPU stopped (its reason is one line on stderr).
    public func run(display: DisplayFrontEnd? = nil) throws -> Int32 {
        machine.startHostInput()
        // After the terminal's hooks: the orderly stop replaces them, and restores the terminal itself.
        let termination = TerminationSignals(loop: machine.loop)
        let status: Int32
        if let display {
            let result = CPUThreadResult()
            let finished = result.condition
            let thread = Thread { [machine] in
                let status = machine.loop.run()
                finished.lock()
                result.status = status
                finished.broadcast()
                finished.unlock()
                display.wake()
            }
            thread.stackSize = MachineSession.cpuThreadStack
            thread.name = "pcemu-cpu"
            thread.start()
            display.run(machine: machine) {
                finished.lock()
                defer { finished.unlock() }
                return result.status != nil
            }
            // The window closed (or the guest ended): stop the CPU and wait for it.
            machine.loop.stop(status: 0, cause: .hostUI)
            finished.lock()
            while result.status == nil { finished.wait() }
            status = result.status!
            finished.unlock()
            if let path = machine.configuration.screendump { try writeScreenDump(path, display: display) }
        } else {
            status = machine.loop.run()
            if let path = machine.configuration.screendump { try writeScreenDump(path, display: nil) }
        }
        machine.closeAudio()
        machine.flushDisks()
        TerminalMode.restore()
        termination.endProcessIfSignalled()
        // With -D the CPU's own message went to the log file; the user still sees why.
        if let reason = machine.cpu.stopReason, machine.configuration.logFile != nil {
            FileHandle.standardError.write(Data("pcemu: \(reason)\n".utf8))
        }
        return status
    }

    private func writeScreenDump(_ path: String, display: DisplayFrontEnd?) throws {
        do {
            if let display { try display.writeScreenshot(to: path) } else { try machine.writeScreenDump(to: path) }
        } catch {
            TerminalMode.restore()
            throw error
        }
    }
}

/// The CPU thread's exit status, guarded by `condition`.
private final class CPUThreadResult: @unchecked Sendable {
    let condition = NSCondition()
    var status: Int32?
}
