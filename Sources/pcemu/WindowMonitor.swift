import Control
import Foundation
import Glibc
import Host
import Machine
import PCEmuSupport

/// The monitor console the window shows on Ctrl+Alt+2: a `MonitorSession`
/// on a thread of its own, reading a pipe the window writes the typed keys
/// into (so a slow command never holds up the window), its output going
/// into a `TextConsole` that the main thread draws in the VGA BIOS's font.
final class WindowMonitor {
    /// The smallest console drawn: 80 columns by 25 rows.
    static let minimumWidth = 80 * VGABIOSFont.glyphWidth
    static let minimumHeight = 25 * VGABIOSFont.glyphHeight

    private let console = TextConsole()
    private let font: VGABIOSFont
    /// Guards `console` and `changed`: the session's thread writes, the main thread draws.
    private let lock = NSLock()
    private var changed = true
    /// The pipe's end the window writes keys into.
    private let keys: Int32
    private var pixels: [UInt32] = []

    /// Starts the session (its banner and prompt); `wake` makes the window look again.
    init(machine: PCMachine, wake: @escaping () -> Void) throws {
        font = try VGABIOSFont()
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            throw EmulatorError.configuration("cannot make the monitor console's pipe: \(String(cString: strerror(errno)))")
        }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        // Typing faster than commands run fills the pipe: the keys beyond are dropped, the window never waits.
        _ = fcntl(ends[1], F_SETFL, O_NONBLOCK)
        keys = ends[1]
        let reading = ends[0]
        let session = MonitorSession(machine: machine, interactive: true) { [console, lock, unowned self] bytes in
            lock.lock()
            console.write(bytes)
            self.changed = true
            lock.unlock()
            wake()
            return true
        }
        let thread = Thread {
            session.greet()
            session.serve(input: reading)
            close(reading)
        }
        thread.name = "pcemu-window-monitor"
        thread.start()
    }

    /// What was typed, for the session (main thread).
    func type(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { write(keys, $0.baseAddress, $0.count) }
    }

    /// Draws the console at `width` x `height` and hands the pixels to
    /// `present`, if its text changed since the last time or `force`.
    func draw(width: Int, height: Int, force: Bool, _ present: (UnsafeRawPointer) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        guard changed || force else { return }
        changed = false
        if pixels.count != width * height { pixels = [UInt32](repeating: 0, count: width * height) }
        pixels.withUnsafeMutableBufferPointer { buffer in
            console.draw(into: buffer, width: width, height: height, font: font)
            present(UnsafeRawPointer(buffer.baseAddress!))
        }
    }
}
