import Configuration
import Foundation
import Glibc
import PCEmuSupport

/// A listening stream socket on a Unix path or a TCP address, as `-monitor
/// unix:PATH,server` and `tcp:HOST:PORT,server` ask for. A Unix path left by
/// an earlier run is replaced, as QEMU does.
final class ListeningSocket {
    let descriptor: Int32
    let address: MachineConfiguration.SocketAddress

    init(_ address: MachineConfiguration.SocketAddress, option: String) throws {
        self.address = address
        switch address {
        case let .unix(path):
            var socketAddress = sockaddr_un()
            socketAddress.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: socketAddress.sun_path) else {
                throw EmulatorError.badOption(option, "socket path '\(path)' is too long")
            }
            withUnsafeMutableBytes(of: &socketAddress.sun_path) { raw in
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            unlink(path)
            descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else { throw ListeningSocket.failure(option, address, "socket") }
            let bound = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0 else { close(descriptor); throw ListeningSocket.failure(option, address, "bind") }
        case let .tcp(host, port):
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_flags = AI_PASSIVE
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
                throw EmulatorError.badOption(option, "cannot resolve '\(host)'")
            }
            defer { freeaddrinfo(list) }
            descriptor = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else { throw ListeningSocket.failure(option, address, "socket") }
            var on: Int32 = 1
            setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
            guard bind(descriptor, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
                close(descriptor)
                throw ListeningSocket.failure(option, address, "bind")
            }
        }
        guard listen(descriptor, 1) == 0 else { close(descriptor); throw ListeningSocket.failure(option, address, "listen") }
    }

    deinit {
        close(descriptor)
        if case let .unix(path) = address { unlink(path) }
    }

    /// Serves clients one after another on a thread named `name`, each
    /// until `serve` returns. With `waitForFirst` (QEMU's `wait`, the
    /// default for a server socket) it returns only once the first client
    /// is connected.
    func serveClients(waitForFirst: Bool, threadName name: String, _ serve: @escaping (Int32) -> Void) {
        let first = waitForFirst ? accept() : nil
        let thread = Thread { [self] in
            if let first { serve(first) }
            while let client = accept() { serve(client) }
        }
        thread.name = name
        thread.start()
    }

    /// Blocks until a client connects; nil when the socket is closed.
    func accept() -> Int32? {
        while true {
            let client = Glibc.accept(descriptor, nil, nil)
            if client >= 0 {
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                return client
            }
            if errno != EINTR { return nil }
        }
    }

    private static func failure(_ option: String, _ address: MachineConfiguration.SocketAddress, _ call: String) -> EmulatorError {
        .badOption(option, "cannot listen on \(address): \(call): \(String(cString: strerror(errno)))")
    }
}
