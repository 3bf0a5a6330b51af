import Memory
import PCEmuSupport
import Timing

/// Sequencer register indexes (port 0x3C4/0x3C5).
enum SequencerIndex {
    static let reset = 0
    static let clockingMode = 1
    static let mapMask = 2
    static let characterMapSelect = 3
    static let memoryMode = 4
    static let count = 8
}

/// Sequencer memory mode bits.
enum MemoryMode {
    /// Clear: odd/even addressing (text modes).
    static let sequential: UInt8 = 0x04
    static let chain4: UInt8 = 0x08
}

/// Graphics controller register indexes (port 0x3CE/0x3CF).
enum GraphicsIndex {
    static let setReset = 0
    static let enableSetReset = 1
    static let colorCompare = 2
    static let dataRotate = 3
    static let readMapSelect = 4
    static let mode = 5
    static let miscellaneous = 6
    static let colorDontCare = 7
    static let bitMask = 8
    static let count = 16
}

enum GraphicsMode {
    static let readMode1: UInt8 = 0x08
    static let shift256: UInt8 = 0x40
}

/// Attribute controller register indexes (port 0x3C0/0x3C1).
enum AttributeIndex {
    static let paletteCount = 16
    static let modeControl = 0x10
    static let overscan = 0x11
    static let colorPlaneEnable = 0x12
    static let horizontalPan = 0x13
    static let colorSelect = 0x14
    static let count = 0x20
    /// In the index byte: the palette is not being loaded, so the screen shows.
    static let paletteAddressSource: UInt8 = 0x20
}

enum AttributeMode {
    static let graphics: UInt8 = 0x01
    static let lineGraphics: UInt8 = 0x04
    static let blink: UInt8 = 0x08
    static let eightBitColor: UInt8 = 0x40
    static let paletteBits54: UInt8 = 0x80
}

/// CRT controller register indexes (port 0x3B4/0x3D4 and the next).
enum CRTCIndex {
    static let horizontalDisplayEnd = 0x01
    static let overflow = 0x07
    static let maximumScanLine = 0x09
    static let cursorStart = 0x0A
    static let cursorEnd = 0x0B
    static let startAddressHigh = 0x0C
    static let startAddressLow = 0x0D
    static let cursorLocationHigh = 0x0E
    static let cursorLocationLow = 0x0F
    static let verticalRetraceEnd = 0x11
    static let verticalDisplayEnd = 0x12
    static let offset = 0x13
    static let modeControl = 0x17
    static let lineCompare = 0x18
    static let count = 0x40
    /// In vertical retrace end: registers 0-7 are write-protected.
    static let protect: UInt8 = 0x80
}

/// The VGA core of QEMU's standard VGA: sequencer, graphics controller,
/// attribute controller with its index/data flip-flop, CRT controller, DAC,
/// miscellaneous output and input status registers at ports 0x3B0-0x3DF, and
/// the memory window at 0xA0000 (`VGAMemoryWindow`, logic in VGAMemory.swift).
/// Bochs VBE (`BochsVBE`) shares its video memory; `VGARenderer` draws it.
public final class VGA: PortHandler {
    public static let base: UInt16 = 0x3B0
    public static let portCount = 0x30

    /// Port offsets from 0x3B0.
    enum Port {
        static let monoCRTCIndex: UInt16 = 0x04
        static let monoCRTCData: UInt16 = 0x05
        static let monoInputStatus1: UInt16 = 0x0A
        static let attributeIndex: UInt16 = 0x10
        static let attributeData: UInt16 = 0x11
        static let miscOutputWrite: UInt16 = 0x12  // read: input status 0
        static let videoEnable: UInt16 = 0x13
        static let sequencerIndex: UInt16 = 0x14
        static let sequencerData: UInt16 = 0x15
        static let dacMask: UInt16 = 0x16
        static let dacReadIndex: UInt16 = 0x17  // read: DAC state
        static let dacWriteIndex: UInt16 = 0x18
        static let dacData: UInt16 = 0x19
        static let featureControlRead: UInt16 = 0x1A
        static let miscOutputRead: UInt16 = 0x1C
        static let graphicsIndex: UInt16 = 0x1E
        static let graphicsData: UInt16 = 0x1F
        static let colorCRTCIndex: UInt16 = 0x24
        static let colorCRTCData: UInt16 = 0x25
        static let colorInputStatus1: UInt16 = 0x2A
    }

    /// Miscellaneous output bit 0: CRTC and status at 0x3Dx (colour) instead of 0x3Bx.
    static let colorEmulation: UInt8 = 0x01
    /// Input status 1 bits.
    static let displayDisabled: UInt8 = 0x01
    static let verticalRetrace: UInt8 = 0x08

