import Foundation
import Memory
import Timing
import XCTest
@testable import Devices

/// The ICH6 HD Audio controller and its codec driven the way Linux's
/// snd-hda-intel drives them: the link reset through GCTL, codecs found in
/// STATESTS, verbs through a 256-entry CORB with responses in the RIRB,
/// streams set up through their descriptors with a BDL in guest RAM, the
/// DMA position buffer, interrupts through INTCTL/INTSTS and SD_STS.
final class IntelHDATests: XCTestCase {
    let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1))
    let scheduler = EventScheduler()
    var ram: GuestRAM!
    var space: AddressSpace!
    var card: IntelHDA!
    var probe: LineProbe!
    var pciBus: PCIBus!
    var router: AC97Tests.Router!
    let corb: UInt32 = 0x1_0000, rirb: UInt32 = 0x1_1000, positions: UInt32 = 0x1_2000
    let bdl: UInt32 = 0x2_0000, buffers: UInt32 = 0x3_0000
    /// Output stream 0 is descriptor 4, after the four input streams.
    let out0: UInt32 = 0x80 + 4 * 0x20
    var corbWrite = 0, rirbRead = 0

    override func setUp() {
        ram = try! GuestRAM(size: 4 << 20)
        space = AddressSpace(ram: ram)
        _ = try! space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        card = IntelHDA(codec: HDACodec(duplex: true), memory: space, memoryWritten: { _, _ in }, clock: clock, scheduler: scheduler)
        probe = LineProbe()
        pciBus = PCIBus()
        router = AC97Tests.Router(line: probe.line)
        pciBus.interruptRouter = router
        try! pciBus.plug(card, slot: 0x1B)
    }

    func readl(_ offset: UInt32) -> UInt32 { card.registerWindow.read(offset: offset, size: .dword) }
    func readw(_ offset: UInt32) -> UInt16 { UInt16(card.registerWindow.read(offset: offset, size: .word)) }
    func readb(_ offset: UInt32) -> UInt8 { UInt8(card.registerWindow.read(offset: offset, size: .byte)) }
    func writel(_ offset: UInt32, _ value: UInt32) { card.registerWindow.write(offset: offset, value: value, size: .dword) }
    func writew(_ offset: UInt32, _ value: UInt16) { card.registerWindow.write(offset: offset, value: UInt32(value), size: .word) }
    func writeb(_ offset: UInt32, _ value: UInt8) { card.registerWindow.write(offset: offset, value: UInt32(value), size: .byte) }
    func poke32(_ address: UInt32, _ value: UInt32) { ram.base.storeBytes(of: value, toByteOffset: Int(address), as: UInt32.self) }
    func peek32(_ address: UInt32) -> UInt32 { ram.base.load(fromByteOffset: Int(address), as: UInt32.self) }
    func poke16(_ address: UInt32, _ value: Int16) { ram.base.storeBytes(of: value, toByteOffset: Int(address), as: Int16.self) }

    func advance(by nanoseconds: Int64) {
        let end = clock.now + nanoseconds
        while let deadline = scheduler.nextDeadline, deadline <= end {
            clock.skip(to: deadline)
            scheduler.runExpired(now: deadline)
        }
        clock.skip(to: end)
    }

    /// snd_hdac_bus_init_chip: link reset, codecs, CORB and RIRB, interrupts.
    func bringUp() {
        writel(0x08, 0)
        XCTAssertEqual(readl(0x08) & 1, 0, "in reset")
        writel(0x08, 1)
        XCTAssertEqual(readl(0x08) & 1, 1, "out of reset")
        XCTAssertEqual(readw(0x0E) & 1, 1, "a codec at address 0")
        writew(0x0E, 0x7FFF)
        // CORB: base, 256 entries, write pointer 0, the read pointer reset handshake, run.
        writel(0x40, corb); writel(0x44, 0)
        writeb(0x4E, 0x02)
        writew(0x48, 0)
        writew(0x4A, 0x8000)
        XCTAssertEqual(readw(0x4A) & 0x8000, 0x8000)
        writew(0x4A, 0)
        XCTAssertEqual(readw(0x4A), 0)
        writeb(0x4C, 0x02)
        // RIRB: base, 256 entries, write pointer reset, one response per interrupt, DMA and interrupt on.
        writel(0x50, rirb); writel(0x54, 0)
        writeb(0x5E, 0x02)
        writew(0x58, 0x8000)
        writew(0x5A, 1)
        writeb(0x5C, 0x03)
        writel(0x20, 0xC000_0000)  // GIE | CIE
        corbWrite = 0
        rirbRead = 0
    }

    /// snd_hdac_bus_send_cmd then the interrupt's RIRB update: one verb, its response.
    func verb(node: Int, _ verb: Int, _ payload: Int) -> UInt32 {
        let command = UInt32(node) << 20 | (verb > 0xF ? UInt32(verb) << 8 | UInt32(payload) : UInt32(verb) << 16 | UInt32(payload))
        corbWrite = (corbWrite + 1) % 256
        XCTAssertNotEqual(UInt16(corbWrite), readw(0x4A), "CORB not full")
        poke32(corb + UInt32(corbWrite) * 4, command)
        writew(0x48, UInt16(corbWrite))
        XCTAssertTrue(probe.level, "response interrupt")
        XCTAssertEqual(readl(0x24) & 0xC000_0000, 0xC000_0000, "GIS | CIS")
        let writePointer = Int(readw(0x58))
        XCTAssertEqual(writePointer, (rirbRead + 1) % 256)
        rirbRead = writePointer
        let response = peek32(rirb + UInt32(writePointer) * 8)
        XCTAssertEqual(peek32(rirb + UInt32(writePointer) * 8 + 4), 0, "solicited, codec 0")
        writeb(0x5D, 0x05)
        XCTAssertFalse(probe.level)
        return response
    }

    /// GCAP says 64-bit, so Linux puts the rings where its RAM is, above 4 GiB
    /// too: here the same RAM shows again at 4 GiB, and the rings move there.
    func testRingsAboveFourGiB() throws {
        try space.map("ram-above-4g", at: 1 << 32, size: UInt64(ram.size), kind: .ram(offset: 0))
        bringUp()
        writeb(0x4C, 0)
        writeb(0x5C, 0)
        writel(0x44, 1)
        writel(0x54, 1)
        writeb(0x4C, 0x02)
        writeb(0x5C, 0x03)
        XCTAssertEqual(verb(node: 0, 0xF00, 0x00), 0x1AF4_0022, "vendor ID, read and answered through 0x1_0001_0000 and 0x1_0001_1000")
        XCTAssertEqual(readb(0x4D) & 1, 0, "no memory error")
        // Past the physical address space: a memory error, and no response.
        writeb(0x4C, 0)
        writel(0x44, 0x10)
        writeb(0x4C, 0x02)
        poke32(corb + UInt32((corbWrite + 1) % 256) * 4, 0xF0000)
        writew(0x48, UInt16((corbWrite + 1) % 256))
        XCTAssertEqual(readb(0x4D) & 1, 1, "CORB memory error")
    }

    func testPCIIdentityAndCapabilities() {
        XCTAssertEqual(card.configRead(offset: PCIConfig.vendorID, size: .dword), 0x2668_8086)
        XCTAssertEqual(card.configRead(offset: PCIConfig.revision, size: .dword) >> 8, 0x04_03_00)
        XCTAssertEqual(card.barInfo(0)?.size, 0x4000)
        XCTAssertEqual(card.barInfo(0)?.kind, .memory32(prefetchable: false))
        XCTAssertEqual(readw(0x00), 0x4401, "4 out, 4 in, 64-bit")
        XCTAssertEqual(readb(0x03), 1)
        XCTAssertEqual(readw(0x0E), 0, "no codec shows before the link leaves reset")
    }

    func testCodecGraphThroughCORBAndRIRB() {
        bringUp()
        XCTAssertEqual(verb(node: 0, 0xF00, 0x00), 0x1AF4_0022, "vendor ID")
        XCTAssertEqual(verb(node: 0, 0xF00, 0x04), 0x0001_0001, "one function group at node 1")
        XCTAssertEqual(verb(node: 1, 0xF00, 0x05) & 0xFF, 1, "audio function group")
        XCTAssertEqual(verb(node: 1, 0xF00, 0x04), 0x0002_0004, "widgets 2 to 5")
        XCTAssertEqual(verb(node: 2, 0xF00, 0x09) >> 20 & 0xF, 0, "node 2: audio output")
        XCTAssertEqual(verb(node: 3, 0xF00, 0x09) >> 20 & 0xF, 4, "node 3: pin")
        XCTAssertEqual(verb(node: 3, 0xF02, 0), 0x02, "line out connects to the DAC")
        XCTAssertEqual(verb(node: 4, 0xF02, 0), 0x05, "the ADC connects to line in")
        XCTAssertEqual(verb(node: 3, 0xF1C, 0), 0x0101_4010)
        // Amplifier: unmute left and right at -10 dB, read each back.
        XCTAssertEqual(verb(node: 2, 0xB, 0xA000), 0xCA, "muted at 0 dB after reset")
        _ = verb(node: 2, 0x3, 0xB000 | 0x40)
        XCTAssertEqual(verb(node: 2, 0xB, 0xA000), 0x40)
        XCTAssertEqual(verb(node: 2, 0xB, 0x8000), 0x40)
        // Power: the function group in D3 takes the widgets with it.
        _ = verb(node: 1, 0x705, 3)
        XCTAssertEqual(verb(node: 2, 0xF05, 0), 0x30, "actual D3, setting D0")
        _ = verb(node: 1, 0x705, 0)
        XCTAssertEqual(verb(node: 2, 0xF05, 0), 0x00)
        // A batch of verbs in one CORBWP write: one response each, in order.
        for (index, parameter) in [0x00, 0x02, 0x04].enumerated() {
            poke32(corb + UInt32(corbWrite + 1 + index) * 4, UInt32(parameter) | 0xF0000)
        }
        corbWrite += 3
        writew(0x48, UInt16(corbWrite))
        XCTAssertEqual(Int(readw(0x58)), rirbRead + 3)
        XCTAssertEqual(peek32(rirb + UInt32(rirbRead + 1) * 8), 0x1AF4_0022)
        XCTAssertEqual(peek32(rirb + UInt32(rirbRead + 3) * 8), 0x0001_0001)
        // Verbs for a codec address nobody answers get no response.
        rirbRead += 3
        poke32(corb + UInt32(corbWrite + 1) * 4, 0x2000_F000)
        corbWrite += 1
        writew(0x48, UInt16(corbWrite))
        XCTAssertEqual(Int(readw(0x58)), rirbRead)
    }

    func testImmediateCommandInterface() {
        bringUp()
        writel(0x60, 0x000F_0000)
        writew(0x68, 0x1)
        XCTAssertEqual(readw(0x68) & 0x3, 0x2, "not busy, response valid")
        XCTAssertEqual(readl(0x64), 0x1AF4_0022)
        writew(0x68, 0x2)
        XCTAssertEqual(readw(0x68) & 0x2, 0)
    }

    /// Sets up the codec's path (DAC on stream 1, unmuted at 0 dB, pin out)
    /// and output stream 0 with `periods` periods of `periodBytes`.
    func startPlayback(format: UInt16, periods: Int, periodBytes: Int, interrupt: Bool = true) {
        _ = verb(node: 2, 0x706, 0x10)
        _ = verb(node: 2, 0x2, Int(format))
        _ = verb(node: 2, 0x3, 0xB000 | 0x4A)
        _ = verb(node: 3, 0x707, 0x40)
        for index in 0..<periods {
            let entry = bdl + UInt32(index * 16)
            poke32(entry, buffers + UInt32(index * periodBytes))
            poke32(entry + 4, 0)
            poke32(entry + 8, UInt32(periodBytes))
            poke32(entry + 12, interrupt ? 1 : 0)
        }
        // snd_hdac_stream_reset, then _setup, then start.
        writeb(out0, readb(out0) | 1)
        XCTAssertEqual(readb(out0) & 1, 1)
        writeb(out0, readb(out0) & ~1)
        XCTAssertEqual(readb(out0) & 1, 0)
        writel(out0, readl(out0) & ~0xF0_0000 | 1 << 20)
        writel(out0 + 0x08, UInt32(periods * periodBytes))
        writew(out0 + 0x12, format)
        writew(out0 + 0x0C, UInt16(periods - 1))
        writel(out0 + 0x18, bdl)
        writel(out0 + 0x1C, 0)
        writel(0x70, positions | 1)
        writel(out0, readl(out0) | 0x1C)
        writel(0x20, readl(0x20) | 1 << 4)
        writeb(out0, readb(out0) | 0x02 | 0x1C)
        XCTAssertEqual(readb(out0 + 3) & 0x20, 0x20, "FIFO ready")
    }

    func testPlaybackPacedByTheFormatWithInterruptsAndPositionBuffer() {
        bringUp()
        // 44.1 kHz, 16 bits, stereo; four 10 ms periods.
        startPlayback(format: 0x4011, periods: 4, periodBytes: 1764)
        XCTAssertEqual(readl(out0 + 4), 0)
        advance(by: 5_000_000)
        XCTAssertEqual(Int(readl(out0 + 4)), 882, accuracy: 4, "LPIB half a period in")
        XCTAssertEqual(peek32(positions + 4 * 8), readl(out0 + 4), "the position buffer has LPIB")
        var interrupts = 0
        var wrapped = false
        var last: UInt32 = 0
        for _ in 0..<1000 {
            advance(by: 1_000_000)
            let position = readl(out0 + 4)
            if position < last { wrapped = true }
            last = position
            XCTAssertLessThan(position, 4 * 1764)
            if probe.level {
                interrupts += 1
                XCTAssertEqual(readl(0x24) & (1 << 4 | 0x8000_0000), 1 << 4 | 0x8000_0000, "SIS for stream 4, GIS")
                XCTAssertEqual(readb(out0 + 3) & 0x04, 0x04, "BCIS")
                writeb(out0 + 3, 0x1C)
                XCTAssertFalse(probe.level)
            }
        }
        XCTAssertEqual(interrupts, 100)
        XCTAssertTrue(wrapped, "LPIB wraps at CBL")
        XCTAssertEqual(card.fifo.framesReceived, 44_320, accuracy: 2)
        // Stopping: nothing is armed any more.
        writeb(out0, readb(out0) & ~0x02)
        XCTAssertNil(scheduler.nextDeadline)
        let frames = card.fifo.framesReceived
        advance(by: 100_000_000)
        XCTAssertEqual(card.fifo.framesReceived, frames)
    }

    func testRenderedToneHasItsPitchAndFollowsTheCodec() {
        bringUp()
        let periodBytes = 19_200  // 100 ms at 48 kHz
        for frame in 0..<(4 * periodBytes / 4) {
            let value = Int16((sin(2 * Double.pi * 1000 * Double(frame) / 48_000) * 16_384).rounded())
            poke16(buffers + UInt32(frame * 4), value)
            poke16(buffers + UInt32(frame * 4 + 2), value)
        }
        startPlayback(format: 0x0011, periods: 4, periodBytes: periodBytes)
        let count = 44_100
        let rendered = UnsafeMutablePointer<Float>.allocate(capacity: 2 * count)
        defer { rendered.deallocate() }
        rendered.initialize(repeating: 0, count: 2 * count)
        var done = 0
        while done < count {  // one second rendered at 44.1 kHz in 5 ms periods
            advance(by: 5_000_000)
            if probe.level { writeb(out0 + 3, 0x1C) }
            let frames = min(count - done, done % 2 == 0 ? 220 : 221)
            card.render(into: rendered + 2 * done, frames: frames, rate: 44_100)
            done += frames
        }
        var crossings = 0, peak: Float = 0
        for index in 22_050..<44_100 {
            if rendered[2 * (index - 1)] < 0 && rendered[2 * index] >= 0 { crossings += 1 }
            peak = max(peak, abs(rendered[2 * index]))
        }
        XCTAssertEqual(crossings, 500, accuracy: 1)
        XCTAssertEqual(peak, 16_384, accuracy: 200)
        XCTAssertEqual(card.starvedRenders, 0)
        func peakOf50ms() -> Float {
            let out = UnsafeMutablePointer<Float>.allocate(capacity: 2 * 2205)
            defer { out.deallocate() }
            out.initialize(repeating: 0, count: 2 * 2205)
            for step in 0..<10 {
                advance(by: 5_000_000)
                if probe.level { writeb(out0 + 3, 0x1C) }
                card.render(into: out + 2 * step * 220, frames: 220, rate: 44_100)
            }
            return (0..<4400).map { abs(out[$0]) }.max()!
        }
        _ = verb(node: 2, 0x3, 0xB000 | 0x44)  // -6 dB
        XCTAssertEqual(peakOf50ms(), 16_384 * 0.501, accuracy: 200)
        _ = verb(node: 2, 0x3, 0xB000 | 0x80 | 0x4A)  // muted
        XCTAssertEqual(peakOf50ms(), 0)
        _ = verb(node: 2, 0x3, 0xB000 | 0x4A)
        _ = verb(node: 3, 0x707, 0)  // pin output off
        XCTAssertEqual(peakOf50ms(), 0)
        _ = verb(node: 3, 0x707, 0x40)
        _ = verb(node: 2, 0x706, 0x20)  // the DAC listens to another stream: what it queued plays out, then silence
        _ = peakOf50ms()
        XCTAssertEqual(peakOf50ms(), 0)
    }

    func testLineInRecordsSilence() {
        bringUp()
        _ = verb(node: 4, 0x706, 0x20)
        let input0: UInt32 = 0x80
        for index in 0..<2 {
            let entry = bdl + UInt32(index * 16)
            poke32(entry, buffers + UInt32(index * 1920))
            poke32(entry + 8, 1920)
            poke32(entry + 12, 1)
        }
        memset(ram.base + Int(buffers), 0x55, 3840)
        writel(input0, 2 << 20)
        writel(input0 + 0x08, 3840)
        writew(input0 + 0x12, 0x0011)
        writew(input0 + 0x0C, 1)
        writel(input0 + 0x18, bdl)
        writel(0x20, readl(0x20) | 1)
        writeb(input0, 0x06)
        advance(by: 10_000_000)
        XCTAssertTrue(probe.level)
        XCTAssertEqual(readl(0x24) & 1, 1, "SIS for input stream 0")
        XCTAssertEqual(peek32(buffers + 1916), 0)
        XCTAssertEqual(peek32(buffers + 1920), 0x5555_5555, "the second entry not reached yet")
    }

    /// A capture that makes a 1 kHz sine at 48 kHz as fast as it is read.
    final class SineCapture: AudioCapture {
        let sampleRate = 48_000
        var frame = 0
        var starts = 0, stops = 0
        func start() { starts += 1 }
        func stop() { stops += 1 }
        func read(into samples: UnsafeMutableBufferPointer<Int16>) -> Int {
            let frames = min(samples.count / 2, 480)
            for index in 0..<frames {
                let value = Int16((sin(2 * Double.pi * 1000 * Double(frame) / 48_000) * 8192).rounded())
                samples[2 * index] = value
                samples[2 * index + 1] = value
                frame += 1
            }
            return frames * 2
        }
    }

    /// hda-duplex's line in records what the capture gives, at the stream's
    /// rate, through the ADC's amplifier; the capture runs only while a
    /// recording stream does.
    func testLineInRecordsTheCaptureAtTheStreamsRate() {
        let capture = SineCapture()
        card.capture = capture
        bringUp()
        _ = verb(node: 4, 0x706, 0x20)
        _ = verb(node: 4, 0x2, 0x4011)
        _ = verb(node: 4, 0x3, 0x7000 | 0x4A)  // input amp, both sides, unmuted, 0 dB
        _ = verb(node: 5, 0x707, 0x20)
        let input0: UInt32 = 0x80
        let bytes = 17_640  // 100 ms at 44.1 kHz
        poke32(bdl, buffers)
        poke32(bdl + 8, UInt32(bytes))
        poke32(bdl + 12, 1)
        writel(input0, 2 << 20)
        writel(input0 + 0x08, UInt32(bytes))
        writew(input0 + 0x12, 0x4011)
        writew(input0 + 0x0C, 0)
        writel(input0 + 0x18, bdl)
        writeb(input0, 0x06)
        XCTAssertEqual(capture.starts, 1)
        advance(by: 100_000_000)
        XCTAssertEqual(readb(input0 + 3) & 0x04, 0x04, "the buffer is full")
        var crossings = 0, peak: Int16 = 0
        var previous: Int16 = 0
        for frame in 2205..<4410 {
            let value = ram.base.load(fromByteOffset: Int(buffers) + 4 * frame, as: Int16.self)
            if previous < 0 && value >= 0 { crossings += 1 }
            previous = value
            peak = max(peak, abs(value))
        }
        XCTAssertEqual(crossings, 50, accuracy: 1, "1 kHz over 50 ms at the guest's rate")
        XCTAssertEqual(Int(peak), 8192, accuracy: 50)
        writeb(input0, 0)
        XCTAssertEqual(capture.stops, 1)
    }

    /// Random BDLs (addresses beyond RAM and above 4 GiB, absurd and zero
    /// lengths), CORB and RIRB bases and pointers anywhere, random register
    /// writes: no crash, every advance ends, nothing written outside RAM.
    func testFuzzedRingsListsAndRegistersAreHarmless() {
        var seed = UInt64.random(in: 0...UInt64.max)
        print("intel-hda fuzz seed \(seed)")
        func next() -> UInt32 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return UInt32(truncatingIfNeeded: seed >> 32)
        }
        bringUp()
        let started = Date()
        var moved = 0
        for round in 0..<300 {
            for index in 0..<256 {
                let entry = bdl + UInt32(index * 16)
                poke32(entry, [next(), 0xFFFF_FFF0, UInt32(ram.size) - 8, buffers][Int(next() % 4)])
                poke32(entry + 4, next() % 8 == 0 ? next() : 0)
                poke32(entry + 8, [0, 1, 0xFFFF_FFFF, next() & 0xFFFF][Int(next() % 4)])
                poke32(entry + 12, next() & 1)
            }
            for index in 0..<256 { poke32(corb + UInt32(index * 4), next()) }
            if round % 4 == 0 {
                writeb(0x4C, 0)
                writeb(0x5C, 0)
                writel(0x40, [next(), 0xFFFF_FF80, corb][Int(next() % 3)])
                writel(0x44, next() % 4 == 0 ? next() : 0)
                writel(0x50, [next(), 0xFFFF_FF80, UInt32(ram.size) - 128, rirb][Int(next() % 4)])
                writel(0x54, next() % 4 == 0 ? next() : 0)
                writeb(0x4E, UInt8(next() & 3))
                writeb(0x5E, UInt8(next() & 3))
                writeb(0x4C, 0x03)
                writeb(0x5C, 0x07)
            }
            writew(0x48, UInt16(truncatingIfNeeded: next()))
            writel(0x70, next())
            writel(0x74, next() % 4 == 0 ? next() : 0)
            writel(0x20, next())
            for stream in 0..<8 {
                let base = 0x80 + UInt32(stream) * 0x20
                writel(base + 0x18, next() % 3 == 0 ? next() : bdl)
                writel(base + 0x1C, next() % 5 == 0 ? next() : 0)
                writel(base + 0x08, next())
                writew(base + 0x0C, UInt16(truncatingIfNeeded: next()))
                writew(base + 0x12, UInt16(truncatingIfNeeded: next()))
                writel(base, next() & ~1)
            }
            moved += card.streams.filter(\.isRunning).count
            card.registerWindow.write(offset: next() % 0x180, value: next(), size: .byte)
            if next() % 16 == 0 { writel(0x08, next()) }
            if readl(0x08) & 1 == 0 { writel(0x08, 1) }
            for _ in 0..<5 {
                advance(by: Int64(next() % 20_000_000))
                writel(0x24, next())
                let buffer = UnsafeMutablePointer<Float>.allocate(capacity: 480)
                buffer.initialize(repeating: 0, count: 480)
                card.render(into: buffer, frames: 240, rate: 48_000)
                buffer.deallocate()
            }
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 60, "no spinning on empty or absurd lists")
        XCTAssertGreaterThan(moved, 0, "streams ran")
    }
}
