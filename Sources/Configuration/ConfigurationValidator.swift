import Foundation
import PCEmuSupport

/// Checks a parsed configuration against the files on disk and the parts the
/// machine has built. It only reads: no image is opened for writing here.
public struct ConfigurationValidator {
    public let available: Capabilities
    /// Device names `-device` knows, and the part each needs.
    static let deviceParts: [String: Capabilities] = [
        "ne2k_pci": .ne2000, "ne2k_isa": .ne2000, "e1000": .e1000, "sb16": .soundBlaster, "adlib": .soundBlaster,
        "isa-debugcon": .debugPorts, "VGA": .standardVGA,
        "piix3-usb-uhci": .usb, "qemu-xhci": .usb, "usb-tablet": .usb, "usb-mouse": .usb, "usb-kbd": .usb,
        "AC97": .ac97, "intel-hda": .intelHDA, "hda-duplex": .intelHDA, "hda-output": .intelHDA,
    ]
    /// NIC models and the part each needs.
    static let nicModels: [String: Capabilities] = ["ne2k_pci": .ne2000, "ne2k_isa": .ne2000, "e1000": .e1000]

    public init(available: Capabilities) { self.available = available }

    public func validate(_ config: MachineConfiguration) throws {
        if config.initrd != nil, config.kernel == nil {
            throw EmulatorError.badOption("-initrd", "only allowed with -kernel")
        }
        if config.append != nil, config.kernel == nil {
            throw EmulatorError.badOption("-append", "only allowed with -kernel")
        }
        for (option, path) in [("-bios", config.bios), ("-kernel", config.kernel), ("-initrd", config.initrd)] {
            if let path { try checkReadableFile(path, option: option) }
        }
        for drive in config.drives {
            if let file = drive.file { try checkReadableFile(file, option: drive.option) }
        }

        for drive in config.drives {
            switch (drive.interface, drive.media) {
            case (.floppy, _): try require(.floppy, for: drive.option)
            case (.pflash, _): try require(.parallelFlash, for: drive.option)
            case (.ide, .cdrom): try require(.ideCDROM, for: drive.option)
            case (.ide, .disk): try require(.ideDisk, for: drive.option)
            }
            if drive.format == .qcow2 { try require(.qcow2, for: drive.option) }
            if drive.snapshot { try require(.snapshot, for: drive.option) }
        }
        if config.snapshot { try require(.snapshot, for: "-snapshot") }
        if config.usb { try require(.usb, for: "-usb") }
        for nic in config.nics where nic.kind != "none" {
            guard nic.kind == "user" else {
                throw EmulatorError.badOption(nic.option, "unknown network back end '\(nic.kind)' (user or none)")
            }
            let model = nic.value("model") ?? "ne2k_pci"
            guard let part = ConfigurationValidator.nicModels[model] else {
                throw EmulatorError.badOption(nic.option, "unknown NIC model '\(model)' (e1000, ne2k_pci or ne2k_isa)")
            }
            try require(part, for: nic.option)
            try require(.userNetwork, for: nic.option)
        }
        for netdev in config.netdevs {
            guard netdev.kind == "user" else {
                throw EmulatorError.badOption(netdev.option, "unknown network back end '\(netdev.kind)' (user)")
            }
            try require(.userNetwork, for: netdev.option)
        }
        for device in config.devices {
            guard let part = ConfigurationValidator.deviceParts[device.kind] else {
                throw EmulatorError.badOption(device.option, "unknown device '\(device.kind)'")
            }
            try require(part, for: device.option)
        }
        for audio in config.audiodevs {
            if audio.kind == "pa" { try require(.pulseAudio, for: audio.option) }
            if audio.kind == "wav" { try require(.wavAudio, for: audio.option) }
        }
        if config.vga == .std { try require(.standardVGA, for: "-vga") }
        if config.effectiveDisplay == .sdl, config.display == .sdl { try require(.sdlDisplay, for: "-display") }
        if config.effectiveSerial.contains(where: { $0 != .null && $0 != .disabled }) {
            try require(.serialPorts, for: config.noGraphic && config.serial.isEmpty ? "-nographic" : "-serial")
        }
        if let debug = config.debugConsole, debug != .disabled { try require(.debugPorts, for: "-debugcon") }
        if let monitor = config.monitor, monitor != .disabled, monitor != .null {
            try require(.monitor, for: "-monitor")
            switch monitor {
            case .socket: break
            case .stdio:
                // As in QEMU: sharing the terminal is asked for by name (mon:stdio).
                if config.effectiveSerial.contains(.stdio) && !config.serialSharesMonitor {
                    throw EmulatorError.badOption(config.serial.isEmpty ? "-nographic" : "-serial", "cannot use stdio by multiple character devices: -monitor stdio takes the terminal (-nographic alone already puts the monitor on it beside COM1, Ctrl-A c switches; or give -serial mon:stdio)")
                }
            default:
                throw EmulatorError.badOption("-monitor", "only stdio or a listening socket is built (stdio, unix:PATH,server,nowait or tcp:HOST:PORT,server,nowait)")
            }
        }
        if config.serialSharesMonitor { try require(.monitor, for: "-serial mon:stdio") }
        try validateQMP(config)
        for device in config.effectiveSerial + [config.debugConsole].compactMap({ $0 }) {
            if case .socket = device { throw EmulatorError.badOption("-serial", "sockets are built for -monitor and -qmp only") }
        }
        if config.gdb != nil { try require(.gdbStub, for: "-gdb") }
        if config.backend == .jit { try require(.jit, for: "-accel") }
        // Last, so that an option's own missing part is named first.
        try require(.cpu, for: config.kernel != nil ? "-kernel" : "pcemu")
        if config.kernel != nil { try require(.directLinuxBoot, for: "-kernel") } else { try require(.firmware, for: "-bios") }
    }

    /// QMP on a listening socket or on stdio, the latter only when nothing
    /// else reads the terminal.
    private func validateQMP(_ config: MachineConfiguration) throws {
        for device in config.qmp {
            try require(.qmp, for: "-qmp")
            switch device {
            case .socket: continue
            case .stdio:
                if config.effectiveSerial.contains(.stdio) {
                    throw EmulatorError.badOption("-qmp", "stdio is taken by the serial console (-nographic or -serial stdio): add -serial none or -serial file:PATH, or use -qmp unix:PATH,server,nowait")
                }
                if config.monitor == .stdio || config.qmp.filter({ $0 == .stdio }).count > 1 {
                    throw EmulatorError.badOption("-qmp", "stdio can serve one monitor only")
                }
            default:
                throw EmulatorError.badOption("-qmp", "only a listening socket or stdio is built (unix:PATH,server,nowait, tcp:HOST:PORT,server,nowait or stdio)")
            }
        }
    }

    private func require(_ part: Capabilities, for option: String) throws {
        guard available.contains(part) else {
            throw EmulatorError.notBuilt(option, Capabilities.name(of: part))
        }
    }

    /// A path that names a readable regular file, checked without changing it.
    private func checkReadableFile(_ path: String, option: String) throws {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw EmulatorError.badOption(option, "\(path): \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFREG || status.st_mode & S_IFMT == S_IFBLK else {
            throw EmulatorError.badOption(option, "\(path): not a regular file")
        }
        guard access(path, R_OK) == 0 else {
            throw EmulatorError.badOption(option, "\(path): \(String(cString: strerror(errno)))")
        }
    }
}
