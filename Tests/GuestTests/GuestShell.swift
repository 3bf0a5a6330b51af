import Foundation
import TestSupport

/// Types a command into a guest's shell on the serial console and returns what
/// it printed (between the echoed command line and an end marker the command
/// then prints), or nil if the marker did not come within `timeout`. Keep
/// commands short: the shell redraws lines longer than the 80-column terminal
/// it assumes (DiskGuestTests has a runner that copes with that), so the
/// marker is short.
func runInShell(_ command: String, in guest: ChildProcess, timeout: TimeInterval = 120) -> String? {
    let marker = "__ok_\(UInt32.random(in: 0...UInt32.max))__"
    let before = guest.standardOutput.count
    guest.send("\(command); echo \(marker)\n")
    // The marker appears echoed with the command line, then printed alone. The
    // shell may echo the line again (it redraws it when console output comes
    // in between): the output follows the last echo before the marker.
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline {
        let lines = String(guest.standardOutput.dropFirst(before)).replacingOccurrences(of: "\r", with: "")
            .split(separator: "\n", omittingEmptySubsequences: false)
        if let end = lines.lastIndex(where: { $0 == marker }),
           let start = lines[..<end].lastIndex(where: { $0.contains("echo \(marker)") }) {
            return lines[(start + 1)..<end].joined(separator: "\n")
        }
        usleep(100_000)
    }
    return nil
}
