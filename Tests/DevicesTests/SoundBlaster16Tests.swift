import XCTest
import Memory
@testable import Devices

/// The DSP and mixer driven the way Linux's snd-sb16 drives them.
final class SoundBlaster16Tests: XCTestCase {
    var harness: PortHarness!
    var ram: GuestRAM!
    var dma: DMA8237!
    var sb: SoundBlaster16!
    var opl: OPL3!
    var irqs: [Int: LineProbe] = [:]

    override func setUp() {
        harness = PortHarness()
        ram = try! GuestRAM(size: 1 << 20)
        let memory = AddressSpace(ram: ram)
        try! memory.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        dma = DMA8237(memory: memory)
        try! dma.attach(to: harness.bus)
        harness.out(0xD6, 0xC0)  // channel 4 cascade, unmasked, as the BIOS leaves it
        harness.out(0xD4, 0x00)
        irqs = [:]
        for irq in SoundBlaster16.selectableIRQs { irqs[irq] = LineProbe() }
        opl = OPL3(clock: harness.clock)
        sb = SoundBlaster16(clock: harness.clock, scheduler: harness.scheduler, dma: dma, opl: opl) { self.irqs[$0]!.line }
        try! harness.bus.attach(sb, name: "sb16", base: 0x220, count: SoundBlaster16.portCount)
        try! harness.bus.attach(opl, name: "opl3", base: 0x388, count: 4)
    }

    func command(_ bytes: UInt8...) {
        for byte in bytes {
            XCTAssertEqual(harness.inb(0x22C) & 0x80, 0, "ready for a command")
            harness.out(0x22C, byte)
        }
    }

    func readByte() -> UInt8? {
        guard harness.inb(0x22E) & 0x80 != 0 else { return nil }
        return harness.inb(0x22A)
    }

    func mixer(_ register: UInt8) -> UInt8 {
        harness.out(0x224, register)
        return harness.inb(0x225)
    }

    func setMixer(_ register: UInt8, _ value: UInt8) {
        harness.out(0x224, register)
        harness.out(0x225, value)
    }

    /// snd_dma_program: mask, clear flip-flop, mode, address, page, count, unmask.
    func programDMA16(address: UInt32, bytes: Int, mode: UInt8 = 0x58) {
        harness.out(0xD4, 0x05)
        harness.out(0xD8, 0)
        harness.out(0xD6, mode | 1)
        harness.out(0xC4, UInt8((address >> 1) & 0xFF))
        harness.out(0xC4, UInt8((address >> 9) & 0xFF))
        harness.out(0x8B, UInt8(address >> 16))
        harness.out(0xC6, UInt8((bytes / 2 - 1) & 0xFF))
        harness.out(0xC6, UInt8((bytes / 2 - 1) >> 8))
        harness.out(0xD4, 0x01)
    }

    func programDMA8(address: UInt32, bytes: Int, mode: UInt8 = 0x58) {
        harness.out(0x0A, 0x05)
        harness.out(0x0C, 0)
        harness.out(0x0B, mode | 1)
        harness.out(0x02, UInt8(address & 0xFF))
        harness.out(0x02, UInt8((address >> 8) & 0xFF))
        harness.out(0x83, UInt8(address >> 16))
        harness.out(0x03, UInt8((bytes - 1) & 0xFF))
        harness.out(0x03, UInt8((bytes - 1) >> 8))
        harness.out(0x0A, 0x01)
    }

    func reset() {
        harness.out(0x226, 1)
        harness.advance(by: 3_000)
        harness.out(0x226, 0)
    }

    func testResetAnswersAAAndVersionIs405() {
        XCTAssertNil(readByte())
        reset()
        XCTAssertEqual(readByte(), 0xAA)
        XCTAssertNil(readByte())
        command(0xE1)
        XCTAssertEqual(readByte(), 4)
        XCTAssertEqual(readByte(), 5)
        command(0xE0, 0x5A)
        XCTAssertEqual(readByte(), 0xA5)
        command(0xE4, 0x37, 0xE8)
        XCTAssertEqual(readByte(), 0x37)
        command(0xD1, 0xD8)
        XCTAssertEqual(readByte(), 0xFF)
        command(0xD3, 0xD8)
        XCTAssertEqual(readByte(), 0x00)
        command(0xE3)
        var text = [UInt8]()
        while let byte = readByte(), byte != 0 { text.append(byte) }
        XCTAssertTrue(String(decoding: text, as: UTF8.self).hasPrefix("COPYRIGHT (C) CREATIVE"))
    }

