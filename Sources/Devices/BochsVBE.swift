import Memory
import PCEmuSupport

/// The Bochs "DISPI" display interface: an index port at 0x1CE and a 16-bit
/// data port at 0x1CF that set a linear mode (resolution, depth, virtual size,
/// panning) in the video memory the PCI function's BAR0 shows. SeaVGABIOS's
/// VBE and Linux's bochs DRM driver program it.
public final class BochsVBE: PortHandler {
    public static let indexPort: UInt16 = 0x1CE
    public static let portCount = 2

    enum Index {
        static let id = 0
        static let xResolution = 1
        static let yResolution = 2
        static let bitsPerPixel = 3
        static let enable = 4
        static let bank = 5
        static let virtualWidth = 6
        static let virtualHeight = 7
        static let xOffset = 8
        static let yOffset = 9
        static let videoMemory64K = 10
        static let count = 11
    }

    public enum Enable {
        public static let enabled: UInt16 = 0x01
        public static let getCapabilities: UInt16 = 0x02
        public static let eightBitDAC: UInt16 = 0x20
        public static let linearFramebuffer: UInt16 = 0x40
        public static let noClearMemory: UInt16 = 0x80
    }

    /// The interface versions (0xB0C0-0xB0C5); the newest is reported.
    static let oldestID: UInt16 = 0xB0C0
    static let newestID: UInt16 = 0xB0C5
    public static let maximumWidth: UInt16 = 2560
    public static let maximumHeight: UInt16 = 1600
    static let depths: Set<UInt16> = [8, 15, 16, 24, 32]

    var registers = [UInt16](repeating: 0, count: Index.count)
    var index: UInt16 = 0
    let memory: VideoMemory
    /// Bumped on every mode change, so the renderer redraws.
    var generation = 0

    public init(memory: VideoMemory) {
        self.memory = memory
        super.init()
        reset()
    }

    public override var nativeSizes: Set<AccessSize> { [.byte, .word] }

    public func reset() {
        registers = [UInt16](repeating: 0, count: Index.count)
        registers[Index.id] = BochsVBE.newestID
        registers[Index.bitsPerPixel] = 8
        registers[Index.videoMemory64K] = UInt16(VideoMemory.size >> 16)
        index = 0
        generation &+= 1
    }

    public func attach(to bus: IOPortBus) throws {
        try bus.attach(self, name: "bochs-vbe", base: BochsVBE.indexPort, count: BochsVBE.portCount)
    }

    public var isEnabled: Bool { registers[Index.enable] & Enable.enabled != 0 }
    var hasEightBitDAC: Bool { registers[Index.enable] & Enable.eightBitDAC != 0 }
    /// Where the 64 KiB window at 0xA0000 looks into video memory in a banked VBE mode.
    var bankOffset: Int { Int(registers[Index.bank]) << 16 }

    /// The current mode: size, depth, bytes per line and where the visible part starts.
    public struct Mode: Equatable {
        public let width: Int, height: Int, bitsPerPixel: Int, pitch: Int, start: Int
    }

    var mode: Mode? {
        guard isEnabled else { return nil }
        let bpp = Int(registers[Index.bitsPerPixel])
        let bytes = (bpp + 7) / 8
        let pitch = Int(registers[Index.virtualWidth]) * bytes
        let start = Int(registers[Index.yOffset]) * pitch + Int(registers[Index.xOffset]) * bytes
        return Mode(width: Int(registers[Index.xResolution]), height: Int(registers[Index.yResolution]),
                    bitsPerPixel: bpp, pitch: pitch, start: start)
    }

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        if offset == 0 { return UInt32(index) }
        let register = Int(index)
        guard register < Index.count else { return 0 }
        if registers[Index.enable] & Enable.getCapabilities != 0 {
            switch register {
            case Index.xResolution: return UInt32(BochsVBE.maximumWidth)
            case Index.yResolution: return UInt32(BochsVBE.maximumHeight)
            case Index.bitsPerPixel: return 32
            default: break
            }
        }
        return UInt32(registers[register])
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        let value = UInt16(truncatingIfNeeded: value)
        if offset == 0 { index = value; return }
        let register = Int(index)
        guard register < Index.count else {
            Log.write(.guestErrors, "bochs-vbe: write to register \(index)")
            return
        }
        switch register {
        case Index.id:
            if (BochsVBE.oldestID...BochsVBE.newestID).contains(value) { registers[register] = value }
        case Index.xResolution, Index.yResolution, Index.bitsPerPixel:
            // Takes effect at the next enable; refused while a mode is on, as QEMU does.
            guard !isEnabled else { return }
            if register == Index.bitsPerPixel {
                let depth = value == 0 ? 8 : value
                guard BochsVBE.depths.contains(depth) else {
                    Log.write(.guestErrors, "bochs-vbe: depth \(value) refused")
                    return
                }
                registers[register] = depth
            } else {
                let limit = register == Index.xResolution ? BochsVBE.maximumWidth : BochsVBE.maximumHeight
                guard value <= limit else { Log.write(.guestErrors, "bochs-vbe: resolution \(value) refused"); return }
                registers[register] = value
            }
        case Index.bank:
            guard Int(value) << 16 < VideoMemory.size else { return }
            registers[register] = value
        case Index.enable:
            setEnable(value)
        case Index.virtualWidth:
            registers[register] = value
            fitVirtualSize()
        case Index.xOffset, Index.yOffset:
            registers[register] = value
            if let mode, mode.start + mode.pitch * mode.height > VideoMemory.size {
                registers[register] = 0
            }
        case Index.virtualHeight, Index.videoMemory64K:
            break  // computed from the rest
        default: break
        }
        generation &+= 1
    }

    private func setEnable(_ value: UInt16) {
        let wasEnabled = isEnabled
        if value & Enable.enabled != 0 && !wasEnabled {
            let width = registers[Index.xResolution], height = registers[Index.yResolution]
            let bytes = (Int(registers[Index.bitsPerPixel]) + 7) / 8
            guard width > 0, height > 0, Int(width) * Int(height) * bytes <= VideoMemory.size else {
                Log.write(.guestErrors, "bochs-vbe: mode \(width)x\(height)x\(registers[Index.bitsPerPixel]) refused")
                return
            }
            registers[Index.virtualWidth] = width
            registers[Index.xOffset] = 0
            registers[Index.yOffset] = 0
            registers[Index.bank] = 0
            registers[Index.enable] = value
            fitVirtualSize()
            if value & Enable.noClearMemory == 0, let mode {
                memory.clear(from: 0, count: mode.pitch * Int(registers[Index.virtualHeight]))
            }
        } else {
            registers[Index.enable] = value
            if value & Enable.enabled == 0 { registers[Index.bank] = 0 }
        }
        memory.markAllDirty()
    }

    /// The virtual height is what the memory holds at the virtual width.
    private func fitVirtualSize() {
        let bytes = (Int(registers[Index.bitsPerPixel]) + 7) / 8
        var width = max(Int(registers[Index.virtualWidth]), Int(registers[Index.xResolution]))
        if width * bytes * max(1, Int(registers[Index.yResolution])) > VideoMemory.size {
            width = Int(registers[Index.xResolution])
        }
        registers[Index.virtualWidth] = UInt16(width)
        let pitch = max(1, width * bytes)
        registers[Index.virtualHeight] = UInt16(min(Int(UInt16.max), VideoMemory.size / pitch))
    }
}
