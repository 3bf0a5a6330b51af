import PCEmuSupport
import Timing

/// One picture of the screen: 32-bit XRGB pixels, `width` per row, no padding.
public final class DisplayFrame {
    public static let maximumWidth = Int(BochsVBE.maximumWidth)
    public static let maximumHeight = Int(BochsVBE.maximumHeight)
    public let pixels: UnsafeMutablePointer<UInt32>
    public internal(set) var width = 0
    public internal(set) var height = 0
    /// The lines the last update changed: all of them, unless the renderer
    /// knows it touched fewer (a cursor blink, a few VBE lines).
    public internal(set) var changedLines: Range<Int> = 0..<0

    /// Room for the largest mode, left untouched beyond what a mode uses: every
    /// mode draws its whole area after a resize, before anything reads it.
    public init() {
        pixels = .allocate(capacity: DisplayFrame.maximumWidth * DisplayFrame.maximumHeight)
    }

    deinit { pixels.deallocate() }

    public func pixel(x: Int, y: Int) -> UInt32 { pixels[y * width + x] }
}

/// Turns video memory into XRGB frames: text modes (fonts from plane 2,
/// cursor, blink), the 16-colour planar modes, the 256-colour modes (chain-4
/// and unchained), and Bochs VBE's linear modes. Runs on the CPU thread. It
/// draws only what changed: register writes redraw everything, otherwise
/// only the lines whose video memory pages were written (the memory's dirty
/// log, which sees the CPU's stores through BAR0 too); after drawing it
/// takes the pages it showed back to clean.
public final class VGARenderer {
    private let vga: VGA
    private let clock: VirtualClock
    public let frame = DisplayFrame()
    private var drawnRegisterGeneration = -1
    private var drawnVBEGeneration = -1
    private var drawnBlinkPhase = -1
    /// The last whole text screen had blinking characters (so the text
    /// blink's phase matters, not only the cursor's).
    private var drewBlinkingText = false
    /// Set by a drawing pass that changed only these lines.
    private var partialLines: Range<Int>?
    /// The VGA's 256 colours as XRGB, rebuilt when registers change.
    private var colors = [UInt32](repeating: 0, count: 256)
    /// A row converted from a VBE depth, compared with the frame before copying.
    private var row = [UInt32](repeating: 0, count: DisplayFrame.maximumWidth)
    /// The framebuffer bytes each line of a 15- to 32-bit VBE frame was last
    /// converted from: a written line whose bytes are the same (a guest
    /// redrawing what it drew) needs no converting. Grown as frames grow.
    private var vbeSource: UnsafeMutableRawPointer?
    private var vbeSourceBytes = 0

    /// Text blinks at the VGA's rates: cursor every 16 frames, characters every 32.
    static let cursorBlinkPeriod: Int64 = 16 * VGA.framePeriod
    static let textBlinkPeriod: Int64 = 32 * VGA.framePeriod

    deinit { vbeSource?.deallocate() }

    public init(vga: VGA, clock: VirtualClock) {
        self.vga = vga
        self.clock = clock
    }

    /// Brings the frame up to date; true if any pixel or its size changed.
    @discardableResult
    public func update() -> Bool {
        let changed: Bool
        partialLines = nil
        if let mode = vga.vbe.mode {
            changed = drawVBE(mode)
            // What the frame shows: clean now. Pages elsewhere stay dirty
            // (and fast to write) until a mode or panning shows them.
            vga.memory.clean(from: mode.start, count: (frame.height - 1) * mode.pitch + frame.width * ((mode.bitsPerPixel + 7) / 8))
        } else {
            if !vga.isDisplayEnabled {
                changed = drawBlank()
            } else if vga.graphics[GraphicsIndex.miscellaneous] & 1 != 0 {
                changed = drawGraphics()
            } else {
                changed = drawText()
            }
            // The legacy modes show the four planes' 256 KiB.
            vga.memory.clean(from: 0, count: VideoMemory.planarAddresses << 2)
        }
        drawnRegisterGeneration = vga.registerGeneration
        drawnVBEGeneration = vga.vbe.generation
        frame.changedLines = changed ? (partialLines ?? 0..<frame.height) : 0..<0
        return changed
    }

