/// A monitor's EDID 1.4 base block (VESA E-EDID, 128 bytes), as QEMU's
/// standard VGA shows one in its MMIO BAR: the guest's display driver reads
/// the preferred mode (the first detailed timing) and the other modes from it.
/// Built from the facts of the standard: the header, a vendor "PCE", sRGB
/// colour, established and standard timings, then four descriptors (the
/// preferred mode's timing in CVT reduced blanking at 60 Hz, the range limits,
/// the monitor's name, a dummy of zeros) and the checksum.
public enum EDID {
    public static let blockSize = 128
    public static let header: [UInt8] = [0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]
    /// QEMU's preferred mode when -device VGA gives no xres/yres.
    public static let defaultWidth = 1280
    public static let defaultHeight = 800
    public static let monitorName = "PCEmu Monitor"
    /// The refresh rate of the preferred mode.
    static let refreshHz = 60

    enum Offset {
        static let vendor = 8
        static let product = 10
        static let serial = 12
        static let week = 16
        static let year = 17
        static let version = 18
        static let revision = 19
        static let videoInput = 20
        static let widthCentimetres = 21
        static let heightCentimetres = 22
        static let gamma = 23
        static let features = 24
        static let chromaticity = 25
        static let establishedTimings = 35
        static let standardTimings = 38
        static let descriptors = 54
        static let descriptorSize = 18
        static let extensionCount = 126
        static let checksum = 127
    }

    enum DescriptorTag {
        static let dummy: UInt8 = 0x10
        static let rangeLimits: UInt8 = 0xFD
        static let monitorName: UInt8 = 0xFC
    }

    /// Digital input, 8 bits per colour (EDID 1.4's bit depth field 010b).
    static let digitalInput8Bit: UInt8 = 0x80 | 0x20
    /// sRGB is the default colour space; the preferred timing is the first
    /// descriptor and the display's native mode; continuous frequency (so the
    /// range limits descriptor bounds the modes the guest may infer).
    static let featureSRGB: UInt8 = 0x04, featurePreferredIsNative: UInt8 = 0x02, featureContinuous: UInt8 = 0x01
    /// Established timings: 640x480@60 and 800x600@60 (byte 35), 1024x768@60 (byte 36).
    static let established: [UInt8] = [0x21, 0x08, 0x00]
    /// Standard timings (width, aspect code, refresh): aspect 0 is 16:10, 1 4:3, 2 5:4, 3 16:9.
    static let standardModes: [(width: Int, aspect: UInt8)] = [
        (1280, 2), (1280, 1), (1440, 0), (1600, 1), (1680, 0), (1920, 3), (1920, 0), (1280, 3),
    ]
    /// Range limits: vertical 50-75 Hz, horizontal 30-160 kHz.
    static let verticalRange = (minimum: UInt8(50), maximum: UInt8(75))
    static let horizontalRange = (minimum: UInt8(30), maximum: UInt8(160))

    /// The largest preferred mode a block describes: a detailed timing holds
    /// 4095, and the clock of a larger mode at 60 Hz would pass 655.35 MHz.
    public static let maximumWidth = 4095, maximumHeight = 2400

