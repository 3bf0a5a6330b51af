import Devices
import Foundation
import Memory
import PCEmuSupport
import Timing

/// QEMU's standard VGA as the machine wires it: the VGA core at ports
/// 0x3B0-0x3DF and the window at 0xA0000, Bochs VBE at 0x1CE, the PCI function
/// 1234:1111 whose BAR0 maps the video memory as RAM-like memory (with its
/// dirty log, so the CPU's stores mark the pages the renderer redraws), whose BAR2
/// holds the EDID and the registers again (`StandardVGAMMIO`) and whose ROM
/// BAR shows SeaVGABIOS, and the renderer that draws frames for the display.
final class StandardVGA {
    static let defaultBIOS = "/usr/share/seabios/vgabios-stdvga.bin"
    /// QEMU's slot for the default VGA (00:02.0).
    static let slot = 2

    let memory: VideoMemory
    let vbe: BochsVBE
    let vga: VGA
    let function: StandardVGAFunction
    let renderer: VGARenderer
    /// BAR2's registers; nil with mmio=off.
    let registerWindow: StandardVGAMMIO?
    private var framebufferRegion: Int?
    private var registerRegion: Int?
    private var romRegion: Int?

    init(ports: IOPortBus, addressSpace: AddressSpace, pciBus: PCIBus, clock: VirtualClock,
         plan: VGAPlan = VGAPlan(), biosPath: String = StandardVGA.defaultBIOS) throws {
        memory = VideoMemory()
        vbe = BochsVBE(memory: memory)
        vga = VGA(clock: clock, memory: memory, vbe: vbe)
        try vga.attach(to: ports)
        try vbe.attach(to: ports)
        try addressSpace.map("vga-window", at: VGAMemoryWindow.base, size: VGAMemoryWindow.size, kind: .mmio(vga.window))
        renderer = VGARenderer(vga: vga, clock: clock)

        var romImage: [UInt8]?
        if FileManager.default.fileExists(atPath: biosPath) {
            guard let data = FileManager.default.contents(atPath: biosPath) else {
                throw EmulatorError.configuration("cannot read the VGA BIOS \(biosPath)")
            }
            romImage = [UInt8](data)
        } else {
            Log.emit("pcemu: no VGA BIOS at \(biosPath) (Debian's seabios package): the BIOS will not set up the screen")
        }
        function = StandardVGAFunction(romImage: romImage, registerWindow: plan.mmio)
        registerWindow = plan.mmio
            ? StandardVGAMMIO(vga: vga, vbe: vbe,
                              edid: plan.edid ? EDID.block(preferredWidth: plan.width, preferredHeight: plan.height) : [])
            : nil
        let videoMemory = memory.base, dirtyLog = memory.dirtyLog
        function.barMoved = { [unowned self, unowned addressSpace] _, bar, info, _, new in
            switch bar {
            case StandardVGAFunction.framebufferBAR:
                self.remap(&self.framebufferRegion, name: "vga-framebuffer", at: new, size: UInt64(info.size),
                           kind: .deviceRAM(videoMemory, dirtyLog: dirtyLog), in: addressSpace)
            case StandardVGAFunction.registerBAR:
                guard let window = self.registerWindow else { return }
                self.remap(&self.registerRegion, name: "vga-registers", at: new, size: UInt64(info.size),
                           kind: .mmio(window), in: addressSpace)
            default: break
            }
        }
        function.romMoved = { [unowned self, unowned addressSpace] _, new in
            guard let rom = self.function.rom else { return }
            self.remap(&self.romRegion, name: "vga-rom", at: new, size: UInt64(max(self.function.romSize, 4096)),
                       kind: .rom(rom), in: addressSpace)
        }
        try pciBus.plug(function, slot: StandardVGA.slot)
    }

    /// Moves a BAR's region; a guest placing it over something else is refused with a log line.
    private func remap(_ index: inout Int?, name: String, at address: UInt32?, size: UInt64, kind: RegionKind,
                       in addressSpace: AddressSpace) {
        if let old = index { addressSpace.unmap(old) }
        index = nil
        if let address {
            do {
                index = try addressSpace.map(name, at: UInt64(address), size: size, kind: kind)
            } catch {
                Log.write(.guestErrors, "vga: \(name) at 0x\(String(address, radix: 16)) not mapped: \(error)")
            }
        }
    }
}
