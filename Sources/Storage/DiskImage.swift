import Glibc
import PCEmuSupport

/// Opens disk images: the format named or probed from the first bytes, the
/// qcow2 backing chain, and `-snapshot` overlays.
public enum DiskImage {
    public enum Format: String, Sendable {
        case raw, qcow2
    }

    /// Backing chains longer than this are refused (they are loops, in practice).
    static let maximumChainDepth = 16

    /// Opens `path` as `format` (probed when nil). A qcow2 image's backing
    /// files are opened read-only.
    public static func open(path: String, format: Format?, readOnly: Bool) throws -> BlockImage {
        try open(path: path, format: format, readOnly: readOnly, depth: 0)
    }

    private static func open(path: String, format: Format?, readOnly: Bool, depth: Int) throws -> BlockImage {
        guard depth < maximumChainDepth else { throw EmulatorError.io(path, "backing chain is too long (a loop?)") }
        let chosen = try format ?? probe(path)
        switch chosen {
        case .raw:
            return try RawImage(path: path, readOnly: readOnly)
        case .qcow2:
            return try QCOW2Image(path: path, readOnly: readOnly) { backingPath, backingFormat in
                let format: Format?
                if let backingFormat {
                    guard let known = Format(rawValue: backingFormat) else {
                        throw EmulatorError.io(path, "backing format '\(backingFormat)' is not supported (raw or qcow2)")
                    }
                    format = known
                } else {
                    format = nil
                }
                return try open(path: backingPath, format: format, readOnly: true, depth: depth + 1)
            }
        }
    }

    /// qcow2 by its magic, anything else raw.
    public static func probe(_ path: String) throws -> Format {
        let file = try ImageFile(path: path, readOnly: true)
        return QCOW2Header.isQCOW2(try file.readBytes(count: 4, at: 0)) ? .qcow2 : .raw
    }

    /// Opens `path` read-only behind a new temporary qcow2 overlay that takes
    /// every write; the overlay's file is unlinked at once, so it vanishes
    /// when the emulator exits, and the original is never written.
    public static func openSnapshot(path: String, format: Format?) throws -> BlockImage {
        let base = try open(path: path, format: format, readOnly: true)
        let chosen = try format ?? probe(path)
        let absolute = path.hasPrefix("/") ? path : currentDirectory() + "/" + path
        var template = Array((temporaryDirectory() + "/pcemu-snapshot-XXXXXX").utf8CString)
        let descriptor = mkstemp(&template)
        guard descriptor >= 0 else { throw EmulatorError.io(temporaryDirectory(), "cannot create a snapshot overlay: \(String(cString: strerror(errno)))") }
        close(descriptor)
        let overlay = String(cString: template)
        unlink(overlay)
        defer { unlink(overlay) }
        try QCOW2Creator.create(path: overlay, size: base.byteCount, backingFile: absolute, backingFormat: chosen.rawValue)
        return try open(path: overlay, format: .qcow2, readOnly: false)
    }

    static func temporaryDirectory() -> String {
        if let directory = getenv("TMPDIR"), directory.pointee != 0 { return String(cString: directory) }
        return "/tmp"
    }

    static func currentDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        return getcwd(&buffer, buffer.count) != nil ? String(cString: buffer) : "."
    }
}