    /// A 60 Hz frame of 525 lines, retrace in the last 2 (as the 640x480 timing).
    static let framePeriod: Int64 = 16_683_350
    static let linePeriod: Int64 = framePeriod / 525
    static let retraceLines: Int64 = 2

    let memory: VideoMemory
    let vbe: BochsVBE
    public private(set) lazy var window = VGAMemoryWindow(vga: self)
    private let clock: VirtualClock

    var sequencer = [UInt8](repeating: 0, count: SequencerIndex.count)
    var sequencerIndex: UInt8 = 0
    var graphics = [UInt8](repeating: 0, count: GraphicsIndex.count)
    var graphicsIndex: UInt8 = 0
    var attribute = [UInt8](repeating: 0, count: AttributeIndex.count)
    /// The index byte, with the palette address source bit.
    var attributeIndex: UInt8 = 0
    /// The flip-flop: false = the next 0x3C0 write is an index.
    var attributeExpectsData = false
    var crtc = [UInt8](repeating: 0, count: CRTCIndex.count)
    var crtcIndex: UInt8 = 0
    var miscOutput: UInt8 = 0
    var featureControl: UInt8 = 0
    /// 256 entries of red, green, blue; 6-bit values (8-bit with VBE's 8-bit DAC).
    var palette = [UInt8](repeating: 0, count: 256 * 3)
    var dacMask: UInt8 = 0xFF
    var dacReadIndex: UInt8 = 0
    var dacWriteIndex: UInt8 = 0
    var dacComponent = 0
    var dacWriteTriple: (UInt8, UInt8, UInt8) = (0, 0, 0)
    /// 0x3C7 reads 3 after a read index was set, 0 after a write index.
    var dacState: UInt8 = 0
    /// The four 8-bit latches loaded by every planar read.
    var latch: UInt32 = 0
    /// Bumped by every register write that can change the picture.
    var registerGeneration = 0

    public init(clock: VirtualClock, memory: VideoMemory, vbe: BochsVBE) {
        self.clock = clock
        self.memory = memory
        self.vbe = vbe
        super.init()
        reset()
    }

    public func reset() {
        sequencer = [UInt8](repeating: 0, count: SequencerIndex.count)
        graphics = [UInt8](repeating: 0, count: GraphicsIndex.count)
        attribute = [UInt8](repeating: 0, count: AttributeIndex.count)
        crtc = [UInt8](repeating: 0, count: CRTCIndex.count)
        sequencerIndex = 0; graphicsIndex = 0; attributeIndex = 0; crtcIndex = 0
        attributeExpectsData = false
        miscOutput = 0; featureControl = 0
        palette = [UInt8](repeating: 0, count: 256 * 3)
        dacMask = 0xFF; dacReadIndex = 0; dacWriteIndex = 0; dacComponent = 0; dacState = 0
        latch = 0
        registerGeneration &+= 1
        memory.markAllDirty()
    }

    public func attach(to bus: IOPortBus) throws {
        try bus.attach(self, name: "vga", base: VGA.base, count: VGA.portCount)
    }

    /// The CRTC start address, cursor location and line compare.
    var startAddress: Int { Int(crtc[CRTCIndex.startAddressHigh]) << 8 | Int(crtc[CRTCIndex.startAddressLow]) }
    var cursorLocation: Int { Int(crtc[CRTCIndex.cursorLocationHigh]) << 8 | Int(crtc[CRTCIndex.cursorLocationLow]) }
    var lineCompare: Int {
        Int(crtc[CRTCIndex.lineCompare]) | Int(crtc[CRTCIndex.overflow] & 0x10) << 4
            | Int(crtc[CRTCIndex.maximumScanLine] & 0x40) << 3
    }
    var verticalDisplayEnd: Int {
        Int(crtc[CRTCIndex.verticalDisplayEnd]) | Int(crtc[CRTCIndex.overflow] & 0x02) << 7
            | Int(crtc[CRTCIndex.overflow] & 0x40) << 3
    }
    /// The screen shows only while the attribute index's palette address source bit is set.
    var isDisplayEnabled: Bool { attributeIndex & AttributeIndex.paletteAddressSource != 0 }

    private var isColor: Bool { miscOutput & VGA.colorEmulation != 0 }

    /// Whether the port belongs to the CRTC set not selected by misc output bit 0.
    private func isInactiveCRTCPort(_ offset: UInt16) -> Bool {
        switch offset {
        case Port.monoCRTCIndex, Port.monoCRTCData, Port.monoInputStatus1: return isColor
        case Port.colorCRTCIndex, Port.colorCRTCData, Port.colorInputStatus1: return !isColor
        default: return false
        }
    }