    private var registersChanged: Bool {
        vga.registerGeneration != drawnRegisterGeneration || vga.vbe.generation != drawnVBEGeneration
    }

    private func resize(_ width: Int, _ height: Int) -> Bool {
        let width = min(max(width, 1), DisplayFrame.maximumWidth), height = min(max(height, 1), DisplayFrame.maximumHeight)
        guard width != frame.width || height != frame.height else { return false }
        frame.width = width
        frame.height = height
        return true
    }

    private func drawBlank() -> Bool {
        let resized = resize(frame.width == 0 ? 640 : frame.width, frame.height == 0 ? 400 : frame.height)
        guard resized || registersChanged else { return false }
        frame.pixels.update(repeating: 0, count: frame.width * frame.height)
        return true
    }

    // MARK: Colours

    private func dacColor(_ index: Int) -> UInt32 {
        let eightBit = vga.vbe.hasEightBitDAC
        // 6 bits to 8 as QEMU's VGA does (the low bit copied into both new bits),
        // so screenshots compare equal with qemu-system-i386's.
        func widen(_ value: UInt8) -> UInt32 {
            if eightBit { return UInt32(value) }
            let low = UInt32(value & 1)
            return UInt32(value & 0x3F) << 2 | low << 1 | low
        }
        let index = index & Int(vga.dacMask)
        return widen(vga.palette[index * 3]) << 16 | widen(vga.palette[index * 3 + 1]) << 8 | widen(vga.palette[index * 3 + 2])
    }

    /// The DAC index the attribute controller makes of a 4-bit colour.
    private func attributeColor(_ color: Int) -> Int {
        let entry = Int(vga.attribute[color & 0xF])
        let select = Int(vga.attribute[AttributeIndex.colorSelect])
        if vga.attribute[AttributeIndex.modeControl] & AttributeMode.paletteBits54 != 0 {
            return (entry & 0xF) | (select & 0xF) << 4
        }
        return (entry & 0x3F) | (select & 0xC) << 4
    }

    private func rebuildColors(direct: Bool) {
        for index in 0..<256 {
            colors[index] = dacColor(direct ? index : attributeColor(index))
        }
    }

    // MARK: Text

