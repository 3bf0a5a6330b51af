import Configuration
import Devices
import PCEmuSupport

/// The display adapter the command line asks for: `-vga std` (the default),
/// `-vga none`, or one `-device VGA` with QEMU's properties: the EDID's
/// preferred mode (xres, yres), the EDID itself (edid) and BAR2 (mmio), where
/// the EDID is read.
struct VGAPlan: Equatable {
    var width = EDID.defaultWidth
    var height = EDID.defaultHeight
    var edid = true
    var mmio = true

    static let widths = 320...Int(BochsVBE.maximumWidth)
    static let heights = 200...Int(BochsVBE.maximumHeight)

    /// nil: no display adapter.
    static func make(from configuration: MachineConfiguration) throws -> VGAPlan? {
        let devices = configuration.devices.filter { $0.kind == "VGA" }
        if devices.count > 1 {
            throw EmulatorError.badOption(devices[1].option, "only one VGA can have the legacy VGA ports and window")
        }
        guard let device = devices.first else {
            if let screendump = configuration.screendump, configuration.vga == VGAType.none {
                throw EmulatorError.badOption("-screendump", "\(screendump): there is no display adapter (-vga none)")
            }
            return configuration.vga == VGAType.none ? nil : VGAPlan()
        }
        if configuration.vga == .std {
            throw EmulatorError.badOption(device.option, "-vga std already gives the machine its VGA (use -vga none with -device VGA)")
        }
        var plan = VGAPlan()
        let known = ["xres", "yres", "edid", "mmio", "id"]
        if let unknown = device.properties.first(where: { !known.contains($0.key) }) {
            throw EmulatorError.badOption(device.option, "unknown VGA property '\(unknown.key)' (xres, yres, edid, mmio)")
        }
        if let text = device.value("xres") {
            guard let width = Int(text), widths.contains(width) else {
                throw EmulatorError.badOption(device.option, "xres=\(text): expected a width from \(widths.lowerBound) to \(widths.upperBound)")
            }
            plan.width = width
        }
        if let text = device.value("yres") {
            guard let height = Int(text), heights.contains(height) else {
                throw EmulatorError.badOption(device.option, "yres=\(text): expected a height from \(heights.lowerBound) to \(heights.upperBound)")
            }
            plan.height = height
        }
        plan.mmio = try flag(device, "mmio", default: true)
        plan.edid = try flag(device, "edid", default: plan.mmio)
        if plan.edid && !plan.mmio {
            throw EmulatorError.badOption(device.option, "edid=on needs mmio=on: the EDID is read through BAR2")
        }
        return plan
    }

    private typealias VGAType = MachineConfiguration.VGAType

    private static func flag(_ device: MachineConfiguration.Component, _ key: String, default value: Bool) throws -> Bool {
        guard let text = device.value(key) else { return value }
        switch text {
        case "on", "yes", "true": return true
        case "off", "no", "false": return false
        default: throw EmulatorError.badOption(device.option, "\(key)=\(text): expected on or off")
        }
    }
}
