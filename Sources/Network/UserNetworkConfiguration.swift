import PCEmuSupport

/// What `-nic user` / `-netdev user` ask for: QEMU's fixed addresses
/// (network 10.0.2.0/24, the host 10.0.2.2, DNS 10.0.2.3, DHCP from
/// 10.0.2.15) and the host ports forwarded to the guest.
public struct UserNetworkConfiguration: Equatable {
    public struct PortForward: Equatable {
        public enum Proto: String, Equatable { case tcp, udp }
        public var proto: Proto
        /// Dotted quad; empty means any address.
        public var hostAddress: String
        public var hostPort: UInt16
        /// Dotted quad; empty means the address DHCP gives the guest.
        public var guestAddress: String
        public var guestPort: UInt16

        /// QEMU's spelling: `[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT`.
        public init(parsing text: String, option: String) throws {
            let bad = EmulatorError.badOption(option, "hostfwd=\(text): expected tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT")
            let sides = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard sides.count == 2 else { throw bad }
            var host = sides[0].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            let guest = sides[1].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            if host.count == 2 { host.insert("tcp", at: 0) }
            guard host.count == 3, guest.count == 2,
                  let proto = Proto(rawValue: host[0].isEmpty ? "tcp" : host[0]),
                  let hostPort = UInt16(host[2]), let guestPort = UInt16(guest[1]), guestPort != 0 else { throw bad }
            for address in [host[1], guest[0]] where !address.isEmpty && !UserNetworkConfiguration.isDottedQuad(address) {
                throw EmulatorError.badOption(option, "hostfwd=\(text): '\(address)' is not an IPv4 address")
            }
            self.proto = proto
            hostAddress = host[1]
            self.hostPort = hostPort
            guestAddress = guest[0]
            self.guestPort = guestPort
        }
    }

    public static let network = "10.0.2.0"
    public static let netmask = "255.255.255.0"
    public static let host = "10.0.2.2"
    public static let nameServer = "10.0.2.3"
    public static let firstDHCPAddress = "10.0.2.15"

    public var forwards: [PortForward] = []

    public init(forwards: [PortForward] = []) { self.forwards = forwards }

    static func isDottedQuad(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }
}