    private func drawText() -> Bool {
        let crtc = vga.crtc
        let columns = min(Int(crtc[CRTCIndex.horizontalDisplayEnd]) + 1, 160)
        // A halved dot clock (the 40-column modes) doubles each dot; QEMU then drops the ninth.
        let doubled = vga.sequencer[SequencerIndex.clockingMode] & 0x08 != 0
        let charWidth = doubled ? 16 : vga.sequencer[SequencerIndex.clockingMode] & 1 != 0 ? 8 : 9
        let charHeight = Int(crtc[CRTCIndex.maximumScanLine] & 0x1F) + 1
        var scanLines = vga.verticalDisplayEnd + 1
        if crtc[CRTCIndex.maximumScanLine] & 0x80 != 0 { scanLines /= 2 }
        let rows = min(max(scanLines / charHeight, 1), 100)
        let resized = resize(columns * charWidth, rows * charHeight)
        let now = clock.now
        let blinkPhase = Int((now / VGARenderer.cursorBlinkPeriod) & 1) | Int((now / VGARenderer.textBlinkPeriod) & 1) << 1
        let wholeScreen = resized || registersChanged || drawnBlinkPhase < 0
            || vga.memory.isDirty(from: 0, count: VideoMemory.planarAddresses << 2)
            || (blinkPhase ^ drawnBlinkPhase) & 2 != 0 && drewBlinkingText
        guard wholeScreen || blinkPhase != drawnBlinkPhase else { return false }
        drawnBlinkPhase = blinkPhase
        if wholeScreen { rebuildColors(direct: false) }

        let cursorOn = blinkPhase & 1 != 0, textBlinkOn = blinkPhase & 2 != 0
        let mode = vga.attribute[AttributeIndex.modeControl]
        let blinkEnabled = mode & AttributeMode.blink != 0
        let lineGraphics = mode & AttributeMode.lineGraphics != 0
        let lineOffset = Int(crtc[CRTCIndex.offset]) * 2
        let start = vga.startAddress
        let characterMap = vga.sequencer[SequencerIndex.characterMapSelect]
        // Map select bits: attribute bit 3 clear uses map B, set uses map A; 8K glyph slots each.
        let fontBases = [
            (Int((characterMap >> 4) & 1) | Int((characterMap << 1) & 6)) * 8192,
            (Int((characterMap >> 5) & 1) | Int((characterMap >> 1) & 6)) * 8192,
        ]
        let cursorDisabled = crtc[CRTCIndex.cursorStart] & 0x20 != 0
        let cursorFirst = Int(crtc[CRTCIndex.cursorStart] & 0x1F), cursorLast = Int(crtc[CRTCIndex.cursorEnd] & 0x1F)
        let cursorOffset = vga.cursorLocation - start
        let memory = vga.memory
        let pitch = frame.width
        var blinkingText = false
        func drawCell(_ textRow: Int, _ column: Int) {
            let address = (start + textRow * lineOffset + column) & (VideoMemory.planarAddresses - 1)
            let cell = memory.planes(address)
            let character = Int(cell & 0xFF), attribute = Int((cell >> 8) & 0xFF)
            var foreground = colors[attribute & 0xF]
            var backgroundIndex = attribute >> 4
            if blinkEnabled {
                backgroundIndex &= 7
                if attribute & 0x80 != 0 {
                    blinkingText = true
                    if !textBlinkOn { foreground = colors[backgroundIndex] }
                }
            }
            let background = colors[backgroundIndex]
            let fontBase = fontBases[(attribute >> 3) & 1] + character * 32
            let isCursor = !cursorDisabled && cursorOn && textRow * columns + column == cursorOffset
            let ninthFromGlyph = lineGraphics && (0xC0...0xDF).contains(character)
            var pixel = frame.pixels + textRow * charHeight * pitch + column * charWidth
            for line in 0..<charHeight {
                var bits = Int(memory.byte(((fontBase + line) & (VideoMemory.planarAddresses - 1)) << 2 | 2))
                if isCursor && line >= cursorFirst && line <= cursorLast { bits = 0xFF }
                if doubled {
                    for x in 0..<16 { pixel[x] = bits & (0x80 >> (x / 2)) != 0 ? foreground : background }
                } else {
                    for x in 0..<8 { pixel[x] = bits & (0x80 >> x) != 0 ? foreground : background }
                }
                if charWidth == 9 { pixel[8] = ninthFromGlyph && bits & 1 != 0 ? foreground : background }
                pixel += pitch
            }
        }
        guard wholeScreen else {
            // Only the cursor blinked: its cell alone changes.
            guard !cursorDisabled, cursorOffset >= 0, cursorOffset < rows * columns else { return false }
            let cursorRow = cursorOffset / columns
            drawCell(cursorRow, cursorOffset % columns)
            partialLines = cursorRow * charHeight..<(cursorRow + 1) * charHeight
            return true
        }
        for textRow in 0..<rows {
            for column in 0..<columns { drawCell(textRow, column) }
        }
        drewBlinkingText = blinkingText
        return true
    }

    // MARK: Graphics

