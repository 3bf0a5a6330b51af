import Foundation

/// A screenshot as PCEmu's -screendump writes it (binary PPM), and the text on
/// it read back by matching each character cell against the 8x16 VGA font
/// found in Debian's SeaVGABIOS image, the font the guest's screen was drawn with.
public struct Screenshot {
    public let width: Int
    public let height: Int
    /// XRGB pixels, row by row.
    public let pixels: [UInt32]

    public init(ppm path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw TestSetupError("no screenshot at \(path)") }
        let bytes = [UInt8](data)
        var fields: [String] = [], index = 0, current = ""
        while fields.count < 4, index < bytes.count {
            let character = Character(UnicodeScalar(bytes[index]))
            index += 1
            if character.isWhitespace {
                if !current.isEmpty { fields.append(current); current = "" }
            } else {
                current.append(character)
            }
        }
        guard fields.count == 4, fields[0] == "P6", let width = Int(fields[1]), let height = Int(fields[2]),
              fields[3] == "255", bytes.count - index >= width * height * 3 else {
            throw TestSetupError("\(path) is not a binary PPM")
        }
        self.width = width
        self.height = height
        var pixels = [UInt32](repeating: 0, count: width * height)
        for i in 0..<width * height {
            let at = index + i * 3
            pixels[i] = UInt32(bytes[at]) << 16 | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2])
        }
        self.pixels = pixels
    }

    public func pixel(x: Int, y: Int) -> UInt32 { pixels[y * width + x] }

    /// The text in cells `cellWidth` wide and 16 high; unknown cells read as "?".
    public func text(cellWidth: Int, font: VGAFont) -> [String] {
        var lines: [String] = []
        for row in 0..<height / 16 {
            var line = ""
            for column in 0..<width / cellWidth {
                var rows = [UInt8](repeating: 0, count: 16)
                let background = pixel(x: column * cellWidth + cellWidth - 1, y: row * 16 + 15)
                for y in 0..<16 {
                    for x in 0..<8 where pixel(x: column * cellWidth + x, y: row * 16 + y) != background {
                        rows[y] |= 0x80 >> x
                    }
                }
                line.append(font.character(for: rows) ?? "?")
            }
            while line.hasSuffix(" ") { line.removeLast() }
            lines.append(line)
        }
        return lines
    }
}

/// The 8x16 font of SeaVGABIOS, located by its second glyph (the smiling face).
public struct VGAFont {
    private var glyphs: [[UInt8]: Character] = [:]

    public init(biosPath: String = "/usr/share/seabios/vgabios-stdvga.bin") throws {
        guard let data = FileManager.default.contents(atPath: biosPath) else { throw TestSetupError("no \(biosPath)") }
        let image = [UInt8](data)
        let face: [UInt8] = [0, 0, 0x7E, 0x81, 0xA5, 0x81, 0x81, 0xBD, 0x99, 0x81, 0x81, 0x7E, 0, 0, 0, 0]
        guard let start = (16..<image.count - 255 * 16).first(where: { image[$0..<$0 + 16].elementsEqual(face) }) else {
            throw TestSetupError("no 8x16 font in \(biosPath)")
        }
        let base = start - 16
        for code in (0x20...0x7E).reversed() {
            let glyph = Array(image[base + code * 16..<base + code * 16 + 16])
            glyphs[glyph] = Character(UnicodeScalar(UInt8(code)))
        }
        // Inverted cells (the cursor, reverse video) read as the same character.
        for (glyph, character) in glyphs { glyphs[glyph.map { ~$0 }] = glyphs[glyph.map { ~$0 }] ?? character }
        glyphs[[UInt8](repeating: 0, count: 16)] = " "
    }

    /// Another 8x16 VGA font (the Linux kernel's) differs from this one in a
    /// few pixels of a few glyphs: the nearest glyph within this many bits counts.
    static let tolerance = 8

    func character(for rows: [UInt8]) -> Character? {
        if let exact = glyphs[rows] { return exact }
        var best: (distance: Int, character: Character)?
        for (glyph, character) in glyphs {
            var distance = 0
            for i in 0..<16 { distance += (glyph[i] ^ rows[i]).nonzeroBitCount }
            if distance <= VGAFont.tolerance, distance < best?.distance ?? Int.max { best = (distance, character) }
        }
        return best?.character
    }
}
