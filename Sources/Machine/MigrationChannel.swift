import Configuration
import Foundation
import Lifecycle
import PCEmuSupport

/// Moves a machine's saved state to or from a `MigrationEndpoint`: a file,
/// or a shell command's standard input or output.
enum MigrationChannel {
    /// The most `-incoming` reads: more than any machine's state.
    static let maximumBytes = 64 << 30

    static func send(_ state: StateEncoding, to endpoint: MigrationEndpoint) throws {
        switch endpoint {
        case let .file(path):
            let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else {
                throw EmulatorError.io(path, "cannot write the machine's state: \(String(cString: strerror(errno)))")
            }
            defer { close(descriptor) }
            var info = stat()
            if fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFREG {
                try state.write { piece, offset in try writeAll(piece, to: descriptor, at: offset, name: path) }
            } else {
                try state.write { try writeAll($0, to: descriptor, name: path) }
            }
        case let .exec(command):
            // A command that stops reading must give an error, not kill PCEmu.
            signal(SIGPIPE, SIG_IGN)
            let process = shell(command)
            let input = Pipe()
            process.standardInput = input
            try run(process, command)
            let handle = input.fileHandleForWriting
            do {
                try state.write { try writeAll($0, to: handle.fileDescriptor, name: "exec:\(command)") }
                try handle.close()
            } catch {
                try? handle.close()
                process.waitUntilExit()
                throw EmulatorError.io("exec:\(command)", "the command stopped reading (status \(process.terminationStatus))")
            }
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw EmulatorError.io("exec:\(command)", "the command ended with status \(process.terminationStatus)")
            }
        }
    }

    /// Writes all of `piece`, at `offset` when given (pwrite, safe from
    /// several threads), else where the descriptor stands.
    private static func writeAll(_ piece: UnsafeRawBufferPointer, to descriptor: Int32, at offset: Int? = nil, name: String) throws {
        var done = 0
        while done < piece.count {
            let count = offset.map { pwrite(descriptor, piece.baseAddress! + done, piece.count - done, off_t($0 + done)) }
                ?? write(descriptor, piece.baseAddress! + done, piece.count - done)
            if count < 0 {
                if errno == EINTR { continue }
                throw EmulatorError.io(name, "cannot write the machine's state: \(String(cString: strerror(errno)))")
            }
            done += count
        }
    }

    static func receive(from endpoint: MigrationEndpoint) throws -> [UInt8] {
        switch endpoint {
        case let .file(path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw EmulatorError.io(path, "cannot read the machine's state: \(String(cString: strerror(errno)))")
            }
            return Array(data)
        case let .exec(command):
            let process = shell(command)
            let output = Pipe()
            process.standardOutput = output
            try run(process, command)
            var bytes: [UInt8] = []
            let handle = output.fileHandleForReading
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                bytes += chunk
                guard bytes.count <= maximumBytes else {
                    process.terminate()
                    throw EmulatorError.io("exec:\(command)", "more than \(maximumBytes >> 30) GiB: not a machine's state")
                }
            }
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw EmulatorError.io("exec:\(command)", "the command ended with status \(process.terminationStatus)")
            }
            return bytes
        }
    }

    private static func shell(_ command: String) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        return process
    }

    private static func run(_ process: Process, _ command: String) throws {
        do { try process.run() } catch { throw EmulatorError.io("exec:\(command)", "cannot start /bin/sh: \(error)") }
    }
}

extension PCMachine {
    /// `migrate URI`: the machine's state to a file or a command. The guest
    /// stays stopped afterwards, as QEMU leaves a machine it migrated away.
    public func migrate(to endpoint: MigrationEndpoint) throws {
        for (_, image) in writableImages { try image.flush() }
        // The clock stops where the guest does, so the state saved is the
        // stopped machine's (a second migrate saves the same bytes).
        let wasPaused = clock.isPaused
        clock.pause()
        do {
            try MigrationChannel.send(try machineStateEncoding(), to: endpoint)
        } catch {
            if !wasPaused { clock.resume() }
            throw error
        }
        loop.pause()
    }

    /// `-incoming URI`: the state `migrate` saved, loaded before the guest runs.
    public func receiveMigration(from endpoint: MigrationEndpoint) throws {
        try loadMachineState(try MigrationChannel.receive(from: endpoint))
    }
}
