import Glibc
import PCEmuSupport

/// An open host file addressed by byte offset: pread/pwrite that finish or
/// throw, fsync, the size. Errors name the file.
final class ImageFile {
    let path: String
    let isReadOnly: Bool
    private let descriptor: Int32

    init(path: String, readOnly: Bool) throws {
        self.path = path
        isReadOnly = readOnly
        descriptor = open(path, (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC)
        guard descriptor >= 0 else { throw EmulatorError.io(path, String(cString: strerror(errno))) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG || (info.st_mode & S_IFMT) == S_IFBLK else {
            close(descriptor)
            throw EmulatorError.io(path, "not a regular file or block device")
        }
    }

    deinit { close(descriptor) }

    var size: UInt64 {
        let end = lseek(descriptor, 0, SEEK_END)
        return end < 0 ? 0 : UInt64(end)
    }

    /// Fills `buffer` from `offset`; bytes past the end of the file read as zero.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        var done = 0
        while done < buffer.count {
            let count = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if count < 0 {
                if errno == EINTR { continue }
                throw EmulatorError.io(path, "read at \(offset): \(String(cString: strerror(errno)))")
            }
            if count == 0 {
                (buffer.baseAddress! + done).initializeMemory(as: UInt8.self, repeating: 0, count: buffer.count - done)
                return
            }
            done += count
        }
    }

    func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws {
        guard !isReadOnly else { throw EmulatorError.io(path, "opened read-only") }
        var done = 0
        while done < buffer.count {
            let count = pwrite(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if count < 0 {
                if errno == EINTR { continue }
                throw EmulatorError.io(path, "write at \(offset): \(String(cString: strerror(errno)))")
            }
            done += count
        }
    }

    func readBytes(count: Int, at offset: UInt64) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try read(into: $0, at: offset) }
        return bytes
    }

    func writeBytes(_ bytes: [UInt8], at offset: UInt64) throws {
        try bytes.withUnsafeBytes { try write($0, at: offset) }
    }

    func sync() throws {
        guard !isReadOnly else { return }
        guard fsync(descriptor) == 0 else { throw EmulatorError.io(path, "fsync: \(String(cString: strerror(errno)))") }
    }
}

/// Big-endian fields, as qcow2 stores them.
extension Array where Element == UInt8 {
    func bigEndian16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    func bigEndian32(at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(self[offset + $1]) }
    }

    func bigEndian64(at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 << 8 | UInt64(self[offset + $1]) }
    }

    mutating func setBigEndian32(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { self[offset + i] = UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32(i))) }
    }

    mutating func setBigEndian64(_ value: UInt64, at offset: Int) {
        for i in 0..<8 { self[offset + i] = UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64(i))) }
    }

    static func bigEndian64(_ value: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 8)
        bytes.setBigEndian64(value, at: 0)
        return bytes
    }
}