    func testMixerConfigurationRegistersAsLinuxChecksThem() {
        XCTAssertEqual(mixer(0x80), 0x02, "IRQ 5")
        XCTAssertEqual(mixer(0x81), 0x22, "DMA 1 and 5")
        // snd_sb16dsp_configure writes them and reads them back.
        setMixer(0x80, 0x02)
        setMixer(0x81, 0x22)
        XCTAssertEqual(mixer(0x80) & 0x02, 0x02)
        XCTAssertEqual(mixer(0x81) & 0x22, 0x22)
        // Volumes: the SB Pro master register is a view of the 5-bit pair.
        XCTAssertEqual(mixer(0x30), 0xC0)
        setMixer(0x22, 0xF7)
        XCTAssertEqual(mixer(0x30), 0xF8)
        XCTAssertEqual(mixer(0x31), 0x78)
        XCTAssertEqual(mixer(0x22), 0xF7)
        setMixer(0x00, 0)
        XCTAssertEqual(mixer(0x30), 0xC0, "mixer reset")
        XCTAssertEqual(mixer(0x80), 0x02, "the reset keeps the IRQ selection")
    }

    func testInterruptCommandsAndAcknowledgePorts() {
        command(0xF2)
        XCTAssertTrue(irqs[5]!.level)
        XCTAssertEqual(mixer(0x82) & 0x03, 0x01)
        _ = harness.inb(0x22E)
        XCTAssertFalse(irqs[5]!.level)
        XCTAssertEqual(mixer(0x82) & 0x03, 0)
        command(0xF3)
        XCTAssertEqual(mixer(0x82) & 0x03, 0x02)
        _ = harness.inb(0x22E)
        XCTAssertTrue(irqs[5]!.level, "the 8-bit acknowledge leaves the 16-bit interrupt")
        _ = harness.inb(0x22F)
        XCTAssertFalse(irqs[5]!.level)
        // Another IRQ chosen through the mixer.
        setMixer(0x80, 0x04)
        command(0xF2)
        XCTAssertTrue(irqs[7]!.level)
        XCTAssertFalse(irqs[5]!.level)
    }

    /// snd_sb16_playback_prepare + trigger: 16-bit signed stereo, auto-init,
    /// a 4096-byte buffer in periods of 1024 bytes, at 8000 Hz.
    func testSixteenBitAutoInitInterruptsAtEachBlockEndPacedByTime() {
        programDMA16(address: 0x2_0000, bytes: 4096)
        command(0x41, 0x1F, 0x40)  // 8000 Hz, high byte first
        command(0xB6, 0x30, 0xFF, 0x01, 0xD5)  // 512 samples a block, paused
        harness.advance(by: 50_000_000)
        XCTAssertEqual(irqs[5]!.risingEdges, 0, "paused")
        command(0xD6)
        // 1024 bytes at 8000 frames * 4 bytes per second: 32 ms a block.
        harness.advance(by: 31_900_000)
        XCTAssertEqual(irqs[5]!.risingEdges, 0)
        harness.advance(by: 200_000)
        XCTAssertEqual(irqs[5]!.risingEdges, 1)
        XCTAssertEqual(mixer(0x82) & 0x02, 0x02, "a 16-bit interrupt")
        _ = harness.inb(0x22F)
        harness.advance(by: 32_000_000 * 5)
        XCTAssertEqual(irqs[5]!.risingEdges, 2, "no new edge while one is not acknowledged")
        _ = harness.inb(0x22F)
        harness.advance(by: 32_000_000)
        XCTAssertEqual(irqs[5]!.risingEdges, 3)
        _ = harness.inb(0x22F)
        // The DMA pointer Linux reads moves with time: 7 blocks of 1024 bytes, wrapped in 4096.
        harness.out(0xD8, 0)
        let low = harness.inb(0xC6), high = harness.inb(0xC6)
        let wordsLeft = Int(UInt16(low) | UInt16(high) << 8) + 1
        XCTAssertEqual(wordsLeft, (4096 - (7 * 1024) % 4096) / 2)
        // Exit auto-init: the current block ends with its interrupt, then nothing.
        command(0xD9)
        harness.advance(by: 32_000_000 * 3)
        XCTAssertEqual(irqs[5]!.risingEdges, 4)
        _ = harness.inb(0x22F)
        harness.advance(by: 32_000_000 * 3)
        XCTAssertEqual(irqs[5]!.risingEdges, 4)
    }

