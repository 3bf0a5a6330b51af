import Foundation
import PCEmuSupport

/// The 8x16 character font of the VGA BIOS the machine loads (Debian's
/// SeaVGABIOS), for the window's own text (the monitor console): the host
/// has no console fonts, and this one is the guest's text mode's. The ROM
/// holds its fonts without an index, so the 256-glyph table is found by its
/// shape: glyphs 0x00 and 0x20 blank, 0xDB (full block) solid, and 0xDC and
/// 0xDF (lower and upper half blocks) each other's complement.
public struct VGABIOSFont {
    public static let defaultPath = "/usr/share/seabios/vgabios-stdvga.bin"
    public static let glyphWidth = 8
    public static let glyphHeight = 16
    static let glyphCount = 256

    /// 16 rows per glyph, the leftmost pixel in bit 7.
    public let glyphs: [UInt8]

    public init(path: String = VGABIOSFont.defaultPath) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EmulatorError.configuration("cannot read the VGA BIOS \(path) for its font")
        }
        guard let table = VGABIOSFont.findTable(in: [UInt8](data)) else {
            throw EmulatorError.configuration("no 8x16 font found in the VGA BIOS \(path)")
        }
        glyphs = table
    }

    /// The first place in `image` shaped like an 8x16 font table.
    static func findTable(in image: [UInt8]) -> [UInt8]? {
        let size = glyphCount * glyphHeight
        guard image.count >= size else { return nil }
        func glyph(_ base: Int, _ code: Int) -> ArraySlice<UInt8> { image[base + code * glyphHeight..<base + (code + 1) * glyphHeight] }
        for base in 0...(image.count - size) {
            guard glyph(base, 0).allSatisfy({ $0 == 0 }), glyph(base, 0xDB).allSatisfy({ $0 == 0xFF }),
                  glyph(base, 0x20).allSatisfy({ $0 == 0 }) else { continue }
            let lower = glyph(base, 0xDC), upper = glyph(base, 0xDF)
            guard zip(lower, upper).allSatisfy({ $0 ^ $1 == 0xFF }), lower.contains(0xFF), upper.contains(0xFF) else { continue }
            return Array(image[base..<base + size])
        }
        return nil
    }

    /// Row `row` (0..<16) of the glyph for `code`.
    @inline(__always)
    public func row(_ row: Int, of code: UInt8) -> UInt8 { glyphs[Int(code) * VGABIOSFont.glyphHeight + row] }
}
