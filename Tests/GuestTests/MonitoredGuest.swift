import Foundation
import TestSupport

/// The default guest booted to its busybox shell under -nographic with the
/// monitor on a socket in `directory` (`arguments` added to the command
/// line), and a monitor client past its greeting: where the guest tests
/// driven through the monitor start. The caller stops `pcemu`.
struct MonitoredGuest {
    let pcemu: ChildProcess
    let monitor: MonitorGuestTests.MonitorClient
    /// The monitor's banner and first prompt.
    let greeting: String?

    init(directory: URL, arguments: [String]) throws {
        let socketPath = directory.appendingPathComponent("monitor.sock").path
        let guest = try DefaultGuest.paths()
        pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "256", "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", "console=ttyS0 quiet", "-nographic",
            "-monitor", "unix:\(socketPath),server,nowait",
        ] + arguments, inputPipe: true)
        guard pcemu.waitForOutput(LinuxGuestTests.prompt, timeout: 300) else {
            pcemu.stop()
            throw TestSetupError("no shell prompt:\n\(pcemu.standardOutput.suffix(2000))")
        }
        monitor = try MonitorGuestTests.MonitorClient(path: socketPath)
        greeting = monitor.readToPrompt()
    }
}