    /// The block for a display whose preferred mode is `width` x `height`.
    public static func block(preferredWidth width: Int = defaultWidth, preferredHeight height: Int = defaultHeight) -> [UInt8] {
        precondition((1...maximumWidth).contains(width) && (1...maximumHeight).contains(height),
                     "EDID: mode \(width)x\(height) out of range")
        var bytes = [UInt8](repeating: 0, count: blockSize)
        bytes.replaceSubrange(0..<header.count, with: header)
        // Manufacturer "PCE": three letters of five bits (A = 1), big-endian.
        let letters = "PCE".unicodeScalars.map { UInt16($0.value - 0x40) }
        let vendor = letters[0] << 10 | letters[1] << 5 | letters[2]
        bytes[Offset.vendor] = UInt8(vendor >> 8)
        bytes[Offset.vendor + 1] = UInt8(vendor & 0xFF)
        bytes[Offset.product] = 0x01
        bytes[Offset.week] = 1
        bytes[Offset.year] = UInt8(2024 - 1990)
        bytes[Offset.version] = 1
        bytes[Offset.revision] = 4
        bytes[Offset.videoInput] = digitalInput8Bit
        let timing = DetailedTiming.reducedBlanking(width: width, height: height, refreshHz: refreshHz)
        bytes[Offset.widthCentimetres] = UInt8(min(255, (timing.widthMillimetres + 5) / 10))
        bytes[Offset.heightCentimetres] = UInt8(min(255, (timing.heightMillimetres + 5) / 10))
        bytes[Offset.gamma] = 120  // gamma 2.2, stored as (gamma - 1) * 100
        bytes[Offset.features] = featureSRGB | featurePreferredIsNative | featureContinuous
        bytes.replaceSubrange(Offset.chromaticity..<Offset.chromaticity + 10, with: sRGBChromaticity())
        bytes.replaceSubrange(Offset.establishedTimings..<Offset.establishedTimings + 3, with: established)
        for (slot, mode) in standardModes.enumerated() {
            bytes[Offset.standardTimings + 2 * slot] = UInt8(mode.width / 8 - 31)
            bytes[Offset.standardTimings + 2 * slot + 1] = mode.aspect << 6 | UInt8(refreshHz - 60)
        }
        let descriptors = [
            timing.bytes,
            rangeLimits(maximumPixelClockHz: timing.pixelClockHz),
            textDescriptor(tag: DescriptorTag.monitorName, monitorName),
            [0, 0, 0, DescriptorTag.dummy] + [UInt8](repeating: 0, count: 14),
        ]
        for (slot, descriptor) in descriptors.enumerated() {
            let start = Offset.descriptors + slot * Offset.descriptorSize
            bytes.replaceSubrange(start..<start + Offset.descriptorSize, with: descriptor)
        }
        bytes[Offset.extensionCount] = 0
        bytes[Offset.checksum] = checksum(of: bytes[0..<Offset.checksum])
        return bytes
    }

    /// The byte that makes the block's bytes sum to 0 modulo 256.
    static func checksum(of bytes: ArraySlice<UInt8>) -> UInt8 {
        0 &- bytes.reduce(0, &+)
    }

    /// sRGB's primaries and D65 white, ten bits each (value x 1024): the low
    /// two bits of all eight packed in two bytes, then the high eight bits.
    static func sRGBChromaticity() -> [UInt8] {
        let coordinates = [0.640, 0.330, 0.300, 0.600, 0.150, 0.060, 0.3127, 0.3290]
        let tenBits = coordinates.map { Int(($0 * 1024).rounded()) }
        func low(_ i: Int) -> UInt8 { UInt8(tenBits[i] & 3) }
        let first = low(0) << 6 | low(1) << 4 | low(2) << 2 | low(3)
        let second = low(4) << 6 | low(5) << 4 | low(6) << 2 | low(7)
        return [first, second] + tenBits.map { UInt8($0 >> 2) }
    }

    /// The display range limits descriptor, its timing support "range limits only".
    static func rangeLimits(maximumPixelClockHz: Int) -> [UInt8] {
        let clockTens = UInt8(min(255, (maximumPixelClockHz + 9_999_999) / 10_000_000))
        return [0, 0, 0, DescriptorTag.rangeLimits, 0,
                verticalRange.minimum, verticalRange.maximum, horizontalRange.minimum, horizontalRange.maximum,
                max(clockTens, 30), 0x01, 0x0A, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20]
    }

    /// A text descriptor: up to 13 characters, ended by a line feed and padded with spaces.
    static func textDescriptor(tag: UInt8, _ text: String) -> [UInt8] {
        var field = Array(text.utf8.prefix(13))
        if field.count < 13 { field.append(0x0A) }
        while field.count < 13 { field.append(0x20) }
        return [0, 0, 0, tag, 0] + field
    }
}

