import Foundation

/// The default guest (Debian 12's i386 kernel and PCEmu's busybox initramfs),
/// built by scripts/build-default-guest.sh into the repository's guest-cache/
/// the first time a test needs it (the script does nothing when it is current).
public enum DefaultGuest {
    public static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `arch` "i386" (the 686 kernel) or "amd64" (the amd64 kernel, in guest-cache/amd64).
    public static func paths(arch: String = "i386") throws -> (kernel: String, initrd: String) {
        let cache = repository.appendingPathComponent("guest-cache")
        let script = repository.appendingPathComponent("scripts/build-default-guest.sh").path
        let result = try ChildProcess.run("/bin/bash", [script], timeout: 600,
                                          environment: ["GUEST_CACHE": cache.path, "GUEST_ARCH": arch])
        guard result.status == 0 else {
            throw TestSetupError("build-default-guest.sh failed: \(result.stderr.suffix(500))")
        }
        let directory = arch == "i386" ? cache : cache.appendingPathComponent(arch)
        return (directory.appendingPathComponent("vmlinuz").path, directory.appendingPathComponent("initrd.gz").path)
    }
}
