import Configuration
import Foundation
import Machine
import PCEmuSupport
import XCTest

/// The network options as QEMU spells them, turned into cards on the buses.
final class NetworkCardsTests: XCTestCase {
    func machine(_ arguments: String) throws -> PCMachine {
        let parsed = try OptionParser().parse(arguments.split(separator: " ").map(String.init))
        return try TestMachine.make { config in
            config.nics = parsed.nics
            config.netdevs = parsed.netdevs
            config.devices = parsed.devices
        }
    }

    func testWithoutNetworkOptionsThereIsOneRTL8029() throws {
        let pc = try machine("")
        XCTAssertEqual(pc.ports.pciRead(slot: 3, offset: 0), 0x8029_10EC)
        XCTAssertEqual(pc.ports.pciRead(slot: 4, offset: 0), 0xFFFF_FFFF)
    }

    func testNicNoneMeansNoCard() throws {
        let pc = try machine("-nic none")
        XCTAssertEqual(pc.ports.pciRead(slot: 3, offset: 0), 0xFFFF_FFFF)
        XCTAssertEqual(pc.ports.pciRead(slot: 1, offset: 0), 0x7000_8086, "the bus is there")
    }

    func testISACardAtItsDefaultPortsAndWhereDeviceSaysSo() throws {
        let isaMachine = try machine("-nic user,model=ne2k_isa")
        let isa = isaMachine.ports
        XCTAssertEqual(isa.pciRead(slot: 3, offset: 0), 0xFFFF_FFFF)
        _ = isa.inb(0x31F)  // the reset port
        XCTAssertEqual(isa.inb(0x307) & 0x80, 0x80, "RST")

        let placedMachine = try machine("-netdev user,id=n0 -device ne2k_isa,netdev=n0,iobase=0x320,irq=10")
        let placed = placedMachine.ports
        _ = placed.inb(0x33F)
        XCTAssertEqual(placed.inb(0x327) & 0x80, 0x80)
        XCTAssertEqual(placed.inb(0x307), 0xFF, "nothing at the default base")
        withExtendedLifetime((isaMachine, placedMachine)) {}
    }

    func testTwoPCICardsGetSuccessiveSlots() throws {
        let pc = try machine("-nic user -netdev user,id=n1 -device ne2k_pci,netdev=n1")
        XCTAssertEqual(pc.ports.pciRead(slot: 3, offset: 0), 0x8029_10EC)
        XCTAssertEqual(pc.ports.pciRead(slot: 4, offset: 0), 0x8029_10EC)
    }

    func testMistakesAreOneLineErrors() {
        for (arguments, message) in [
            ("-device ne2k_pci", "ne2k_pci needs netdev=ID"),
            ("-device ne2k_pci,netdev=x", "no -netdev with id=x"),
            ("-netdev user,id=n0 -device ne2k_isa,netdev=n0,irq=22", "irq=22"),
            ("-netdev user,id=n0 -device ne2k_isa,netdev=n0,iobase=0xzz", "iobase=0xzz"),
            ("-nic user,hostfwd=tcp:1.2.3.4:80", "expected tcp|udp"),
            ("-nic user,hostfwd=tcp:localhost:80-:80", "not an IPv4 address"),
            ("-nic user,mac=01:00:00:00:00:01", "mac=01:00:00:00:00:01"),
        ] {
            XCTAssertThrowsError(try machine(arguments), arguments) { error in
                XCTAssertTrue("\(error)".contains(message), "\(arguments): \(error)")
            }
        }
    }

    /// The forwarded port listens as soon as the machine is built; a port
    /// already taken is refused by name.
    func testHostForwardListensOnLoopback() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let takenPort = UInt16(bigEndian: address.sin_port)
        XCTAssertEqual(listen(listener, 1), 0)
        XCTAssertThrowsError(try machine("-nic user,hostfwd=tcp:127.0.0.1:\(takenPort)-:80")) { error in
            XCTAssertTrue("\(error)".contains("cannot listen"), "\(error)")
        }
        close(listener)

        let forwarded = try machine("-nic user,hostfwd=tcp:127.0.0.1:\(takenPort)-:80")
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(connected, 0, "slirp listens on the host port")
        withExtendedLifetime(forwarded) {}
    }
}