/// One detailed timing descriptor: a mode's active and blanking sizes, sync
/// offsets and widths, pixel clock and image size.
struct DetailedTiming {
    var pixelClockHz: Int
    var width: Int, horizontalBlank: Int, horizontalFrontPorch: Int, horizontalSync: Int
    var height: Int, verticalBlank: Int, verticalFrontPorch: Int, verticalSync: Int
    var widthMillimetres: Int, heightMillimetres: Int

    /// CVT's reduced blanking (version 1): 160 pixels of horizontal blank
    /// (front porch 48, sync 32), at least 460 µs of vertical blank with a
    /// 3-line front porch, a sync width from the aspect ratio and at least 6
    /// lines of back porch; the clock in 0.25 MHz steps. The image size is the
    /// mode at 96 dots per inch.
    static func reducedBlanking(width: Int, height: Int, refreshHz: Int) -> DetailedTiming {
        let horizontalBlank = 160, frontPorch = 48, syncWidth = 32
        let verticalFrontPorch = 3, minimumBackPorch = 6
        let minimumBlankMicroseconds = 460.0
        let verticalSync: Int
        switch (width * 3 == height * 4, width * 9 == height * 16, width * 10 == height * 16, width * 4 == height * 5) {
        case (true, _, _, _): verticalSync = 4
        case (_, true, _, _): verticalSync = 5
        case (_, _, true, _): verticalSync = 6
        case (_, _, _, true): verticalSync = 7
        default: verticalSync = 10
        }
        let linePeriodEstimate = (1_000_000.0 / Double(refreshHz) - minimumBlankMicroseconds) / Double(height)
        let blankLines = max(Int(minimumBlankMicroseconds / linePeriodEstimate) + 1,
                             verticalFrontPorch + verticalSync + minimumBackPorch)
        let total = Double((width + horizontalBlank) * (height + blankLines) * refreshHz)
        let quarterMegahertz = 250_000.0
        let clock = Int((total / quarterMegahertz).rounded(.down) * quarterMegahertz)
        return DetailedTiming(pixelClockHz: clock, width: width, horizontalBlank: horizontalBlank,
                              horizontalFrontPorch: frontPorch, horizontalSync: syncWidth,
                              height: height, verticalBlank: blankLines, verticalFrontPorch: verticalFrontPorch,
                              verticalSync: verticalSync,
                              widthMillimetres: width * 254 / 960, heightMillimetres: height * 254 / 960)
    }

    /// Digital separate sync, horizontal sync positive and vertical negative (as CVT-RB has them).
    static let digitalSeparateSyncHPositive: UInt8 = 0x18 | 0x02

    /// The 18 bytes: 12-bit sizes split into a low byte and a shared high nibble.
    var bytes: [UInt8] {
        let clock = pixelClockHz / 10_000
        func lo(_ value: Int) -> UInt8 { UInt8(value & 0xFF) }
        func hiNibbles(_ a: Int, _ b: Int) -> UInt8 { UInt8((a >> 8) & 0xF) << 4 | UInt8((b >> 8) & 0xF) }
        return [
            lo(clock), UInt8((clock >> 8) & 0xFF),
            lo(width), lo(horizontalBlank), hiNibbles(width, horizontalBlank),
            lo(height), lo(verticalBlank), hiNibbles(height, verticalBlank),
            lo(horizontalFrontPorch), lo(horizontalSync),
            UInt8(verticalFrontPorch & 0xF) << 4 | UInt8(verticalSync & 0xF),
            UInt8((horizontalFrontPorch >> 8) & 3) << 6 | UInt8((horizontalSync >> 8) & 3) << 4
                | UInt8((verticalFrontPorch >> 4) & 3) << 2 | UInt8((verticalSync >> 4) & 3),
            lo(widthMillimetres), lo(heightMillimetres), hiNibbles(widthMillimetres, heightMillimetres),
            0, 0, DetailedTiming.digitalSeparateSyncHPositive,
        ]
    }
}