    func testEightBitSingleCycleOneInterruptAndPause() {
        programDMA8(address: 0x3_0000, bytes: 800, mode: 0x48)
        command(0x40, 131)  // time constant 256 - 125: 8000 Hz
        command(0x14, 0x1F, 0x03)  // 800 bytes: 100 ms
        harness.advance(by: 50_000_000)
        command(0xD0)
        harness.advance(by: 200_000_000)
        XCTAssertEqual(irqs[5]!.risingEdges, 0, "paused half way")
        command(0xD4)
        harness.advance(by: 49_000_000)
        XCTAssertEqual(irqs[5]!.risingEdges, 0)
        harness.advance(by: 2_000_000)
        XCTAssertEqual(irqs[5]!.risingEdges, 1)
        XCTAssertEqual(mixer(0x82) & 0x01, 0x01)
        _ = harness.inb(0x22E)
        harness.advance(by: 500_000_000)
        XCTAssertEqual(irqs[5]!.risingEdges, 1, "single cycle: one block")
        XCTAssertFalse(dma.isReady(1), "the DMA channel reached terminal count")
    }

    func testSamplesReachTheMixerAtTheirLevel() {
        // Unsigned 8-bit mono at 0xC0 = +64/128 of full scale, volumes at 0 dB.
        try! [UInt8](repeating: 0xC0, count: 4000).withUnsafeBytes { try ram.load($0, at: 0x4_0000) }
        for register: UInt8 in 0x30...0x33 { setMixer(register, 0xF8) }
        var captured: [Int16] = []
        let mixer = AudioMixer(sampleRate: 48_000, clock: harness.clock, scheduler: harness.scheduler) { captured.append(contentsOf: $0) }
        sb.isAudible = true
        mixer.add(sb)
        mixer.start()
        programDMA8(address: 0x4_0000, bytes: 4000, mode: 0x48)
        command(0x41, 0x1F, 0x40)
        command(0xC0, 0x00, 0x9F, 0x0F)  // 8-bit unsigned mono single-cycle, 4000 samples: 0.5 s
        harness.advance(by: 400_000_000)
        XCTAssertGreaterThan(captured.count, 2 * 48_000 * 35 / 100)
        let middle = captured[captured.count / 2 ..< captured.count / 2 + 200]
        XCTAssertTrue(middle.allSatisfy { $0 == 16384 }, "got \(Array(middle.prefix(8)))")
        // Voice volume 15 of 31: 16 steps of 2 dB down.
        setMixer(0x32, 0x78)
        captured = []
        harness.advance(by: 20_000_000)
        XCTAssertEqual(Double(captured[10]), 16384 * pow(10, -32.0 / 20), accuracy: 2)
        XCTAssertEqual(captured[11], 16384, "right channel unchanged")
    }

    /// With nothing playing, the card and its OPL3 let the mixer stop (a
    /// PulseAudio back end lets it); a transfer, a resume after a pause and
    /// a key-on wake it, and it rests again once the sound has ended.
    func testIdleCardLetsTheMixerStopAndPlayingWakesIt() {
        var produced = 0
        var idleStates: [Bool] = []
        let mixer = AudioMixer(sampleRate: 48_000, clock: harness.clock, scheduler: harness.scheduler) { produced += $0.count / 2 }
        sb.isAudible = true
        mixer.add(sb)
        mixer.add(opl)
        mixer.mayIdle = true
        mixer.idleChanged = { idleStates.append($0) }
        sb.streamStarted = { mixer.wake() }
        opl.keyedOn = { mixer.wake() }
        mixer.start()
        harness.advance(by: 300_000_000)
        XCTAssertTrue(mixer.isIdle, "a silent card")
        XCTAssertNil(harness.scheduler.nextDeadline, "an idle card and mixer arm no timer")

        programDMA8(address: 0x3_0000, bytes: 800, mode: 0x48)
        command(0x40, 131)          // 8000 Hz
        command(0x14, 0x1F, 0x03)   // 800 bytes: 100 ms
        XCTAssertFalse(mixer.isIdle, "a transfer wakes the mixer")
        harness.advance(by: 50_000_000)
        command(0xD0)               // pause
        harness.advance(by: 400_000_000)
        XCTAssertTrue(mixer.isIdle, "paused, with its frames played out")
        let before = produced
        command(0xD4)               // resume
        XCTAssertFalse(mixer.isIdle, "resuming wakes it")
        harness.advance(by: 60_000_000)
        XCTAssertEqual(produced - before, 2880, accuracy: 240, "mixing at the host rate")
        harness.advance(by: 500_000_000)
        XCTAssertTrue(mixer.isIdle, "the single-cycle block ended")

        // The OPL3: channel 0 keyed on, both operators with a quick release to end on.
        for slot: UInt8 in [0, 3] {
            harness.out(0x388, 0x60 + slot); harness.out(0x389, 0xFF)  // attack 15, decay 15
            harness.out(0x388, 0x80 + slot); harness.out(0x389, 0x0F)  // sustain 0, release 15
        }
        harness.out(0x388, 0xA0); harness.out(0x389, 0x44)
        harness.out(0x388, 0xB0); harness.out(0x389, 0x32)  // key on, block 4
        XCTAssertFalse(mixer.isIdle, "a key-on wakes it")
        XCTAssertEqual(idleStates.last, false)
        harness.out(0x388, 0xB0); harness.out(0x389, 0x12)  // key off
        harness.advance(by: 2_000_000_000)
        XCTAssertTrue(mixer.isIdle, "the notes released to silence")
    }

