import PCEmuSupport

/// A raw image: guest byte N is file byte N.
public final class RawImage: BlockImage {
    private let file: ImageFile
    public let byteCount: UInt64

    public init(path: String, readOnly: Bool) throws {
        file = try ImageFile(path: path, readOnly: readOnly)
        byteCount = file.size
    }

    public var isReadOnly: Bool { file.isReadOnly }
    public var path: String { file.path }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        guard contains(offset: offset, count: buffer.count) else {
            throw EmulatorError.io(path, "read of \(buffer.count) bytes at \(offset) is past the end")
        }
        try file.read(into: buffer, at: offset)
    }

    public func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws {
        guard contains(offset: offset, count: buffer.count) else {
            throw EmulatorError.io(path, "write of \(buffer.count) bytes at \(offset) is past the end")
        }
        try file.write(buffer, at: offset)
    }

    public func flush() throws { try file.sync() }
}
