import PCEmuSupport

extension MachineConfiguration.SocketAddress {
    /// QEMU's default gdb port, which `-s` stands for.
    public static let defaultGDBPort: UInt16 = 1234

    /// Where `-gdb` (and the monitor's `gdbserver`) listen: `tcp::PORT` on
    /// 127.0.0.1 (QEMU listens on every address; a debugger needs no more than
    /// this host), `tcp:HOST:PORT`, a bare `PORT`, or `unix:PATH[,server]`.
    public static func gdb(_ text: String, option: String) throws -> Self {
        if text.hasPrefix("unix:") {
            let path = text.dropFirst(5).split(separator: ",", omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !path.isEmpty else { throw EmulatorError.badOption(option, "'\(text)' names no path") }
            return .unix(path: path)
        }
        let spec = text.hasPrefix("tcp:") ? String(text.dropFirst(4)) : text
        let hostPort = spec.split(separator: ",", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        var host = "", portText = hostPort[...]
        if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            portText = hostPort[hostPort.index(after: colon)...]
        }
        guard let port = UInt16(portText), port != 0 else {
            throw EmulatorError.badOption(option, "'\(text)' is not tcp::PORT, tcp:HOST:PORT or unix:PATH")
        }
        return .tcp(host: host.isEmpty ? "127.0.0.1" : host, port: port)
    }
}
