import Foundation
import TestSupport

/// What the USB guest tests share: the default guest in a window on an Xvfb
/// with USB options, and the waits for Linux to find a device and its node.
enum USBGuest {
    /// pcemu on the default guest, its window on `display`, COM1 on the pipes.
    static func start(_ usbArguments: [String], display: String) throws -> ChildProcess {
        let guest = try DefaultGuest.paths()
        var environment = ProcessInfo.processInfo.environment
        environment["DISPLAY"] = display
        environment["SDL_VIDEODRIVER"] = "x11"
        return try ChildProcess(BuildProducts.pcemu, [
            "-m", "256", "-serial", "stdio", "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", "console=ttyS0 quiet",
        ] + usbArguments, environment: environment, inputPipe: true)
    }

    /// The product name at `port` once the guest has enumerated it (10 s at most).
    static func waitForProduct(_ expected: String, port: String = "1-1", in guest: ChildProcess) -> String? {
        var product: String?
        for _ in 0..<40 {
            product = runInShell("cat /sys/bus/usb/devices/\(port)/product", in: guest)
            if product == expected { break }
            usleep(250_000)
        }
        return product
    }

    /// The eventN node of the input device whose name contains `name`, once
    /// there is one (needs `I=/sys/class/input` set in the guest's shell).
    static func eventNode(named name: String, in guest: ChildProcess) -> Substring? {
        var found: String?
        for _ in 0..<40 {
            found = runInShell("grep -l \(name) $I/event*/device/name", in: guest)
            if found?.hasPrefix("/sys/class/input/event") == true { break }
            usleep(250_000)
        }
        return found.flatMap { $0.hasPrefix("/sys/class/input/event") ? $0.split(separator: "/")[3] : nil }
    }
}
