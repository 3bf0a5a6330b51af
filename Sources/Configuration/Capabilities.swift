/// The parts of the machine PCEmu has built. The machine publishes its set; an
/// option that needs a part outside it is refused by name, never ignored.
public struct Capabilities: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let cpu = Capabilities(rawValue: 1 << 0)
    public static let firmware = Capabilities(rawValue: 1 << 1)
    public static let directLinuxBoot = Capabilities(rawValue: 1 << 2)
    public static let ideDisk = Capabilities(rawValue: 1 << 3)
    public static let ideCDROM = Capabilities(rawValue: 1 << 4)
    public static let floppy = Capabilities(rawValue: 1 << 5)
    public static let qcow2 = Capabilities(rawValue: 1 << 6)
    public static let snapshot = Capabilities(rawValue: 1 << 7)
    public static let ne2000 = Capabilities(rawValue: 1 << 8)
    public static let userNetwork = Capabilities(rawValue: 1 << 9)
    public static let soundBlaster = Capabilities(rawValue: 1 << 10)
    public static let pulseAudio = Capabilities(rawValue: 1 << 11)
    public static let wavAudio = Capabilities(rawValue: 1 << 12)
    public static let sdlDisplay = Capabilities(rawValue: 1 << 13)
    public static let serialPorts = Capabilities(rawValue: 1 << 14)
    public static let monitor = Capabilities(rawValue: 1 << 15)
    public static let debugPorts = Capabilities(rawValue: 1 << 16)
    public static let jit = Capabilities(rawValue: 1 << 17)
    public static let e1000 = Capabilities(rawValue: 1 << 18)
    public static let qmp = Capabilities(rawValue: 1 << 19)
    public static let gdbStub = Capabilities(rawValue: 1 << 21)
    public static let standardVGA = Capabilities(rawValue: 1 << 24)
    public static let usb = Capabilities(rawValue: 1 << 26)
    public static let ac97 = Capabilities(rawValue: 1 << 27)
    public static let intelHDA = Capabilities(rawValue: 1 << 28)
    public static let parallelFlash = Capabilities(rawValue: 1 << 29)

    /// How a refusal names each part: "-hda: IDE disks are not built yet".
    public static let partNames: [(Capabilities, String)] = [
        (.cpu, "the x86 CPU"), (.firmware, "booting firmware (SeaBIOS)"),
        (.directLinuxBoot, "direct Linux boot"), (.ideDisk, "IDE disks"), (.ideCDROM, "the ATAPI CD-ROM"),
        (.floppy, "the floppy controller"), (.qcow2, "the qcow2 format"), (.snapshot, "-snapshot overlays"),
        (.ne2000, "the NE2000 network card"), (.userNetwork, "user-mode networking"),
        (.soundBlaster, "the Sound Blaster 16"), (.pulseAudio, "the PulseAudio back end"),
        (.wavAudio, "the WAV audio back end"), (.sdlDisplay, "the SDL display"),
        (.serialPorts, "the serial ports"), (.monitor, "the monitor"), (.qmp, "QMP"), (.debugPorts, "the debug console ports"),
        (.jit, "the x86-64 JIT backend"), (.e1000, "the e1000 network card"), (.gdbStub, "the gdb stub"),
        (.standardVGA, "the standard VGA"),
        (.usb, "the USB controller and devices"),
        (.ac97, "the AC97 sound card"), (.intelHDA, "Intel HDA sound"), (.parallelFlash, "the parallel flash (if=pflash)"),
    ]

    public static func name(of part: Capabilities) -> String {
        partNames.first { $0.0 == part }?.1 ?? "this part"
    }
}
