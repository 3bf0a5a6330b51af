import Foundation

/// A program a test starts, spawned with posix_spawn and reaped with waitpid.
/// (Foundation's Process blocks in wait4 on one child while another is being
/// waited for, so tests that keep servers running beside a client avoid it.)
/// Its output goes to files; it is killed when released or `stop`ped.
public final class ChildProcess {
    public let pid: pid_t
    private let outputDirectory: URL
    private var exitStatus: Int32?

    /// With `inputPipe`, the program reads what `send` writes; otherwise `standardInput`.
    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                captureOutput: Bool = true, standardInput: String = "/dev/null", inputPipe: Bool = false,
                workingDirectory: String? = nil) throws {
        outputDirectory = try makeTemporaryDirectory("pcemu-child")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var pipeEnds: [Int32] = [-1, -1]
        if inputPipe {
            guard pipe(&pipeEnds) == 0 else { throw TestSetupError("cannot make a pipe") }
            posix_spawn_file_actions_adddup2(&actions, pipeEnds[0], 0)
            posix_spawn_file_actions_addclose(&actions, pipeEnds[1])
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, standardInput, O_RDONLY, 0)
        }
        let out = captureOutput ? outputDirectory.appendingPathComponent("stdout").path : "/dev/null"
        let err = captureOutput ? outputDirectory.appendingPathComponent("stderr").path : "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        let environmentList = ProcessInfo.processInfo.environment.merging(environment ?? [:]) { $1 }
            .map { "\($0.key)=\($0.value)" }
        // In another directory, a shell changes to it and becomes the program (same pid).
        let command = workingDirectory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0, executable] + arguments }
            ?? [executable] + arguments
        let argv = command.map { strdup($0) } + [nil]
        let envp = environmentList.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, command[0], &actions, nil, argv, envp)
        if inputPipe { close(pipeEnds[0]) }
        guard result == 0 else {
            throw TestSetupError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
        inputDescriptor = pipeEnds[1]
    }

    /// The write end of the input pipe, or -1.
    private var inputDescriptor: Int32 = -1

    /// Writes to the program's standard input (with `inputPipe`).
    public func send(_ text: String) {
        guard inputDescriptor >= 0 else { return }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(inputDescriptor, $0.baseAddress, $0.count) }
    }

    /// Closes the program's standard input (end of file).
    public func closeInput() {
        if inputDescriptor >= 0 { close(inputDescriptor); inputDescriptor = -1 }
    }

    /// Waits until the program's output contains `text`; false on timeout or exit.
    public func waitForOutput(_ text: String, timeout: TimeInterval) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if standardOutput.contains(text) { return true }
            if !isRunning { return standardOutput.contains(text) }
            usleep(100_000)
        }
        return false
    }

    deinit {
        closeInput()
        stop()
        try? FileManager.default.removeItem(at: outputDirectory)
    }

    public var standardOutput: String { read("stdout") }
    /// Standard output as bytes, for programs whose output is not text.
    public var standardOutputBytes: [UInt8] {
        (try? [UInt8](Data(contentsOf: outputDirectory.appendingPathComponent("stdout")))) ?? []
    }
    public var standardError: String { read("stderr") }

    private func read(_ name: String) -> String {
        (try? String(contentsOf: outputDirectory.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }

    public var isRunning: Bool { poll() == nil }

    /// The exit status if the program has ended (128 + signal if it was killed).
    private func poll() -> Int32? {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        let signal = status & 0x7F
        exitStatus = signal == 0 ? (status >> 8) & 0xFF : 128 + signal
        return exitStatus
    }

    /// Waits up to `timeout` seconds for the program to end; nil if it did not.
    public func wait(timeout: TimeInterval) -> Int32? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            if let status = poll() { return status }
            if Date() >= deadline { return nil }
            usleep(5_000)
        }
    }

    /// Sends `signal` and waits; SIGKILL if it is still there after 3 seconds.
    public func stop(signal: Int32 = SIGTERM) {
        guard poll() == nil else { return }
        kill(pid, signal)
        if wait(timeout: 3) == nil {
            kill(pid, SIGKILL)
            _ = wait(timeout: 3)
        }
    }

    /// Runs a program to its end and returns its status (nil on timeout) and output.
    public static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 60,
                           environment: [String: String]? = nil) throws -> (status: Int32?, stdout: String, stderr: String) {
        let child = try ChildProcess(executable, arguments, environment: environment)
        let status = child.wait(timeout: timeout)
        child.stop()
        return (status, child.standardOutput, child.standardError)
    }
}

/// Where the package's built products are: next to the running test bundle.
public enum BuildProducts {
    public static var directory: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    public static var pcemu: String { directory.appendingPathComponent("pcemu").path }
}

/// A fresh temporary directory; the caller removes it.
public func makeTemporaryDirectory(_ prefix: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
