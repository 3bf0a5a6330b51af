import Foundation

/// The default guest (Debian 12's i386 kernel and PCEmu's busybox initramfs),
/// built by scripts/build-default-guest.sh into the repository's guest-cache/
/// the first time a test needs it (the script does nothing when it is current).
public enum DefaultGuest {
    public static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    public static func paths() throws -> (kernel: String, initrd: String) {
        let cache = repository.appendingPathComponent("guest-cache")
        let script = repository.appendingPathComponent("scripts/build-default-guest.sh").path
        let result = try ChildProcess.run("/bin/bash", [script], timeout: 600, environment: ["GUEST_CACHE": cache.path])
        guard result.status == 0 else {
            throw TestSetupError("build-default-guest.sh failed: \(result.stderr.suffix(500))")
        }
        return (cache.appendingPathComponent("vmlinuz").path, cache.appendingPathComponent("initrd.gz").path)
    }
}
