import Foundation

/// A private X server for tests that open windows: Xvfb on a free display.
/// It does not reset when its last client leaves (-noreset): a test's
/// xdotool coming and going would otherwise make a program that connects at
/// that moment find no display.
public final class XvfbServer {
    public let display: String
    private let child: ChildProcess

    public init(width: Int = 1024, height: Int = 768) throws {
        var number = 90 + Int(getpid() % 100)
        while FileManager.default.fileExists(atPath: "/tmp/.X11-unix/X\(number)")
                || FileManager.default.fileExists(atPath: "/tmp/.X\(number)-lock") {
            number += 1
        }
        display = ":\(number)"
        child = try ChildProcess("/usr/bin/Xvfb", [display, "-screen", "0", "\(width)x\(height)x24", "-nolisten", "tcp", "-noreset"],
                                 captureOutput: false)
        let socket = "/tmp/.X11-unix/X\(number)"
        let deadline = Date(timeIntervalSinceNow: 10)
        while !FileManager.default.fileExists(atPath: socket) {
            guard Date() < deadline, child.isRunning else {
                throw TestSetupError("Xvfb did not start on \(display)")
            }
            usleep(20_000)
        }
    }

    public func stop() { child.stop() }
    deinit { stop() }

    /// Runs an X client (from /usr/bin) on this server and returns what it printed.
    public func run(_ tool: String, _ arguments: [String]) throws -> String {
        try ChildProcess.run("/usr/bin/\(tool)", arguments, timeout: 30, environment: ["DISPLAY": display]).stdout
    }

    /// The id of the first window whose name matches `pattern` (xdotool's regex), once it is mapped.
    public func window(named pattern: String, timeout: TimeInterval = 30) throws -> UInt {
        let deadline = Date(timeIntervalSinceNow: timeout)
        repeat {
            if let line = try run("xdotool", ["search", "--name", pattern]).split(separator: "\n").first, let id = UInt(line) {
                return id
            }
            usleep(200_000)
        } while Date() < deadline
        throw TestSetupError("no window named \(pattern) appeared")
    }
}

/// A private PulseAudio server with a null sink, reached through its own socket.
public final class PulseAudioServer {
    public let server: String
    public let sinkName = "pcemu_null"
    private let directory: URL
    private let child: ChildProcess

    public init() throws {
        directory = try makeTemporaryDirectory("pcemu-pulse")
        let socket = directory.appendingPathComponent("native").path
        server = "unix:\(socket)"
        child = try ChildProcess("/usr/bin/pulseaudio", [
            "--daemonize=no", "--exit-idle-time=-1", "-n", "--use-pid-file=no", "--system=no",
            "--load=module-null-sink sink_name=\(sinkName)",
            "--load=module-native-protocol-unix socket=\(socket) auth-anonymous=1",
        ], environment: ["HOME": directory.path, "XDG_RUNTIME_DIR": directory.path], captureOutput: false)
        let deadline = Date(timeIntervalSinceNow: 10)
        while !FileManager.default.fileExists(atPath: socket) {
            guard Date() < deadline, child.isRunning else {
                throw TestSetupError("PulseAudio did not start")
            }
            usleep(20_000)
        }
    }

    public func stop() {
        child.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}

public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
