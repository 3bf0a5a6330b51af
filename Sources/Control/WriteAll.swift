import Glibc

/// Writes all of `bytes` to a client: a socket through send(MSG_NOSIGNAL),
/// so a client gone is an error and not SIGPIPE, or (`isSocket` false) a
/// pipe or terminal through write. False once the client is gone.
func writeAll(_ bytes: [UInt8], to descriptor: Int32, isSocket: Bool = true) -> Bool {
    var rest = bytes[...]
    while !rest.isEmpty {
        let written = rest.withUnsafeBytes { raw in
            isSocket ? Glibc.send(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
                     : Glibc.write(descriptor, raw.baseAddress, raw.count)
        }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return false }
        rest = rest.dropFirst(written)
    }
    return true
}
