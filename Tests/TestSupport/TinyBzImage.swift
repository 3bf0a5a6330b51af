import Foundation

/// A tiny Linux bzImage for whole-machine tests: the real-mode setup of
/// firmware/tests/tiny-bzimage-setup.asm (assembled with nasm), which enters
/// flat 32-bit protected mode as a kernel's setup does, then `code` as the
/// protected-mode part, run at 0x100000. The firmware boots it as it boots
/// any -kernel: through fw_cfg and the linuxboot option ROM.
public enum TinyBzImage {
    /// Writes the image into `directory` and returns its path.
    public static func write(_ code: [UInt8], into directory: URL) throws -> String {
        let source = DefaultGuest.repository.appendingPathComponent("firmware/tests/tiny-bzimage-setup.asm").path
        let setup = directory.appendingPathComponent("tiny-bzimage-setup.bin")
        if !FileManager.default.fileExists(atPath: setup.path) {
            let result = try ChildProcess.run("/usr/bin/nasm", ["-f", "bin", "-o", setup.path, source])
            guard result.status == 0 else { throw TestSetupError("nasm failed on \(source): \(result.stderr)") }
        }
        let image = try Data(contentsOf: setup) + Data(code)
        let url = directory.appendingPathComponent("kernel-\(image.count)-\(UInt32.random(in: 0...UInt32.max))")
        try image.write(to: url)
        return url.path
    }
}
