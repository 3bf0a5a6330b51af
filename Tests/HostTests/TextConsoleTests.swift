import Host
import XCTest

/// The window's text console: what a terminal program's bytes make of its
/// lines, how they are drawn (wrapped, scrolled, in the VGA BIOS's font),
/// and the font found in Debian's SeaVGABIOS image.
final class TextConsoleTests: XCTestCase {
    func testTheFontIsFoundByItsShape() throws {
        let font = try VGABIOSFont()
        XCTAssertEqual((0..<16).map { font.row($0, of: 0xDB) }, [UInt8](repeating: 0xFF, count: 16))
        // 'A' and 'a' are drawn, and differ; the space is blank.
        let capital = (0..<16).map { font.row($0, of: UInt8(ascii: "A")) }
        XCTAssertGreaterThan(capital.filter { $0 != 0 }.count, 6)
        XCTAssertNotEqual(capital, (0..<16).map { font.row($0, of: UInt8(ascii: "a")) })
        XCTAssertEqual((0..<16).map { font.row($0, of: 0x20) }, [UInt8](repeating: 0, count: 16))
        // Anything else is refused by name, not drawn as garbage.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pcemu-font-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let notAROM = directory.appendingPathComponent("zeros.bin")
        try Data(count: 65536).write(to: notAROM)
        XCTAssertThrowsError(try VGABIOSFont(path: notAROM.path)) { XCTAssertTrue("\($0)".contains("no 8x16 font"), "\($0)") }
        XCTAssertThrowsError(try VGABIOSFont(path: directory.appendingPathComponent("missing.bin").path)) {
            XCTAssertTrue("\($0)".contains("cannot read"), "\($0)")
        }
        // The same table moved within another image is found there.
        var moved = [UInt8](repeating: 0x55, count: 1000) + font.glyphs + [UInt8](repeating: 0xAA, count: 100)
        let movedPath = directory.appendingPathComponent("moved.bin")
        try Data(moved).write(to: movedPath)
        XCTAssertEqual(try VGABIOSFont(path: movedPath.path).glyphs, font.glyphs)
        moved[1000 + 0xDF * 16] = 0  // the half blocks no longer fit together
        try Data(moved).write(to: movedPath)
        XCTAssertThrowsError(try VGABIOSFont(path: movedPath.path))
    }

    func testLinesCarriageReturnBackspaceAndErase() {
        let console = TextConsole()
        console.write(Array("hello\r\nworld".utf8))
        XCTAssertEqual(console.text, ["hello", "world"])
        XCTAssertEqual(console.cursorColumn, 5)
        // A terminal's backspace echo: back, blank, back.
        console.write(Array("\u{8} \u{8}\u{8} \u{8}".utf8))
        XCTAssertEqual(console.text, ["hello", "wor  "])
        XCTAssertEqual(console.cursorColumn, 3)
        console.write(Array("\r(qemu) x\u{1B}[K".utf8))
        XCTAssertEqual(console.text, ["hello", "(qemu) x"])
        console.write(Array("\u{1B}[3D\u{1B}[K\u{1B}[1;31mA\tB".utf8))
        XCTAssertEqual(console.text, ["hello", "(qemuA  B"], "left 3, erase, an unknown sequence dropped, a tab to column 8")
        console.write(Array("\nü".utf8))
        XCTAssertEqual(console.text.last, "?", "a character beyond ASCII takes one cell")
    }

    /// Reads the drawn console back cell by cell against the font.
    func read(_ pixels: [UInt32], width: Int, height: Int, font: VGABIOSFont) -> [String] {
        var rows: [String] = []
        for row in 0..<height / 16 {
            var text = ""
            for column in 0..<width / 8 {
                let bits = (0..<16).map { y in
                    (0..<8).reduce(UInt8(0)) { $0 | (pixels[(row * 16 + y) * width + column * 8 + $1] == TextConsole.foreground ? 0x80 >> $1 : 0) }
                }
                let code = (0x20...0x7E).first { code in (0..<16).allSatisfy { font.row($0, of: UInt8(code)) == bits[$0] } }
                text.append(code.map { Character(UnicodeScalar(UInt8($0))) } ?? "#")
            }
            rows.append(text)
        }
        return rows
    }

    func testDrawingWrapsAndScrollsWithTheCursorUnderlined() throws {
        let font = try VGABIOSFont()
        let console = TextConsole()
        console.write(Array("one\ntwo\nthree four\n> ab".utf8))
        let width = 6 * 8, height = 3 * 16
        var pixels = [UInt32](repeating: 0, count: width * height)
        pixels.withUnsafeMutableBufferPointer { console.draw(into: $0, width: width, height: height, font: font) }
        // "one" and "two" scrolled off; "three four" wraps after six columns; the cursor cell reads as no glyph.
        XCTAssertEqual(read(pixels, width: width, height: height, font: font), ["three ", "four  ", "> ab# "])
        XCTAssertTrue(pixels.contains(TextConsole.background))
        // Larger, the same text shows its earlier lines again, from the top.
        let tall = 7 * 16
        var more = [UInt32](repeating: 0, count: width * tall)
        more.withUnsafeMutableBufferPointer { console.draw(into: $0, width: width, height: tall, font: font) }
        XCTAssertEqual(read(more, width: width, height: tall, font: font), ["one   ", "two   ", "three ", "four  ", "> ab# ", "      ", "      "])
    }
}
