import Foundation
import Glibc
import TestSupport

/// Client sockets for the guest tests: one connect to 127.0.0.1:PORT or to
/// a Unix socket, and the retry loop for a server that is still starting.
enum TestSockets {
    /// How long a test waits for a reply before giving up on it.
    static let receiveTimeout = timeval(tv_sec: 30, tv_usec: 0)

    /// A port on 127.0.0.1 nothing listens on now (bound, read back, closed).
    static func freeLoopbackPort() throws -> UInt16 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw TestSetupError("cannot bind a loopback port") }
        return UInt16(bigEndian: address.sin_port)
    }

    /// A TCP socket connected to 127.0.0.1:`port`, or nil.
    static func connectLoopback(port: UInt16) -> Int32? {
        var address = sockaddr_in.loopback(port: port)
        return connect(family: AF_INET, to: &address)
    }

    /// A stream socket connected to the Unix socket at `path`, or nil.
    static func connectUnix(path: String) -> Int32? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8) + [0]
        guard bytes.count <= MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return connect(family: AF_UNIX, to: &address)
    }

    /// Tries `attempt` every 100 ms until it connects or `timeout` passes;
    /// the socket it gives gets the receive timeout.
    static func waitForConnection(timeout: TimeInterval, to what: String, _ attempt: () -> Int32?) throws -> Int32 {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while true {
            if let descriptor = attempt() {
                var limit = receiveTimeout
                setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
                return descriptor
            }
            guard Date() < deadline else { throw TestSetupError("nothing answered at \(what)") }
            usleep(100_000)
        }
    }

    private static func connect<Address>(family: Int32, to address: inout Address) -> Int32? {
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
        if connected == 0 { return descriptor }
        close(descriptor)
        return nil
    }
}
