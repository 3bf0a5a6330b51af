/// A disk image as a device sees it: a run of bytes of fixed length that can
/// be read, written and flushed. Offsets and lengths are checked by callers
/// against `byteCount`; implementations throw `EmulatorError.io` on failure.
public protocol BlockImage: AnyObject {
    /// The size the guest sees.
    var byteCount: UInt64 { get }
    var isReadOnly: Bool { get }
    /// The file (or the chain's top file) it reads, for messages.
    var path: String { get }
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws
    func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws
    /// Everything written so far reaches the disk (fsync).
    func flush() throws
}

extension BlockImage {
    /// Checks that [offset, offset + count) lies inside the image.
    func contains(offset: UInt64, count: Int) -> Bool {
        offset <= byteCount && UInt64(count) <= byteCount - offset
    }
}
