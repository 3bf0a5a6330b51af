/// Everything the command line says about the machine to build. Plain values,
/// filled in by `OptionParser`, read by the machine.
public struct MachineConfiguration: Equatable {
    public enum Action: Equatable { case run, help, version, logHelp, cpuHelp }
    public enum Display: Equatable { case sdl, headless }
    public enum Backend: Equatable { case jit, interpreter }
    /// `-vga`: QEMU's standard VGA, or no display adapter at all.
    public enum VGAType: String, Equatable { case std, none }
    public enum CharacterDevice: Equatable {
        case stdio
        case file(String)
        case null
        case disabled
        /// A listening socket (`unix:PATH,server` or `tcp:HOST:PORT,server`);
        /// `wait`: start only once a client has connected.
        case socket(SocketAddress, wait: Bool)
    }

    public enum SocketAddress: Equatable, CustomStringConvertible {
        case unix(path: String)
        case tcp(host: String, port: UInt16)

        public var description: String {
            switch self {
            case let .unix(path): "unix:\(path)"
            case let .tcp(host, port): "tcp:\(host):\(port)"
            }
        }
    }

    public struct Drive: Equatable {
        public enum Interface: String, Equatable { case ide, floppy, pflash }
        public enum Media: String, Equatable { case disk, cdrom }
        public enum Format: String, Equatable { case raw, qcow2 }
        public var file: String?
        public var format: Format?
        public var interface: Interface = .ide
        public var index: Int?
        public var media: Media = .disk
        public var readOnly = false
        /// snapshot=on: this drive's writes go to a temporary overlay, as with -snapshot.
        public var snapshot = false
        /// The option that asked for it, for messages.
        public var option: String
    }

    public struct Boot: Equatable {
        /// Boot device letters in order: a b (floppy), c (disk), d (CD), n (network).
        public var order = "cad"
        public var once: String?
        public var menu = false
    }

    /// A -nic, -netdev or -device: a kind and its key=value properties in order.
    public struct Component: Equatable {
        public var kind: String
        public var properties: [(key: String, value: String)]
        public var option: String

        public func value(_ key: String) -> String? {
            properties.last { $0.key == key }?.value
        }

        public static func == (a: Component, b: Component) -> Bool {
            a.kind == b.kind && a.option == b.option
                && a.properties.map { "\($0.key)=\($0.value)" } == b.properties.map { "\($0.key)=\($0.value)" }
        }
    }

    public var action: Action = .run
    public var memoryBytes = 128 << 20
    public var cpuCount = 1
    /// -cpu's model name (nil: the default model) and its +feature/-feature changes in order.
    public var cpuModel: String?
    public var cpuFeatureChanges: [CPUFeatureChange] = []
    public struct CPUFeatureChange: Equatable {
        public var feature: String
        public var enabled: Bool
    }
    public var bios: String?
    public var kernel: String?
    public var initrd: String?
    public var append: String?
    public var drives: [Drive] = []
    public var boot = Boot()
    public var nics: [Component] = []
    public var netdevs: [Component] = []
    public var devices: [Component] = []
    public var audiodevs: [Component] = []
    /// `-machine pcspk-audiodev=ID`: the PC speaker plays through that -audiodev.
    public var pcSpeakerAudiodev: String?
    /// nil: SDL when there is a display to open, none otherwise.
    public var display: Display?
    /// nil: the standard VGA, unless a -device VGA takes its place.
    public var vga: VGAType?
    public var serial: [CharacterDevice] = []
    public var monitor: CharacterDevice?
    /// `-serial mon:stdio`: that serial port shares the terminal with the monitor.
    public var serialSharesMonitor = false
    /// `-qmp`, `-mon mode=control`: QMP servers, each on its own socket (or stdio).
    public var qmp: [CharacterDevice] = []
    /// `-chardev ID`s, for `-mon chardev=ID` to name.
    public var chardevs: [String: CharacterDevice] = [:]
    /// `-debugcon`: where bytes written to the debug ports 0x402 (SeaBIOS's
    /// log) and 0xE9 (Bochs's) go; nil discards them.
    public var debugConsole: CharacterDevice?
    public var noGraphic = false
    /// `-screendump FILE`: the screen as a PPM image (the monitor command's
    /// format) when pcemu exits: what the window shows, or the VGA's picture without one.
    public var screendump: String?
    public var noReboot = false
    /// `-gdb` or `-s`: where the gdb stub listens.
    public var gdb: SocketAddress?
    /// `-S`: the guest waits, stopped, for the monitor's `cont`.
    public var startStopped = false
    /// `-loadvm TAG`: start from the disks' internal snapshot TAG.
    public var loadSnapshot: String?
    /// `-incoming file:PATH|exec:CMD`: start from a machine state saved by `migrate`.
    public var incoming: MigrationEndpoint?
    /// `-usb`: the PIIX3's UHCI controller at 01.2.
    public var usb = false
    public var snapshot = false
    public var logList: String?
    public var logFile: String?
    /// nil: the fastest backend built.
    public var backend: Backend?
    /// `-accel tcg,tb-size=N`: the JIT's code cache in MiB (QEMU's default, 1 GiB).
    public var codeCacheMiB = 1024
    public var name: String?

    public init() {}

    /// The serial ports as the machine wires them: -nographic puts COM1 on the
    /// terminal unless -serial says otherwise; without either, COM1 is discarded.
    public var effectiveSerial: [CharacterDevice] {
        if !serial.isEmpty { return serial }
        return noGraphic ? [.stdio] : [.null]
    }

    /// The human monitor on the terminal: `-monitor stdio`, `-serial
    /// mon:stdio`, or, as QEMU does, -nographic without a -monitor or -qmp of
    /// its own and with no serial port given the terminal by name.
    public var monitorOnTerminal: Bool {
        if let monitor { return monitor == .stdio }
        if serialSharesMonitor { return true }
        return noGraphic && qmp.isEmpty && !serial.contains(.stdio)
    }

    public var effectiveDisplay: Display {
        if noGraphic { return .headless }
        return display ?? .sdl
    }
}
