import Glibc

/// Lines read from a connected socket (a monitor's replies), CR LF or LF ended.
public final class SocketLines {
    public let descriptor: Int32
    private var pending: [UInt8] = []

    public init(descriptor: Int32) { self.descriptor = descriptor }

    /// The next line without its end; nil when the connection ends (or times out).
    public func next() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = pending.firstIndex(of: 0x0A) {
                defer { pending.removeSubrange(...end) }
                var line = pending[..<end]
                if line.last == 0x0D { line = line.dropLast() }
                return String(decoding: line, as: UTF8.self)
            }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { return nil }
            pending += buffer[0..<count]
        }
    }

    /// Writes `text`, then reads the next line.
    public func exchange(_ text: String) -> String? {
        _ = Array(text.utf8).withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return next()
    }
}
