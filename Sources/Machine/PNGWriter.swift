import CZlib
import Foundation
import PCEmuSupport

/// Writes XRGB pixels as a PNG: 8-bit RGB, no interlace, every row with
/// filter 0, the rows deflated by zlib in one zlib stream (one IDAT chunk).
/// Enough for screenshots, which any viewer opens, unlike PPM.
public enum PNGWriter {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    /// IHDR's colour type for truecolour without alpha.
    static let colourTypeRGB: UInt8 = 2

    public static func encode(_ pixels: UnsafePointer<UInt32>, width: Int, height: Int) throws -> Data {
        // Raw scanlines: a filter-type byte (0, none) then R, G, B per pixel.
        let rowBytes = 1 + width * 3
        var raw = [UInt8](repeating: 0, count: rowBytes * height)
        for y in 0..<height {
            var out = y * rowBytes + 1
            for x in 0..<width {
                let pixel = pixels[y * width + x]
                raw[out] = UInt8(truncatingIfNeeded: pixel >> 16)
                raw[out + 1] = UInt8(truncatingIfNeeded: pixel >> 8)
                raw[out + 2] = UInt8(truncatingIfNeeded: pixel)
                out += 3
            }
        }
        var compressedLength = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedLength))
        let status = compress2(&compressed, &compressedLength, raw, uLong(raw.count), Z_DEFAULT_COMPRESSION)
        guard status == Z_OK else { throw EmulatorError.configuration("cannot compress the PNG image (zlib error \(status))") }

        var header = Data()
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header.append(contentsOf: [8, colourTypeRGB, 0, 0, 0])   // depth, colour type, deflate, filter set 0, no interlace
        var png = Data(signature)
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", Data(compressed[0..<Int(compressedLength)]), to: &png)
        appendChunk("IEND", Data(), to: &png)
        return png
    }

    public static func write(_ pixels: UnsafePointer<UInt32>, width: Int, height: Int, to path: String) throws {
        let data = try encode(pixels, width: width, height: height)
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw EmulatorError.configuration("cannot write the screenshot \(path): \(error.localizedDescription)")
        }
    }

    /// Length, type, data, and the CRC-32 of type and data.
    private static func appendChunk(_ type: String, _ body: Data, to png: inout Data) {
        var typed = Data(type.utf8)
        typed.append(body)
        png.appendBigEndian(UInt32(body.count))
        png.append(typed)
        let crc = typed.withUnsafeBytes { bytes in
            crc32(0, bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(bytes.count))
        }
        png.appendBigEndian(UInt32(crc))
    }
}

/// A screenshot in the format its file name asks for: PNG for a name ending
/// in .png, otherwise PPM (QEMU's screendump format).
public enum ScreenshotWriter {
    /// PNG when `png` says so, or by default when the name ends in .png; else PPM.
    public static func write(_ pixels: UnsafePointer<UInt32>, width: Int, height: Int, to path: String, png: Bool? = nil) throws {
        if png ?? path.lowercased().hasSuffix(".png") {
            try PNGWriter.write(pixels, width: width, height: height, to: path)
        } else {
            try PPMWriter.write(pixels, width: width, height: height, to: path)
        }
    }
}

private extension Data {
    mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                            UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)])
    }
}
