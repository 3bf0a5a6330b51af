import Devices
import Foundation
import Memory
import PCEmuSupport

/// A direct Linux boot skips the VGA BIOS, which would have set mode 3 (80x25
/// colour text) and loaded its 8x16 font into plane 2. Do its part through the
/// ports and the 0xA0000 window, as the BIOS does, with the font taken from
/// Debian's SeaVGABIOS image; the kernel's vgacon then finds the text screen
/// boot_params describes.
struct VGATextModeSetup {
    static let miscOutput: UInt8 = 0x67
    static let sequencer: [UInt8] = [0x03, 0x00, 0x03, 0x00, 0x02]
    static let crtc: [UInt8] = [0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00, 0x00,
                                0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF]
    static let graphics: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF]
    static let attribute: [UInt8] = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C,
                                     0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00]
    /// Glyph 1 (the smiling face) of the 8x16 font: the font starts one glyph before it.
    static let fontSignature: [UInt8] = [0x00, 0x00, 0x7E, 0x81, 0xA5, 0x81, 0x81, 0xBD, 0x99, 0x81, 0x81, 0x7E,
                                         0x00, 0x00, 0x00, 0x00]
    static let glyphBytes = 16
    /// A blank cell: a space, light grey on black.
    static let blankCell: UInt16 = 0x0720

    /// The 8x16 font inside a VGA BIOS image, or nil.
    static func font(inBIOS image: [UInt8]) -> ArraySlice<UInt8>? {
        let signature = fontSignature
        guard image.count >= 256 * glyphBytes else { return nil }
        for start in stride(from: glyphBytes, through: image.count - 255 * glyphBytes, by: 1)
        where image[start] == signature[0] && image[start..<start + glyphBytes].elementsEqual(signature) {
            let base = start - glyphBytes
            guard image[base..<start].allSatisfy({ $0 == 0 }) else { continue }
            return image[base..<base + 256 * glyphBytes]
        }
        return nil
    }

    let ports: IOPortBus
    let addressSpace: AddressSpace

    func run(font: ArraySlice<UInt8>?) {
        out(0x3C2, VGATextModeSetup.miscOutput)
        for (index, value) in VGATextModeSetup.sequencer.enumerated() { out(0x3C4, UInt8(index)); out(0x3C5, value) }
        out(0x3D4, 0x11); out(0x3D5, 0x0E)  // unprotect registers 0-7
        for (index, value) in VGATextModeSetup.crtc.enumerated() { out(0x3D4, UInt8(index)); out(0x3D5, value) }
        for (index, value) in VGATextModeSetup.graphics.enumerated() { out(0x3CE, UInt8(index)); out(0x3CF, value) }
        _ = ports.read(0x3DA, size: .byte)
        for (index, value) in VGATextModeSetup.attribute.enumerated() { out(0x3C0, UInt8(index)); out(0x3C0, value) }
        out(0x3C0, 0x20)  // palette loaded: show the screen
        out(0x3C8, 0)
        for entry in 0..<64 {
            // The EGA palette: bits 0-2 add 2/3 of blue, green, red; bits 3-5 add 1/3.
            for component in [2, 1, 0] {
                out(0x3C9, UInt8((entry >> component) & 1) * 42 + UInt8((entry >> (component + 3)) & 1) * 21)
            }
        }
        if let font { loadFont(font) }
        for cell in 0..<80 * 25 {
            addressSpace.write(0xB8000 + UInt32(cell * 2), value: UInt32(VGATextModeSetup.blankCell), size: .word)
        }
    }

    /// Plane 2 alone, sequential addressing at 0xA0000; 32 bytes per glyph slot.
    private func loadFont(_ font: ArraySlice<UInt8>) {
        out(0x3C4, 2); out(0x3C5, 0x04)
        out(0x3C4, 4); out(0x3C5, 0x06)
        out(0x3CE, 5); out(0x3CF, 0x00)
        out(0x3CE, 6); out(0x3CF, 0x04)
        for (index, byte) in font.enumerated() {
            let glyph = index / VGATextModeSetup.glyphBytes, line = index % VGATextModeSetup.glyphBytes
            addressSpace.write(0xA0000 + UInt32(glyph * 32 + line), value: UInt32(byte), size: .byte)
        }
        out(0x3C4, 2); out(0x3C5, VGATextModeSetup.sequencer[2])
        out(0x3C4, 4); out(0x3C5, VGATextModeSetup.sequencer[4])
        out(0x3CE, 5); out(0x3CF, VGATextModeSetup.graphics[5])
        out(0x3CE, 6); out(0x3CF, VGATextModeSetup.graphics[6])
    }

    private func out(_ port: UInt16, _ value: UInt8) { ports.write(port, value: UInt32(value), size: .byte) }
}