    /// Graphics at the CRTC's own resolution, as QEMU shows it: 8 dots per
    /// character clock, every scan line (mode 13h is 640x400, each pixel twice
    /// across and rows repeated), so screendumps compare with QEMU's.
    private func drawGraphics() -> Bool {
        let crtc = vga.crtc
        let shiftMode = (vga.graphics[GraphicsIndex.mode] >> 5) & 3
        let is256 = shiftMode >= 2
        let isCGA = shiftMode == 1
        let halfDotClock = vga.sequencer[SequencerIndex.clockingMode] & 0x08 != 0
        var width = (Int(crtc[CRTCIndex.horizontalDisplayEnd]) + 1) * 8
        // 256 colours take two dots per pixel; a halved dot clock doubles every pixel.
        let dotsPerPixel = is256 || halfDotClock ? 2 : 1
        if !is256 && halfDotClock { width *= 2 }
        let doubleScan = crtc[CRTCIndex.maximumScanLine] & 0x80 != 0
        // Lines per row of memory; the CGA modes ignore the maximum scan line.
        let linesPerRow = (isCGA ? 1 : Int(crtc[CRTCIndex.maximumScanLine] & 0x1F) + 1) << (doubleScan ? 1 : 0)
        let resized = resize(width, vga.verticalDisplayEnd + 1)
        let redrawAll = resized || registersChanged
        if redrawAll { rebuildColors(direct: is256) }
        let lineOffset = Int(crtc[CRTCIndex.offset]) * 2
        let lineCompare = vga.lineCompare
        let planeEnable = UInt32(vga.attribute[AttributeIndex.colorPlaneEnable] & 0xF)
        let pixelsPerLine = (frame.width + dotsPerPixel - 1) / dotsPerPixel
        let addressesPerLine = is256 ? (pixelsPerLine + 3) / 4 : (pixelsPerLine + 7) / 8
        // CRTC mode control bits 0 and 1 clear: the CGA/Hercules interleave, where
        // row bits 0 and 1 replace planar address bits 12 (13 with bit 6) and 13.
        let modeControl = Int(crtc[CRTCIndex.modeControl])
        let rowsPerAdvance = (modeControl & 3) ^ 3
        let memory = vga.memory
        var changed = false
        var rowAddress = vga.startAddress
        var row = 0, lineInRow = 0
        var line = [UInt32](repeating: 0, count: pixelsPerLine)
        for y in 0..<frame.height {
            var address = rowAddress
            if modeControl & 1 == 0 {
                let bit = 12 + ((modeControl >> 6) & 1)
                address = (address & ~(1 << bit)) | ((row & 1) << bit)
            }
            if modeControl & 2 == 0 { address = (address & ~0x2000) | ((row & 2) << 12) }
            lineInRow += 1
            if lineInRow == linesPerRow {
                lineInRow = 0
                if row & rowsPerAdvance == rowsPerAdvance { rowAddress += lineOffset }
                row += 1
            }
            if y == lineCompare { rowAddress = 0 }
            let first = address & (VideoMemory.planarAddresses - 1)
            let wraps = first + addressesPerLine > VideoMemory.planarAddresses
            guard redrawAll || wraps || memory.isDirty(from: first << 2, count: addressesPerLine << 2) else { continue }
            changed = true
            if is256 {
                for x in 0..<pixelsPerLine {
                    let planes = memory.planes((first + x / 4) & (VideoMemory.planarAddresses - 1))
                    line[x] = colors[Int((planes >> (8 * UInt32(x & 3))) & 0xFF)]
                }
            } else if isCGA {
                // Four 2-bit pixels per byte, high bits first: the even byte (plane 0),
                // then the odd one (plane 1); planes 2 and 3 add the colour's upper bits.
                for group in 0..<addressesPerLine {
                    let planes = memory.planes((first + group) & (VideoMemory.planarAddresses - 1)) & VGA.laneMask(UInt8(planeEnable))
                    for pixel in 0..<8 where group * 8 + pixel < pixelsPerLine {
                        let lane = UInt32(pixel / 4) * 8, shift = UInt32(6 - 2 * (pixel % 4))
                        let low = (planes >> (lane + shift)) & 3, high = (planes >> (16 + lane + shift)) & 3
                        line[group * 8 + pixel] = colors[Int(low | high << 2)]
                    }
                }
            } else {
                for group in 0..<addressesPerLine {
                    let planes = memory.planes((first + group) & (VideoMemory.planarAddresses - 1))
                    for bit in 0..<8 where group * 8 + bit < pixelsPerLine {
                        let shift = UInt32(7 - bit)
                        var color = (planes >> shift) & 1
                        color |= ((planes >> (8 + shift)) & 1) << 1
                        color |= ((planes >> (16 + shift)) & 1) << 2
                        color |= ((planes >> (24 + shift)) & 1) << 3
                        line[group * 8 + bit] = colors[Int(color & planeEnable)]
                    }
                }
            }
            let pixels = frame.pixels + y * frame.width
            for x in 0..<frame.width { pixels[x] = line[x / dotsPerPixel] }
        }
        return changed
    }

