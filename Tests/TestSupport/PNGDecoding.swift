import Foundation

extension Screenshot {
    /// Python's zlib decodes the PNG (every chunk's CRC checked, 8-bit RGB,
    /// filter 0 rows as PCEmu writes them) into a PPM next to it, read as usual.
    public init(png path: String) throws {
        let script = """
            import struct, sys, zlib
            data = open(sys.argv[1], 'rb').read()
            assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n', 'no PNG signature'
            at, chunks = 8, []
            while at < len(data):
                length, kind = struct.unpack('>I4s', data[at:at + 8])
                body = data[at + 8:at + 8 + length]
                crc, = struct.unpack('>I', data[at + 8 + length:at + 12 + length])
                assert zlib.crc32(kind + body) == crc, 'bad CRC in ' + kind.decode()
                chunks.append((kind, body))
                at += 12 + length
            assert chunks[0][0] == b'IHDR' and chunks[-1][0] == b'IEND'
            width, height, depth, colour, method, filters, interlace = struct.unpack('>IIBBBBB', chunks[0][1])
            assert (depth, colour, method, filters, interlace) == (8, 2, 0, 0, 0), 'not 8-bit RGB'
            raw = zlib.decompress(b''.join(body for kind, body in chunks if kind == b'IDAT'))
            row = 1 + width * 3
            assert len(raw) == row * height, 'wrong image data length'
            assert all(raw[y * row] == 0 for y in range(height)), 'unexpected row filter'
            pixels = b''.join(raw[y * row + 1:(y + 1) * row] for y in range(height))
            open(sys.argv[2], 'wb').write(b'P6\\n%d %d\\n255\\n' % (width, height) + pixels)
            """
        let ppm = path + ".decoded.ppm"
        defer { try? FileManager.default.removeItem(atPath: ppm) }
        let result = try ChildProcess.run("/usr/bin/python3", ["-c", script, path, ppm], timeout: 60)
        guard result.status == 0 else { throw TestSetupError("\(path) is not a valid PNG: \(result.stderr)") }
        try self.init(ppm: ppm)
    }
}
