import PCEmuSupport

/// Parses QEMU's spelling of the command line into a `MachineConfiguration`.
/// Syntax only: whether files exist and parts are built is `ConfigurationValidator`'s job.
public struct OptionParser {
    /// Options that take a value, and those that do not.
    static let valued: Set<String> = [
        "m", "smp", "bios", "pflash", "kernel", "initrd", "append", "hda", "hdb", "hdc", "hdd", "fda", "fdb", "cdrom",
        "drive", "boot", "nic", "netdev", "device", "audiodev", "display", "serial", "monitor", "qmp", "chardev", "mon", "debugcon", "d", "D",
        "accel", "name", "machine", "M", "cpu",
        "screendump", "vga", "loadvm", "incoming", "gdb",
    ]
    static let flags: Set<String> = [
        "nographic", "no-reboot", "snapshot", "usb", "version", "help", "h", "enable-kvm", "S", "s",
    ]

    /// -m's ceiling: 3 GiB below 4 GiB and the rest of a 36-bit physical space above it.
    public static let maximumMemoryBytes: UInt64 = (3 << 30) + ((1 << 36) - (1 << 32))

    public init() {}

    public func parse(_ arguments: [String]) throws -> MachineConfiguration {
        var config = MachineConfiguration()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("-"), argument.count > 1 else {
                // A bare file name is the first hard disk, as in QEMU.
                try addDrive(&config, file: argument, option: argument, interface: .ide, index: 0, media: .disk)
                continue
            }
            let name = String(argument.drop { $0 == "-" }.prefix(argument.count))
            let shown = "-" + name
            if OptionParser.flags.contains(name) {
                try applyFlag(name, shown: shown, to: &config)
                if config.action != .run { return config }
                continue
            }
            guard OptionParser.valued.contains(name) else {
                throw EmulatorError.badOption(argument, "unknown option (see pcemu -help)")
            }
            guard index < arguments.count else {
                throw EmulatorError.badOption(shown, "requires a value")
            }
            let value = arguments[index]
            index += 1
            try apply(name, shown: shown, value: value, to: &config)
            if config.action != .run { return config }
        }
        return config
    }

    private func applyFlag(_ name: String, shown: String, to config: inout MachineConfiguration) throws {
        switch name {
        case "nographic": config.noGraphic = true
        case "no-reboot": config.noReboot = true
        case "usb": config.usb = true
        case "snapshot": config.snapshot = true
        case "version": config.action = .version
        case "help", "h": config.action = .help
        case "enable-kvm": throw EmulatorError.badOption(shown, "PCEmu has no KVM; it translates guest code itself (-accel tcg)")
        case "S": config.startStopped = true
        case "s": config.gdb = .tcp(host: "127.0.0.1", port: MachineConfiguration.SocketAddress.defaultGDBPort)
        default: throw EmulatorError.badOption(shown, "unknown option (see pcemu -help)")
        }
    }

    private func apply(_ name: String, shown: String, value: String, to config: inout MachineConfiguration) throws {
        switch name {
        case "m":
            config.memoryBytes = try parseMemorySize(value, option: shown)
        case "smp":
            let options = try KeyValueList(value, option: shown, implicitKey: "cpus")
            try options.allowOnly(["cpus", "sockets", "cores", "threads", "maxcpus"])
            for key in ["cpus", "sockets", "cores", "threads", "maxcpus"] {
                guard let text = options.value(key) else { continue }
                guard let count = Int(text), count >= 1 else {
                    throw EmulatorError.badOption(shown, "invalid \(key) '\(text)'")
                }
                guard count == 1 else { throw EmulatorError.badOption(shown, "PCEmu emulates one CPU for now") }
            }
            config.cpuCount = 1
        case "loadvm":
            guard !value.isEmpty else { throw EmulatorError.badOption(shown, "which snapshot?") }
            config.loadSnapshot = value
        case "incoming": config.incoming = try MigrationEndpoint(value, option: shown)
        case "bios": config.bios = value
        case "kernel": config.kernel = value
        case "initrd": config.initrd = value
        case "append": config.append = value
        case "hda", "hdb", "hdc", "hdd":
            let unit = Int(name.unicodeScalars.last!.value - UnicodeScalar("a").value)
            try addDrive(&config, file: value, option: shown, interface: .ide, index: unit, media: .disk)
        case "fda", "fdb":
            let unit = name == "fda" ? 0 : 1
            try addDrive(&config, file: value, option: shown, interface: .floppy, index: unit, media: .disk)
        case "cdrom":
            try addDrive(&config, file: value, option: shown, interface: .ide, index: 2, media: .cdrom)
        case "drive": try parseDrive(value, option: shown, into: &config)
        case "pflash":
            var drive = MachineConfiguration.Drive(option: shown)
            drive.file = value
            drive.interface = .pflash
            try addDrive(&config, drive)
        case "boot": config.boot = try parseBoot(value, option: shown)
        case "nic":
            let list = try KeyValueList(value, option: shown, implicitKey: "type")
            config.nics.append(.init(kind: list.value("type") ?? "", properties: list.pairs.filter { $0.key != "type" }, option: shown))
        case "netdev":
            let list = try KeyValueList(value, option: shown, implicitKey: "type")
            let netdev = MachineConfiguration.Component(kind: list.value("type") ?? "", properties: list.pairs.filter { $0.key != "type" }, option: shown)
            guard netdev.value("id") != nil else { throw EmulatorError.badOption(shown, "needs id=NAME") }
            config.netdevs.append(netdev)
        case "device":
            let list = try KeyValueList(value, option: shown, implicitKey: "driver")
            config.devices.append(.init(kind: list.value("driver") ?? "", properties: list.pairs.filter { $0.key != "driver" }, option: shown))
        case "audiodev":
            let list = try KeyValueList(value, option: shown, implicitKey: "driver")
            let device = MachineConfiguration.Component(kind: list.value("driver") ?? "", properties: list.pairs.filter { $0.key != "driver" }, option: shown)
            guard ["pa", "wav", "none"].contains(device.kind) else {
                throw EmulatorError.badOption(shown, "unknown audio driver '\(device.kind)' (pa, wav or none)")
            }
            guard device.value("id") != nil else { throw EmulatorError.badOption(shown, "needs id=NAME") }
            if device.kind == "wav", device.value("path") == nil {
                throw EmulatorError.badOption(shown, "the wav driver needs path=FILE")
            }
            config.audiodevs.append(device)
        case "display":
            let list = try KeyValueList(value, option: shown, implicitKey: "type")
            switch list.value("type") {
            case "sdl": config.display = .sdl
            case "none": config.display = .headless
            default: throw EmulatorError.badOption(shown, "unknown display '\(list.value("type") ?? "")' (sdl or none)")
            }
            try list.allowOnly(["type"])
        case "screendump": config.screendump = value
        case "vga": config.vga = try parseVGA(value, option: shown)
        case "serial":
            guard config.serial.count < 4 else { throw EmulatorError.badOption(shown, "at most 4 serial ports") }
            config.serial.append(try parseCharacterDevice(value, option: shown))
            if value == "mon:stdio" { config.serialSharesMonitor = true }
        case "monitor":
            config.monitor = try parseCharacterDevice(value, option: shown)
        case "qmp":
            config.qmp.append(try parseCharacterDevice(value, option: shown))
        case "chardev":
            let (id, device) = try parseChardev(value, option: shown)
            guard config.chardevs[id] == nil else { throw EmulatorError.badOption(shown, "duplicate ID '\(id)'") }
            config.chardevs[id] = device
        case "mon":
            try parseMon(value, option: shown, into: &config)
        case "gdb":
            config.gdb = value == "none" ? nil : try .gdb(value, option: shown)
        case "debugcon":
            config.debugConsole = try parseCharacterDevice(value, option: shown)
        case "d":
            if value == "help" { config.action = .logHelp; return }
            _ = try LogCategory.parse(value)
            config.logList = value
        case "D": config.logFile = value
        case "accel":
            let list = try KeyValueList(value, option: shown, implicitKey: "accel")
            guard list.value("accel") == "tcg" else {
                throw EmulatorError.badOption(shown, "unknown accelerator '\(list.value("accel") ?? "")' (PCEmu has tcg)")
            }
            try list.allowOnly(["accel", "backend", "thread", "tb-size"])
            switch list.value("backend") {
            case nil: config.backend = nil
            case "jit": config.backend = .jit
            case "interp": config.backend = .interpreter
            case let other?: throw EmulatorError.badOption(shown, "unknown backend '\(other)' (jit or interp)")
            }
            if let size = list.value("tb-size") {
                // Chained jumps between blocks are rel32: the cache stays under 2 GiB.
                guard let mebibytes = Int(size), mebibytes >= 1, mebibytes <= 2047 else {
                    throw EmulatorError.badOption(shown, "tb-size is the code cache in MiB, 1 to 2047 (not '\(size)')")
                }
                config.codeCacheMiB = mebibytes
            }
        case "name":
            let list = try KeyValueList(value, option: shown, implicitKey: "guest")
            config.name = list.value("guest")
        case "machine", "M":
            let list = try KeyValueList(value, option: shown, implicitKey: "type")
            let type = list.value("type") ?? ""
            guard type == "pc" || type.hasPrefix("pc-i440fx") else {
                throw EmulatorError.badOption(shown, "unknown machine '\(type)' (PCEmu is an i440FX PC: pc)")
            }
            if let id = list.value("pcspk-audiodev") { config.pcSpeakerAudiodev = id }
        case "cpu":
            try parseCPU(value, option: shown, into: &config)
        default:
            throw EmulatorError.badOption(shown, "unknown option (see pcemu -help)")
        }
    }

    /// -cpu MODEL[,+feature|-feature|feature=on|off...], or `help`. The
    /// model and feature names are checked when the machine is built.
    func parseCPU(_ value: String, option: String, into config: inout MachineConfiguration) throws {
        if value == "help" || value == "?" {
            config.action = .cpuHelp
            return
        }
        var parts = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let model = parts.removeFirst()
        guard !model.isEmpty else { throw EmulatorError.badOption(option, "no CPU model named (see -cpu help)") }
        config.cpuModel = model
        for part in parts {
            if part.hasPrefix("+") || part.hasPrefix("-") {
                config.cpuFeatureChanges.append(.init(feature: String(part.dropFirst()), enabled: part.hasPrefix("+")))
                continue
            }
            let pieces = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard let name = pieces.first, !name.isEmpty else {
                throw EmulatorError.badOption(option, "empty CPU property in '\(value)'")
            }
            switch pieces.count == 1 ? "on" : pieces[1] {
            case "on", "true", "yes": config.cpuFeatureChanges.append(.init(feature: name, enabled: true))
            case "off", "false", "no": config.cpuFeatureChanges.append(.init(feature: name, enabled: false))
            default:
                throw EmulatorError.badOption(option, "CPU property '\(name)' takes on or off (only feature flags can be set)")
            }
        }
    }

    /// Sizes as QEMU reads them: a number with an optional K, M, G or T suffix, MiB by default.
    func parseMemorySize(_ value: String, option: String) throws -> Int {
        let list = try KeyValueList(value, option: option, implicitKey: "size")
        try list.allowOnly(["size"])
        let text = list.value("size") ?? ""
        var digits = Substring(text)
        var unit = Double(1 << 20)
        if let last = digits.last, last.isLetter {
            switch last.uppercased() {
            case "B": unit = 1
            case "K": unit = Double(1 << 10)
            case "M": unit = Double(1 << 20)
            case "G": unit = Double(1 << 30)
            case "T": unit = Double(1 << 40)
            default: throw EmulatorError.badOption(option, "invalid size '\(text)'")
            }
            digits = digits.dropLast()
        }
        guard let number = Double(digits), number.isFinite, number > 0 else {
            throw EmulatorError.badOption(option, "invalid size '\(text)'")
        }
        let bytes = number * unit
        guard bytes >= Double(1 << 20) else { throw EmulatorError.badOption(option, "at least 1 MiB of RAM is needed") }
        // The 36-bit physical address space less the 1 GiB hole below 4 GiB (PCI devices
        // and the BIOS) that a machine with this much RAM leaves; the host's own limit is GuestRAM's.
        guard bytes <= Double(OptionParser.maximumMemoryBytes) else {
            throw EmulatorError.badOption(option, "at most \(OptionParser.maximumMemoryBytes >> 30) GiB of RAM (36-bit physical addresses)")
        }
        let pageMask = 4095
        return (Int(bytes) + pageMask) & ~pageMask
    }

    private func parseDrive(_ value: String, option: String, into config: inout MachineConfiguration) throws {
        let list = try KeyValueList(value, option: option, implicitKey: nil)
        try list.allowOnly(["file", "format", "if", "index", "unit", "media", "readonly", "snapshot", "cache", "id"])
        var drive = MachineConfiguration.Drive(option: option)
        drive.file = list.value("file")
        if let format = list.value("format") {
            guard let parsed = MachineConfiguration.Drive.Format(rawValue: format) else {
                throw EmulatorError.badOption(option, "unknown format '\(format)' (raw or qcow2)")
            }
            drive.format = parsed
        }
        if let interface = list.value("if") {
            guard let parsed = MachineConfiguration.Drive.Interface(rawValue: interface) else {
                throw EmulatorError.badOption(option, "unknown interface '\(interface)' (ide, floppy or pflash)")
            }
            drive.interface = parsed
        }
        if let media = list.value("media") {
            guard let parsed = MachineConfiguration.Drive.Media(rawValue: media) else {
                throw EmulatorError.badOption(option, "unknown media '\(media)' (disk or cdrom)")
            }
            drive.media = parsed
        }
        // A flash unit is its index (QEMU's if=pflash has one unit per bus).
        if drive.interface == .pflash, let unit = list.value("unit") {
            guard list.value("index") == nil || list.value("index") == unit else {
                throw EmulatorError.badOption(option, "index and unit disagree")
            }
        } else if list.value("unit") != nil {
            throw EmulatorError.badOption(option, "unit= is taken for if=pflash only (use index=)")
        }
        if let index = list.value("index") ?? list.value("unit") {
            let limit = drive.interface == .ide ? 4 : 2
            guard let parsed = Int(index), (0..<limit).contains(parsed) else {
                throw EmulatorError.badOption(option, "index must be 0 to \(limit - 1) for if=\(drive.interface.rawValue)")
            }
            drive.index = parsed
        }
        if let readOnly = list.value("readonly") { drive.readOnly = try parseBool(readOnly, option: option) }
        if let snapshot = list.value("snapshot") { drive.snapshot = try parseBool(snapshot, option: option) }
        guard drive.file != nil || drive.media == .cdrom else {
            throw EmulatorError.badOption(option, "a disk needs file=PATH")
        }
        try addDrive(&config, drive)
    }

    private func addDrive(_ config: inout MachineConfiguration, file: String, option: String,
                          interface: MachineConfiguration.Drive.Interface, index: Int,
                          media: MachineConfiguration.Drive.Media) throws {
        var drive = MachineConfiguration.Drive(option: option)
        drive.file = file
        drive.interface = interface
        drive.index = index
        drive.media = media
        try addDrive(&config, drive)
    }

    private func addDrive(_ config: inout MachineConfiguration, _ drive: MachineConfiguration.Drive) throws {
        if let index = drive.index,
           let other = config.drives.first(where: { $0.interface == drive.interface && $0.index == index }) {
            throw EmulatorError.badOption(drive.option, "\(drive.interface.rawValue) unit \(index) is already used by \(other.option)")
        }
        var drive = drive
        if drive.interface == .pflash, drive.index == nil {
            // As QEMU: the next unit after the highest one given so far.
            let next = (config.drives.filter { $0.interface == .pflash }.compactMap(\.index).max() ?? -1) + 1
            guard next < 2 else { throw EmulatorError.badOption(drive.option, "too many pflash units (the pc machine has 2)") }
            drive.index = next
        }
        config.drives.append(drive)
    }

    private func parseBoot(_ value: String, option: String) throws -> MachineConfiguration.Boot {
        let list = try KeyValueList(value, option: option, implicitKey: "order")
        try list.allowOnly(["order", "once", "menu", "strict", "splash-time", "reboot-timeout"])
        var boot = MachineConfiguration.Boot()
        func letters(_ text: String) throws -> String {
            guard !text.isEmpty, text.allSatisfy({ "abcdn".contains($0) }) else {
                throw EmulatorError.badOption(option, "invalid boot device list '\(text)' (letters a, b, c, d, n)")
            }
            return text
        }
        if let order = list.value("order") { boot.order = try letters(order) }
        if let once = list.value("once") { boot.once = try letters(once) }
        if let menu = list.value("menu") { boot.menu = try parseBool(menu, option: option) }
        return boot
    }

    /// QEMU's -vga types: std and none are built; the others are named as missing.
    private func parseVGA(_ value: String, option: String) throws -> MachineConfiguration.VGAType {
        let missing = [
            "cirrus": "the Cirrus CLGD 5446 VGA", "vmware": "the VMware SVGA adapter", "qxl": "the QXL adapter",
            "virtio": "the virtio GPU", "tcx": "the Sun TCX framebuffer", "cg3": "the Sun cgthree framebuffer",
            "xenfb": "the Xen framebuffer",
        ]
        if let part = missing[value] { throw EmulatorError.notBuilt("\(option) \(value)", part) }
        guard let type = MachineConfiguration.VGAType(rawValue: value) else {
            throw EmulatorError.badOption(option, "unknown VGA type '\(value)' (std or none)")
        }
        return type
    }

    private func parseCharacterDevice(_ value: String, option: String) throws -> MachineConfiguration.CharacterDevice {
        switch value {
        case "stdio", "mon:stdio": return .stdio
        case "null": return .null
        case "none": return .disabled
        default:
            if value.hasPrefix("file:"), value.count > 5 { return .file(String(value.dropFirst(5))) }
            if value.hasPrefix("unix:") || value.hasPrefix("tcp:") { return try parseSocket(value, option: option) }
            throw EmulatorError.badOption(option, "unknown character device '\(value)' (stdio, file:PATH, unix:PATH,server, tcp:HOST:PORT,server, null or none)")
        }
    }

    /// `-chardev socket,id=ID,path=PATH|host=H,port=P,server=on,wait=off`,
    /// `stdio,id=ID` or `null,id=ID`: what `-mon chardev=ID` then names.
    private func parseChardev(_ value: String, option: String) throws -> (String, MachineConfiguration.CharacterDevice) {
        let list = try KeyValueList(value, option: option, implicitKey: "backend")
        guard let id = list.value("id"), !id.isEmpty else { throw EmulatorError.badOption(option, "needs id=NAME") }
        switch list.value("backend") {
        case "socket":
            try list.allowOnly(["backend", "id", "path", "host", "port", "server", "wait"])
            let server = try list.value("server").map { try parseBool($0, option: option) } ?? false
            let wait = try list.value("wait").map { try parseBool($0, option: option) } ?? true
            guard server else { throw EmulatorError.badOption(option, "only listening sockets are built: add server=on") }
            if let path = list.value("path"), !path.isEmpty { return (id, .socket(.unix(path: path), wait: wait)) }
            guard let text = list.value("port"), let port = UInt16(text), port != 0 else {
                throw EmulatorError.badOption(option, "a socket needs path=PATH or port=PORT")
            }
            let host = list.value("host") ?? ""
            return (id, .socket(.tcp(host: host.isEmpty ? "0.0.0.0" : host, port: port), wait: wait))
        case "stdio":
            try list.allowOnly(["backend", "id", "signal"])
            return (id, .stdio)
        case "null":
            try list.allowOnly(["backend", "id"])
            return (id, .null)
        default:
            throw EmulatorError.badOption(option, "unknown backend '\(list.value("backend") ?? "")' (socket, stdio or null)")
        }
    }

    /// `-mon chardev=ID,mode=control` (QMP) or `mode=readline` (the human monitor).
    private func parseMon(_ value: String, option: String, into config: inout MachineConfiguration) throws {
        let list = try KeyValueList(value, option: option, implicitKey: "chardev")
        try list.allowOnly(["chardev", "mode", "pretty"])
        guard let id = list.value("chardev"), let device = config.chardevs[id] else {
            throw EmulatorError.badOption(option, "chardev '\(list.value("chardev") ?? "")' not found (give -chardev id=\(list.value("chardev") ?? "ID") first)")
        }
        if let pretty = list.value("pretty"), try parseBool(pretty, option: option) {
            throw EmulatorError.badOption(option, "pretty=on is not built: QMP replies are one line each")
        }
        switch list.value("mode") ?? "readline" {
        case "control": config.qmp.append(device)
        case "readline":
            guard config.monitor == nil else { throw EmulatorError.badOption(option, "PCEmu has one human monitor, and it is set already") }
            config.monitor = device
        case let mode: throw EmulatorError.badOption(option, "unknown mode '\(mode)' (control or readline)")
        }
    }

    /// `unix:PATH,server[,nowait]` and `tcp:HOST:PORT,server[,nowait]` (also
    /// `server=on`, `wait=off`), as QEMU writes them. Only the listening side
    /// is built: a client socket is refused by name.
    private func parseSocket(_ value: String, option: String) throws -> MachineConfiguration.CharacterDevice {
        let isUnix = value.hasPrefix("unix:")
        // QEMU's bare flags, as key=value items.
        let items = value.dropFirst(isUnix ? 5 : 4).split(separator: ",", omittingEmptySubsequences: false).enumerated().map {
            $0.offset > 0 && $0.element == "server" ? "server=on" : $0.offset > 0 && $0.element == "nowait" ? "wait=off" : String($0.element)
        }
        guard let first = items.first, !first.isEmpty else { throw EmulatorError.badOption(option, "'\(value)' names no address") }
        let text = items.joined(separator: ",")
        let list = try KeyValueList(text, option: option, implicitKey: "address")
        var address: String?, server = false, wait = true
        for (key, item) in list.pairs {
            switch key {
            case "address": address = item
            case "server": server = try parseBool(item, option: option)
            case "wait": wait = try parseBool(item, option: option)
            default: throw EmulatorError.badOption(option, "unknown socket option '\(key)' (server, wait, nowait)")
            }
        }
        guard let address, !address.isEmpty else { throw EmulatorError.badOption(option, "'\(value)' names no address") }
        guard server else { throw EmulatorError.badOption(option, "only listening sockets are built: add ',server'") }
        if isUnix { return .socket(.unix(path: address), wait: wait) }
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]), port != 0 else {
            throw EmulatorError.badOption(option, "'\(value)' is not tcp:HOST:PORT")
        }
        let host = String(address[..<colon])
        return .socket(.tcp(host: host.isEmpty ? "0.0.0.0" : host, port: port), wait: wait)
    }

    private func parseBool(_ value: String, option: String) throws -> Bool {
        switch value {
        case "on", "yes", "true": return true
        case "off", "no", "false": return false
        default: throw EmulatorError.badOption(option, "'\(value)' is not on or off")
        }
    }
}

/// QEMU's "a,b=c,d=e" lists. The first item may lack a key (`implicitKey`);
/// a doubled comma is a comma inside a value, as in file names.
struct KeyValueList {
    var pairs: [(key: String, value: String)] = []
    let option: String

    init(_ text: String, option: String, implicitKey: String?) throws {
        self.option = option
        var items: [String] = []
        var current = ""
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if character == "," {
                if characters.first == "," { current.append(","); characters.removeFirst(); continue }
                items.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        items.append(current)
        for (position, item) in items.enumerated() {
            if let equals = item.firstIndex(of: "=") {
                pairs.append((String(item[..<equals]), String(item[item.index(after: equals)...])))
            } else if position == 0, let implicitKey, !item.isEmpty {
                pairs.append((implicitKey, item))
            } else {
                throw EmulatorError.badOption(option, "'\(item)' is not key=value in '\(text)'")
            }
        }
    }

    func value(_ key: String) -> String? { pairs.last { $0.key == key }?.value }

    func allowOnly(_ keys: Set<String>) throws {
        if let unknown = pairs.first(where: { !keys.contains($0.key) }) {
            throw EmulatorError.badOption(option, "unknown property '\(unknown.key)'")
        }
    }
}