    // MARK: Bochs VBE

    /// Linear modes: only lines on written pages are converted (all of them
    /// after a register change), each compared with what the frame holds.
    private func drawVBE(_ mode: BochsVBE.Mode) -> Bool {
        let resized = resize(mode.width, mode.height)
        let redrawAll = resized || registersChanged
        if redrawAll && mode.bitsPerPixel == 8 { rebuildColors(direct: true) }
        let bytesPerPixel = (mode.bitsPerPixel + 7) / 8
        let memory = vga.memory.base
        let lineBytes = frame.width * bytesPerPixel
        // 8-bit lines go through the palette, which can change under the same bytes.
        var compareSource = mode.bitsPerPixel > 8 && !redrawAll
        // Every line is converted after a register change or when `vbeSource` is new.
        var convertAll = redrawAll
        if mode.bitsPerPixel > 8 && vbeSourceBytes < frame.height * lineBytes {
            vbeSource?.deallocate()
            vbeSourceBytes = frame.height * lineBytes
            vbeSource = .allocate(byteCount: vbeSourceBytes, alignment: 64)
            compareSource = false
            convertAll = true
        }
        var changed = redrawAll
        var firstChanged = Int.max, lastChanged = -1
        row.withUnsafeMutableBufferPointer { buffer in
            let converted = buffer.baseAddress!
            for y in 0..<frame.height {
                let lineStart = mode.start + y * mode.pitch
                guard lineStart >= 0, lineStart + frame.width * bytesPerPixel <= VideoMemory.size else {
                    converted.update(repeating: 0, count: frame.width)
                    continue
                }
                if !convertAll && !vga.memory.isDirty(from: lineStart, count: lineBytes) { continue }
                let source = memory + lineStart
                if mode.bitsPerPixel > 8, let vbeSource {
                    let last = vbeSource + y * lineBytes
                    if compareSource && memcmp(last, source, lineBytes) == 0 { continue }
                    last.copyMemory(from: source, byteCount: lineBytes)
                }
                switch mode.bitsPerPixel {
                case 32:
                    for x in 0..<frame.width { converted[x] = source.load(fromByteOffset: x * 4, as: UInt32.self) & 0xFF_FFFF }
                case 24:
                    for x in 0..<frame.width {
                        let b = UInt32(source.load(fromByteOffset: x * 3, as: UInt8.self))
                        let g = UInt32(source.load(fromByteOffset: x * 3 + 1, as: UInt8.self))
                        let r = UInt32(source.load(fromByteOffset: x * 3 + 2, as: UInt8.self))
                        converted[x] = r << 16 | g << 8 | b
                    }
                case 16:
                    for x in 0..<frame.width {
                        let value = UInt32(source.loadUnaligned(fromByteOffset: x * 2, as: UInt16.self))
                        // The components shifted up, unreplicated, as QEMU shows them.
                        converted[x] = (value & 0xF800) << 8 | (value & 0x07E0) << 5 | (value & 0x001F) << 3
                    }
                case 15:
                    for x in 0..<frame.width {
                        let value = UInt32(source.loadUnaligned(fromByteOffset: x * 2, as: UInt16.self))
                        converted[x] = (value & 0x7C00) << 9 | (value & 0x03E0) << 6 | (value & 0x001F) << 3
                    }
                default:
                    for x in 0..<frame.width { converted[x] = colors[Int(source.load(fromByteOffset: x, as: UInt8.self))] }
                }
                let target = frame.pixels + y * frame.width
                if memcmp(target, converted, frame.width * 4) != 0 {
                    target.update(from: converted, count: frame.width)
                    changed = true
                    firstChanged = min(firstChanged, y)
                    lastChanged = y
                }
            }
        }
        if !redrawAll && lastChanged >= 0 { partialLines = firstChanged..<lastChanged + 1 }
        return changed
    }
}

#if canImport(Glibc)
import Glibc
#endif