    /// Input status 1 from the virtual clock: vertical retrace at the end of each
    /// 60 Hz frame, the display-disabled bit in horizontal blanking and retrace.
    private func inputStatus1() -> UInt8 {
        let now = clock.now
        let inFrame = now % VGA.framePeriod
        let line = inFrame / VGA.linePeriod
        var status: UInt8 = 0
        if line >= 525 - VGA.retraceLines { status |= VGA.verticalRetrace | VGA.displayDisabled }
        if inFrame % VGA.linePeriod >= VGA.linePeriod * 4 / 5 { status |= VGA.displayDisabled }
        return status
    }

    public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
        if isInactiveCRTCPort(offset) { return 0xFF }
        switch offset {
        case Port.attributeIndex: return UInt32(attributeIndex)
        case Port.attributeData:
            let index = Int(attributeIndex & 0x1F)
            return index < AttributeIndex.count ? UInt32(attribute[index]) : 0
        case Port.miscOutputWrite: return 0x10  // input status 0: switch sense
        case Port.sequencerIndex: return UInt32(sequencerIndex)
        case Port.sequencerData: return UInt32(sequencer[Int(sequencerIndex) & (SequencerIndex.count - 1)])
        case Port.dacMask: return UInt32(dacMask)
        case Port.dacReadIndex: return UInt32(dacState)
        case Port.dacWriteIndex: return UInt32(dacWriteIndex)
        case Port.dacData:
            let value = palette[Int(dacReadIndex) * 3 + dacComponent]
            dacComponent += 1
            if dacComponent == 3 { dacComponent = 0; dacReadIndex &+= 1 }
            return UInt32(value)
        case Port.featureControlRead: return UInt32(featureControl)
        case Port.miscOutputRead: return UInt32(miscOutput)
        case Port.graphicsIndex: return UInt32(graphicsIndex)
        case Port.graphicsData: return UInt32(graphics[Int(graphicsIndex) & (GraphicsIndex.count - 1)])
        case Port.monoCRTCIndex, Port.colorCRTCIndex: return UInt32(crtcIndex)
        case Port.monoCRTCData, Port.colorCRTCData: return UInt32(crtc[Int(crtcIndex) & (CRTCIndex.count - 1)])
        case Port.monoInputStatus1, Port.colorInputStatus1:
            attributeExpectsData = false
            return UInt32(inputStatus1())
        default: return 0xFF
        }
    }

    public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
        if isInactiveCRTCPort(offset) { return }
        let byte = UInt8(truncatingIfNeeded: value)
        registerGeneration &+= 1
        switch offset {
        case Port.attributeIndex:
            if attributeExpectsData {
                let index = Int(attributeIndex & 0x1F)
                if index < AttributeIndex.paletteCount {
                    attribute[index] = byte & 0x3F
                } else if index < AttributeIndex.count {
                    attribute[index] = byte
                }
            } else {
                attributeIndex = byte & 0x3F
            }
            attributeExpectsData.toggle()
        case Port.miscOutputWrite: miscOutput = byte
        case Port.videoEnable: break
        case Port.sequencerIndex: sequencerIndex = byte & 0x07
        case Port.sequencerData: sequencer[Int(sequencerIndex)] = byte
        case Port.dacMask: dacMask = byte
        case Port.dacReadIndex:
            dacReadIndex = byte
            dacComponent = 0
            dacState = 3
        case Port.dacWriteIndex:
            dacWriteIndex = byte
            dacComponent = 0
            dacState = 0
        case Port.dacData:
            let entry = vbe.hasEightBitDAC ? byte : byte & 0x3F
            switch dacComponent {
            case 0: dacWriteTriple.0 = entry
            case 1: dacWriteTriple.1 = entry
            default:
                let at = Int(dacWriteIndex) * 3
                palette[at] = dacWriteTriple.0
                palette[at + 1] = dacWriteTriple.1
                palette[at + 2] = entry
                dacWriteIndex &+= 1
            }
            dacComponent = (dacComponent + 1) % 3
        case Port.monoInputStatus1, Port.colorInputStatus1: featureControl = byte
        case Port.graphicsIndex: graphicsIndex = byte & 0x0F
        case Port.graphicsData: graphics[Int(graphicsIndex)] = byte
        case Port.monoCRTCIndex, Port.colorCRTCIndex: crtcIndex = byte & 0x3F
        case Port.monoCRTCData, Port.colorCRTCData: writeCRTC(Int(crtcIndex), byte)
        default:
            Log.write(.guestErrors, "vga: write 0x\(String(byte, radix: 16)) to unhandled port 0x\(String(Int(VGA.base) + Int(offset), radix: 16))")
        }
    }

    private func writeCRTC(_ index: Int, _ value: UInt8) {
        if crtc[CRTCIndex.verticalRetraceEnd] & CRTCIndex.protect != 0 && index <= CRTCIndex.overflow {
            // Protected: only the line compare bit of the overflow register still changes.
            if index == CRTCIndex.overflow { crtc[index] = (crtc[index] & ~0x10) | (value & 0x10) }
            return
        }
        crtc[index] = value
    }
}
