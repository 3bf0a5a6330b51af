import Foundation
import TestSupport
import XCTest

/// The default guest on user-mode networking: Linux's ne2k-pci (or ne for
/// the ISA card) gets an address from slirp's DHCP server, downloads a file
/// from an HTTP server this test runs on the host's 127.0.0.1 (10.0.2.2 to
/// the guest), and serves a file that a host client fetches through hostfwd.
final class NetworkGuestTests: XCTestCase {
    static let prompt = "pcemu:/root# "

    func testRTL8029FetchesFromTheHostAndServesThroughHostForward() throws {
        try exercise(card: ["-nic", "user,model=ne2k_pci,hostfwd=tcp:127.0.0.1:HOSTPORT-:8080"],
                     driver: "modprobe ne2k-pci")
    }

    /// The 82540EM: the host also fetches the 3 MiB file back from the guest,
    /// which Linux's e1000 driver sends through TCP segmentation offload.
    func testE1000FetchesFromTheHostAndServesThroughHostForward() throws {
        try exercise(card: ["-nic", "user,model=e1000,hostfwd=tcp:127.0.0.1:HOSTPORT-:8080"],
                     driver: "modprobe e1000", largeUpload: true)
    }

    /// IRQ 10: on a PC with ACPI (QEMU's too) IRQ 9 is the SCI, which the
    /// ne driver cannot share.
    func testISACardFetchesFromTheHostAndServesThroughHostForward() throws {
        try exercise(card: ["-netdev", "user,id=n0,hostfwd=tcp:127.0.0.1:HOSTPORT-:8080",
                            "-device", "ne2k_isa,netdev=n0,iobase=0x320,irq=10"],
                     driver: "modprobe ne io=0x320 irq=10")
    }

    private func exercise(card: [String], driver: String, largeUpload: Bool = false) throws {
        let payload = Data((0..<(3 << 20)).map { _ in UInt8.random(in: 0...255) })
        let server = try HTTPFileServer(body: payload)
        defer { server.stop() }
        let hostPort = try TestSockets.freeLoopbackPort()
        let guest = try DefaultGuest.paths()
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "256", "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", "console=ttyS0 quiet", "-nographic",
        ] + card.map { $0.replacingOccurrences(of: "HOSTPORT", with: "\(hostPort)") }, inputPipe: true)
        defer { pcemu.stop() }
        guard pcemu.waitForOutput(NetworkGuestTests.prompt, timeout: 300) else {
            return XCTFail("no shell prompt:\n\(pcemu.standardOutput.suffix(3000))\n\(pcemu.standardError.suffix(1000))")
        }

        XCTAssertNotNil(runInShell(driver, in: pcemu))
        // udhcpc's script: commands short enough that the shell does not redraw them.
        for line in ["cd /tmp", "echo '#!/bin/sh' > d.sh", "echo '[ \"$ip\" ] || exit 0' >> d.sh",
                     "echo 'm=\"netmask $subnet\"' >> d.sh", "echo 'ifconfig $interface $ip $m' >> d.sh",
                     "echo 'route add default gw $router' >> d.sh", "chmod +x d.sh; ifconfig eth0 up"] {
            XCTAssertNotNil(runInShell(line, in: pcemu), line)
        }
        let dhcp = try XCTUnwrap(runInShell("udhcpc -i eth0 -s /tmp/d.sh -q -n", in: pcemu))
        XCTAssertTrue(dhcp.contains("lease of 10.0.2.15 obtained"), dhcp)

        let fetched = try XCTUnwrap(runInShell("wget -q -O f http://10.0.2.2:\(server.port)/f", in: pcemu, timeout: 300))
        XCTAssertEqual(fetched, "", "wget says nothing when it succeeds")
        let expected = try Self.sha256(payload)
        XCTAssertEqual(runInShell("sha256sum f | cut -c1-64", in: pcemu), expected)

        let token = "tok\(UInt16.random(in: 1000...UInt16.max))"
        XCTAssertNotNil(runInShell("mkdir w; echo \(token) > w/t", in: pcemu))
        XCTAssertNotNil(runInShell("httpd -p 8080 -h /tmp/w", in: pcemu))
        let answer = try Self.httpGet(port: hostPort, path: "/t")
        XCTAssertTrue(answer.contains(token), answer)
        if largeUpload {
            // The 3 MiB the guest downloaded goes back to the host.
            XCTAssertNotNil(runInShell("mv f w/big", in: pcemu))
            let response = try Self.httpGetBytes(port: hostPort, path: "/big")
            // The body follows the header's blank line.
            let body = try XCTUnwrap(response.firstRange(of: Data("\r\n\r\n".utf8))).upperBound
            XCTAssertEqual(try Self.sha256(response[body...]), expected)
        }

        pcemu.send("poweroff -f\n")
        XCTAssertEqual(pcemu.wait(timeout: 60), 0)
    }

    /// The host's sha256sum of `data`.
    static func sha256(_ data: Data) throws -> String {
        let directory = try makeTemporaryDirectory("pcemu-network")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("payload")
        try data.write(to: file)
        return String(try ChildProcess.run("/usr/bin/sha256sum", [file.path]).stdout.prefix(64))
    }

    /// GET through the forwarded port, retried while the guest's server starts.
    static func httpGet(port: UInt16, path: String) throws -> String {
        String(decoding: try httpGetBytes(port: port, path: path), as: UTF8.self)
    }

    static func httpGetBytes(port: UInt16, path: String) throws -> Data {
        let deadline = Date(timeIntervalSinceNow: 60)
        while Date() < deadline {
            if let descriptor = TestSockets.connectLoopback(port: port) {
                defer { close(descriptor) }
                var timeout = TestSockets.receiveTimeout
                setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                let request = Array("GET \(path) HTTP/1.0\r\nHost: localhost\r\n\r\n".utf8)
                _ = request.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
                var response = [UInt8]()
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                    if count <= 0 { break }
                    response += buffer[..<count]
                }
                // slirp accepts before the guest answers; an empty reply means nobody listened yet.
                if !response.isEmpty { return Data(response) }
            }
            usleep(500_000)
        }
        throw TestSetupError("nothing answered on 127.0.0.1:\(port)")
    }
}

extension sockaddr_in {
    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// An HTTP/1.0 server on 127.0.0.1 that answers every GET with one body,
/// on its own thread, until stopped.
final class HTTPFileServer {
    let port: UInt16
    private let listener: Int32
    private let body: Data
    private let thread: Thread

    init(body: Data) throws {
        self.body = body
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var reuse: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0
            }
        } && listen(listener, 8) == 0
        guard listening else { throw TestSetupError("the HTTP server cannot listen on 127.0.0.1") }
        port = UInt16(bigEndian: address.sin_port)
        let descriptor = listener, payload = body
        thread = Thread {
            while true {
                let connection = accept(descriptor, nil, nil)
                if connection < 0 { return }
                HTTPFileServer.serve(connection, payload)
                close(connection)
            }
        }
        thread.start()
    }

    private static func serve(_ connection: Int32, _ body: Data) {
        var request = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 1024)
        while !request.suffix(4).elementsEqual(Array("\r\n\r\n".utf8)) {
            let count = buffer.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return }
            request += buffer[..<count]
        }
        let header = Array("HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
        var remaining = Data(header) + body
        while !remaining.isEmpty {
            let sent = remaining.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            remaining = remaining.dropFirst(sent)
        }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}