    /// A stream that starts between two mixer periods, after the mixer ran
    /// late, is placed where it started: no silence inside it.
    func testStreamStartingMidPeriodHasNoHoles() {
        try! [UInt8](repeating: 0xC0, count: 8000).withUnsafeBytes { try ram.load($0, at: 0x4_0000) }
        for register: UInt8 in 0x30...0x33 { setMixer(register, 0xF8) }
        var captured: [Int16] = []
        let mixer = AudioMixer(sampleRate: 44_100, clock: harness.clock, scheduler: harness.scheduler) { captured.append(contentsOf: $0) }
        sb.isAudible = true
        mixer.add(sb)
        mixer.start()
        harness.advance(by: 2_300_000)
        programDMA8(address: 0x4_0000, bytes: 8000, mode: 0x48)
        command(0x41, 0x56, 0x22)  // 22050 Hz
        command(0xC0, 0x00, 0x3F, 0x1F)  // 8000 samples
        // The mixer's next period comes 20 ms late.
        harness.clock.skip(to: harness.clock.now + 20_000_000)
        harness.advance(by: 300_000_000)
        let left = stride(from: 0, to: captured.count, by: 2).map { captured[$0] }
        let start = try! XCTUnwrap(left.firstIndex { $0 != 0 })
        XCTAssertEqual(Double(start) / 44_100, 0.0023, accuracy: 0.0002, "the sound starts when the DSP started")
        let hole = left[start..<(start + 44_100 / 4)].firstIndex { $0 != 16384 }
        XCTAssertNil(hole, "a hole at frame \(hole ?? 0)")
        XCTAssertEqual(sb.starvedRenders, 0)
    }

    func testRecordingWritesSilenceToMemory() {
        try! [UInt8](repeating: 0x11, count: 64).withUnsafeBytes { try ram.load($0, at: 0x5_0000) }
        programDMA8(address: 0x5_0000, bytes: 64, mode: 0x44)
        command(0x41, 0x1F, 0x40)
        command(0xC8, 0x00, 0x3F, 0x00)  // 8-bit unsigned mono input, single cycle
        harness.advance(by: 10_000_000)
        XCTAssertEqual(irqs[5]!.risingEdges, 1)
        let bytes = (0..<64).map { ram.uncheckedPointer(at: 0x5_0000 + $0).load(as: UInt8.self) }
        XCTAssertEqual(bytes, [UInt8](repeating: 0x80, count: 64))
    }

    func testUnknownCommandsAndNonsenseAreHarmless() {
        command(0x7D, 0xFF, 0x01, 0x02)
        command(0xB1, 0x00, 0x00, 0x00)  // bit 0 set: refused
        dma.reset()
        command(0xB6, 0x30, 0xFF, 0xFF)  // no DMA programmed: the DSP waits
        harness.advance(by: 1_000_000_000)
        XCTAssertEqual(irqs[5]!.risingEdges, 0)
        reset()
        XCTAssertEqual(readByte(), 0xAA)
    }
}
