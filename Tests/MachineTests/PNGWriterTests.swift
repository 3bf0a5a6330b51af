import Foundation
import Machine
import TestSupport
import XCTest

/// PNG screenshots decoded by an independent reader (Python's zlib) come
/// back pixel for pixel; other names still get PPM.
final class PNGWriterTests: XCTestCase {
    func testPNGDecodesToTheSamePixels() throws {
        let directory = try makeTemporaryDirectory("pcemu-png")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (width, height) = (37, 23)   // odd sizes: no row padding assumed
        var pixels = [UInt32](repeating: 0, count: width * height)
        for y in 0..<height { for x in 0..<width { pixels[y * width + x] = UInt32(x * 7) << 16 | UInt32(y * 11) << 8 | UInt32((x ^ y) & 0xFF) } }
        let png = directory.appendingPathComponent("shot.PNG").path
        let ppm = directory.appendingPathComponent("shot.ppm").path
        try pixels.withUnsafeBufferPointer { buffer in
            try ScreenshotWriter.write(buffer.baseAddress!, width: width, height: height, to: png)
            try ScreenshotWriter.write(buffer.baseAddress!, width: width, height: height, to: ppm)
        }
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: png))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let decoded = try Screenshot(png: png)
        XCTAssertEqual(decoded.width, width)
        XCTAssertEqual(decoded.height, height)
        XCTAssertEqual(decoded.pixels, pixels)
        XCTAssertEqual(try Screenshot(ppm: ppm).pixels, pixels, "a name without .png is still PPM")
    }

    func testAnUnwritablePathIsOneLineError() {
        var pixel: UInt32 = 0
        XCTAssertThrowsError(try PNGWriter.write(&pixel, width: 1, height: 1, to: "/nonexistent/dir/x.png")) { error in
            XCTAssertTrue("\(error)".contains("cannot write the screenshot /nonexistent/dir/x.png"), "\(error)")
        }
    }
}
