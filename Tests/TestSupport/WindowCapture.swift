import Foundation

extension Screenshot {
    /// What an X window shows, captured from outside by x11-apps' xwd (its
    /// contents as the X server has them, not what the program says it drew).
    public init(window: UInt, display: String, directory: URL) throws {
        let path = directory.appendingPathComponent("window-\(window)-\(UInt32.random(in: 0...UInt32.max)).xwd").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try ChildProcess.run("/usr/bin/xwd", ["-id", String(window), "-silent", "-out", path],
                                          timeout: 30, environment: ["DISPLAY": display])
        guard result.status == 0 else { throw TestSetupError("xwd could not capture window \(window): \(result.stderr)") }
        try self.init(xwd: path)
    }

    /// An XWD file (version 7, ZPixmap, 32 bits a pixel, as Xvfb's 24-bit
    /// screens give), read through a PPM beside it.
    public init(xwd path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), data.count >= 100 else {
            throw TestSetupError("no XWD image at \(path)")
        }
        let bytes = [UInt8](data)
        func field(_ index: Int) -> Int {
            (0..<4).reduce(0) { $0 << 8 | Int(bytes[index * 4 + $1]) }
        }
        let headerSize = field(0), version = field(1), format = field(2), width = field(4), height = field(5)
        let littleEndian = field(7) == 0, bitsPerPixel = field(11), bytesPerLine = field(12)
        let masks = (red: field(14), green: field(15), blue: field(16)), colours = field(19)
        let start = headerSize + colours * 12
        guard version == 7, format == 2, bitsPerPixel == 32, width > 0, height > 0,
              bytesPerLine >= width * 4, start + bytesPerLine * height <= bytes.count else {
            throw TestSetupError("\(path): not a 32-bit ZPixmap XWD image")
        }
        func channel(_ value: Int, _ mask: Int) -> UInt8 {
            guard mask != 0 else { return 0 }
            return UInt8(truncatingIfNeeded: (value & mask) >> mask.trailingZeroBitCount)
        }
        var ppm = Array("P6\n\(width) \(height)\n255\n".utf8)
        ppm.reserveCapacity(ppm.count + width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let at = start + y * bytesPerLine + x * 4
                let value = littleEndian
                    ? (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) }
                    : (0..<4).reduce(0) { $0 << 8 | Int(bytes[at + $1]) }
                ppm += [channel(value, masks.red), channel(value, masks.green), channel(value, masks.blue)]
            }
        }
        let ppmPath = path + ".ppm"
        defer { try? FileManager.default.removeItem(atPath: ppmPath) }
        try Data(ppm).write(to: URL(fileURLWithPath: ppmPath))
        try self.init(ppm: ppmPath)
    }
}
