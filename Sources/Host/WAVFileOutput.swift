import Foundation
import PCEmuSupport

/// Writes signed 16-bit interleaved samples to a WAV file as they come
/// (`-audiodev wav,path=FILE`). The header's sizes are rewritten after each
/// write, so the file is valid whenever the emulator stops, however it stops.
public final class WAVFileOutput {
    public let sampleRate: Int
    public let channels: Int
    public let path: String
    private let descriptor: Int32
    private var dataBytes = 0
    private var failed = false
    static let headerSize = 44

    public init(path: String, sampleRate: Int = 44_100, channels: Int = 2) throws {
        self.path = path
        self.sampleRate = sampleRate
        self.channels = channels
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw EmulatorError.badOption("-audiodev", "\(path): \(String(cString: strerror(errno)))")
        }
        var header = [UInt8](repeating: 0, count: WAVFileOutput.headerSize)
        func put(_ text: String, at offset: Int) { for (index, byte) in text.utf8.enumerated() { header[offset + index] = byte } }
        func put32(_ value: Int, at offset: Int) { for index in 0..<4 { header[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) } }
        func put16(_ value: Int, at offset: Int) { for index in 0..<2 { header[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) } }
        put("RIFF", at: 0)
        put32(36, at: 4)
        put("WAVE", at: 8)
        put("fmt ", at: 12)
        put32(16, at: 16)
        put16(1, at: 20)  // PCM
        put16(channels, at: 22)
        put32(sampleRate, at: 24)
        put32(sampleRate * channels * 2, at: 28)
        put16(channels * 2, at: 32)
        put16(16, at: 34)
        put("data", at: 36)
        put32(0, at: 40)
        guard header.withUnsafeBytes({ Foundation.write(descriptor, $0.baseAddress, $0.count) }) == header.count else {
            let reason = String(cString: strerror(errno))
            Foundation.close(descriptor)
            throw EmulatorError.badOption("-audiodev", "\(path): \(reason)")
        }
    }

    deinit { Foundation.close(descriptor) }

    /// Appends samples (little-endian, as the host is) and updates the header.
    public func write(_ samples: UnsafeBufferPointer<Int16>) {
        guard !failed, let base = samples.baseAddress, samples.count > 0 else { return }
        let bytes = samples.count * 2
        guard pwrite(descriptor, base, bytes, off_t(WAVFileOutput.headerSize + dataBytes)) == bytes else {
            failed = true
            Log.emit("pcemu: cannot write \(path): \(String(cString: strerror(errno))); sound is no longer recorded")
            return
        }
        dataBytes += bytes
        var riffSize = UInt32(truncatingIfNeeded: 36 + dataBytes).littleEndian
        var dataSize = UInt32(truncatingIfNeeded: dataBytes).littleEndian
        _ = pwrite(descriptor, &riffSize, 4, 4)
        _ = pwrite(descriptor, &dataSize, 4, 40)
    }

    public var framesWritten: Int { dataBytes / (2 * channels) }
}
