import Devices
import Foundation
import PCEmuSupport

/// Bytes from a UART or the debug console straight to a file descriptor,
/// unbuffered, so output is there the moment the guest sends it.
final class FileDescriptorBackend: SerialBackend {
    private let descriptor: Int32
    private let ownsDescriptor: Bool

    init(descriptor: Int32, ownsDescriptor: Bool) {
        self.descriptor = descriptor
        self.ownsDescriptor = ownsDescriptor
    }

    /// `file:PATH`: created or truncated, as QEMU's file chardev does.
    convenience init(path: String, option: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw EmulatorError.badOption(option, "\(path): \(String(cString: strerror(errno)))")
        }
        self.init(descriptor: descriptor, ownsDescriptor: true)
    }

    deinit { if ownsDescriptor { close(descriptor) } }

    func transmit(_ byte: UInt8) {
        var value = byte
        while write(descriptor, &value, 1) < 0 && errno == EINTR {}
    }
}

/// `null`: the port exists, its output goes nowhere.
final class NullBackend: SerialBackend {
    func transmit(_ byte: UInt8) {}
}
