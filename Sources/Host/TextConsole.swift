/// A text console for the window (the monitor's): takes the bytes a
/// terminal program writes and draws them as lines of text. It keeps
/// lines, not a screen of cells, so it can be drawn at any size: long lines
/// wrap at the width, and the last lines that fit are shown, the older ones
/// scrolled off the top. Understood: printable characters (UTF-8 beyond
/// ASCII shows as one '?' cell), CR, LF, backspace, tab, and the ANSI
/// sequences ESC [ K (erase to the end of the line) and ESC [ D (left);
/// other escape sequences are read and dropped. Not thread-safe.
public final class TextConsole {
    /// Lines kept for scrolling back over when the window grows.
    static let lineLimit = 500
    /// The longest line kept: what is written beyond it is dropped.
    static let columnLimit = 4096
    public static let background: UInt32 = 0x0018_1C24
    public static let foreground: UInt32 = 0x00D8_DEE9
    static let tabWidth = 8

    /// Every line's characters; the cursor is on the last one.
    public private(set) var lines: [[UInt8]] = [[]]
    public private(set) var cursorColumn = 0
    private var escapeBytes: [UInt8]?

    public init() {}

    /// The text, one string a line (for tests and the screenshot's words).
    public var text: [String] { lines.map { String(decoding: $0, as: UTF8.self) } }

    public func write(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            if escapeBytes != nil {
                escapeSequence(byte)
                continue
            }
            switch byte {
            case 0x0D: cursorColumn = 0
            case 0x0A:
                lines.append([])
                cursorColumn = 0
                if lines.count > TextConsole.lineLimit { lines.removeFirst(lines.count - TextConsole.lineLimit) }
            case 0x08: cursorColumn = max(cursorColumn - 1, 0)
            case 0x09:
                let stop = (cursorColumn / TextConsole.tabWidth + 1) * TextConsole.tabWidth
                while cursorColumn < stop { put(0x20) }
            case 0x1B: escapeBytes = []
            case 0x20...0x7E: put(byte)
            case 0xC0...: put(UInt8(ascii: "?"))  // one cell for a UTF-8 sequence's lead byte
            default: break                      // its continuation bytes, and other controls
            }
        }
    }

    private func put(_ byte: UInt8) {
        guard cursorColumn < TextConsole.columnLimit else { return }
        let last = lines.count - 1
        while lines[last].count < cursorColumn { lines[last].append(0x20) }
        if cursorColumn < lines[last].count { lines[last][cursorColumn] = byte } else { lines[last].append(byte) }
        cursorColumn += 1
    }

    private func escapeSequence(_ byte: UInt8) {
        escapeBytes?.append(byte)
        guard let sequence = escapeBytes else { return }
        if sequence.count == 1 {
            if byte != UInt8(ascii: "[") { escapeBytes = nil }
            return
        }
        guard (0x40...0x7E).contains(byte) else {
            if sequence.count > 16 { escapeBytes = nil }
            return
        }
        escapeBytes = nil
        switch byte {
        case UInt8(ascii: "K"):
            let last = lines.count - 1
            if cursorColumn < lines[last].count { lines[last].removeSubrange(cursorColumn...) }
        case UInt8(ascii: "D"):
            let count = Int(String(decoding: sequence.dropFirst().dropLast(), as: UTF8.self)) ?? 1
            cursorColumn = max(cursorColumn - max(count, 1), 0)
        default:
            break
        }
    }

    /// Draws the console into `pixels` (XRGB, `width` x `height`, rows
    /// `width` apart): as many whole character cells as fit, filled from
    /// the top and scrolling once full, the cursor as an underline.
    public func draw(into pixels: UnsafeMutableBufferPointer<UInt32>, width: Int, height: Int, font: VGABIOSFont) {
        guard width > 0, height > 0, pixels.count >= width * height else { return }
        pixels.update(repeating: TextConsole.background)
        let columns = width / VGABIOSFont.glyphWidth, rows = height / VGABIOSFont.glyphHeight
        guard columns > 0, rows > 0 else { return }
        // The screen rows each line takes when wrapped; the cursor may sit past the last line's end.
        func rowCount(_ index: Int) -> Int {
            let length = index == lines.count - 1 ? max(lines[index].count, cursorColumn + 1) : lines[index].count
            return max((length + columns - 1) / columns, 1)
        }
        var first = lines.count - 1
        var used = rowCount(first)
        while first > 0, used + rowCount(first - 1) <= rows {
            first -= 1
            used += rowCount(first)
        }
        // A last line longer than the screen shows its end.
        var row = min(rows - used, 0)
        for index in first..<lines.count {
            let line = lines[index]
            for part in 0..<rowCount(index) {
                defer { row += 1 }
                guard row >= 0 else { continue }
                for column in 0..<columns {
                    let at = part * columns + column
                    if at < line.count { drawGlyph(line[at], column: column, row: row, pixels: pixels, width: width, font: font) }
                    if index == lines.count - 1 && at == cursorColumn { drawCursor(column: column, row: row, pixels: pixels, width: width) }
                }
            }
        }
    }

    private func drawGlyph(_ code: UInt8, column: Int, row: Int, pixels: UnsafeMutableBufferPointer<UInt32>, width: Int, font: VGABIOSFont) {
        let left = column * VGABIOSFont.glyphWidth, top = row * VGABIOSFont.glyphHeight
        for y in 0..<VGABIOSFont.glyphHeight {
            let bits = font.row(y, of: code)
            guard bits != 0 else { continue }
            let start = (top + y) * width + left
            for x in 0..<VGABIOSFont.glyphWidth where bits & (0x80 >> x) != 0 { pixels[start + x] = TextConsole.foreground }
        }
    }

    private func drawCursor(column: Int, row: Int, pixels: UnsafeMutableBufferPointer<UInt32>, width: Int) {
        let left = column * VGABIOSFont.glyphWidth, top = row * VGABIOSFont.glyphHeight
        for y in VGABIOSFont.glyphHeight - 2..<VGABIOSFont.glyphHeight {
            for x in 0..<VGABIOSFont.glyphWidth { pixels[(top + y) * width + left + x] = TextConsole.foreground }
        }
    }
}
