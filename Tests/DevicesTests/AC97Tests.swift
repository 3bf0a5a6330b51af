import Foundation
import Memory
import Timing
import XCTest
@testable import Devices

/// The ICH AC'97 controller driven the way Linux's snd-intel8x0 drives it:
/// a cold reset through GLOB_CNT, codec registers under the access
/// semaphore, a list of 32 buffer descriptors in guest RAM, CR = IOCE |
/// RPBM, and an interrupt handler that acknowledges BCIS and moves LVI on.
final class AC97Tests: XCTestCase {
    var harness: PortHarness!
    var ram: GuestRAM!
    var card: AC97!
    var probe: LineProbe!
    var pciBus: PCIBus!
    var router: Router!
    static let nam: UInt16 = 0x1000
    static let nabm: UInt16 = 0x1100
    let PO: UInt16 = AC97Tests.nabm + 0x10
    let GLOB_CNT = AC97Tests.nabm + 0x2C, GLOB_STA = AC97Tests.nabm + 0x30, CAS = AC97Tests.nabm + 0x34
    let bufferList: UInt32 = 0x1_0000
    let buffers: UInt32 = 0x2_0000

    override func setUp() {
        harness = PortHarness()
        ram = try! GuestRAM(size: 4 << 20)
        let space = AddressSpace(ram: ram)
        _ = try! space.map("ram", at: 0, size: UInt64(ram.size), kind: .ram(offset: 0))
        card = AC97(memory: space, memoryWritten: { _, _ in }, clock: harness.clock, scheduler: harness.scheduler)
        try! harness.bus.attach(card.mixerPorts, name: "nam", base: AC97Tests.nam, count: Int(AC97.mixerBytes))
        try! harness.bus.attach(card.busMasterPorts, name: "nabm", base: AC97Tests.nabm, count: Int(AC97.busMasterBytes))
        probe = LineProbe()
        pciBus = PCIBus()
        router = Router(line: probe.line)
        pciBus.interruptRouter = router
        try! pciBus.plug(card, slot: 5)
    }

    /// Gives INTA# of slot 5 to a probe.
    final class Router: PCIInterruptRouter {
        let line: InterruptLine
        init(line: InterruptLine) { self.line = line }
        func setINTx(slot: Int, pin: Int, level: Bool) { line.set(level) }
    }

    func poke32(_ address: UInt32, _ value: UInt32) { ram.base.storeBytes(of: value, toByteOffset: Int(address), as: UInt32.self) }
    func poke16(_ address: UInt32, _ value: Int16) { ram.base.storeBytes(of: value, toByteOffset: Int(address), as: Int16.self) }

    /// snd_intel8x0_codec_read/write: take the semaphore, then the codec.
    func codecWrite(_ register: UInt16, _ value: UInt16) {
        XCTAssertEqual(harness.inb(CAS) & 1, 0, "semaphore free")
        harness.outw(AC97Tests.nam + register, value)
    }

    func codecRead(_ register: UInt16) -> UInt16 {
        XCTAssertEqual(harness.inb(CAS) & 1, 0, "semaphore free")
        return harness.inw(AC97Tests.nam + register)
    }

    /// The chip's cold reset and the codec's set-up, as snd-intel8x0 and ac97_codec do them.
    func bringUp(rate: UInt16 = 44_100) {
        harness.outl(GLOB_CNT, 0)
        XCTAssertEqual(harness.inl(GLOB_STA) & 0x100, 0, "no codec ready in cold reset")
        harness.outl(GLOB_CNT, 0x2)
        XCTAssertEqual(harness.inl(GLOB_CNT) & 0x6, 0x2, "warm reset reads back clear")
        XCTAssertNotEqual(harness.inl(GLOB_STA) & 0x100, 0, "primary codec ready")
        codecWrite(0x00, 0)
        XCTAssertEqual(codecRead(0x26) & 0xF, 0xF, "ADC, DAC, mixer and Vref ready")
        codecWrite(0x2A, 1)  // VRA on
        codecWrite(0x2C, rate)
        XCTAssertEqual(codecRead(0x2C), rate)
        codecWrite(0x02, 0x0000)  // master: 0 dB, unmuted
        codecWrite(0x18, 0x0808)  // PCM: 0 dB, unmuted
    }

    /// 32 descriptors, buffer i at buffers + i * bytes, `samples` 16-bit samples each, IOC set.
    func writeList(samples: Int, interrupt: Bool = true) {
        for index in 0..<32 {
            let entry = bufferList + UInt32(index) * 8
            poke32(entry, buffers + UInt32(index * samples * 2))
            poke32(entry + 4, UInt32(samples) | (interrupt ? 0x8000_0000 : 0))
        }
    }

    /// snd_intel8x0_pcm_prepare and trigger: reset the box, list, LVI, start.
    func startPlayback(lastValid: UInt8) {
        harness.out(PO + 0xB, 0x02)
        XCTAssertEqual(harness.inb(PO + 0xB) & 0x02, 0, "register reset completes at once")
        harness.outl(PO, bufferList)
        harness.out(PO + 5, lastValid)
        harness.out(PO + 0xB, 0x11)  // IOCE | RPBM
    }

    /// snd_intel8x0_interrupt and _update: what is pending, acknowledged, LVI moved on.
    @discardableResult
    func serviceInterrupt(moveLastValid: Bool) -> Bool {
        guard harness.inl(GLOB_STA) & 0x40 != 0 else { return false }
        let status = harness.inb(PO + 6)
        if status & 0x08 != 0, moveLastValid {
            harness.out(PO + 5, (harness.inb(PO + 5) + 1) & 0x1F)
        }
        harness.out(PO + 6, status & 0x1C)
        return true
    }

    func testPCIIdentityAndBARs() {
        XCTAssertEqual(card.configRead(offset: PCIConfig.vendorID, size: .dword), 0x2415_8086)
        XCTAssertEqual(card.configRead(offset: PCIConfig.revision, size: .dword) >> 8, 0x04_01_00)
        XCTAssertEqual(card.barInfo(0)?.size, 256)
        XCTAssertEqual(card.barInfo(1)?.size, 64)
        XCTAssertEqual(card.barInfo(0)?.kind, .io)
        XCTAssertEqual(card.configRead(offset: PCIConfig.interruptPin, size: .byte), 1)
    }

    func testCodecRegistersAndSemaphore() {
        bringUp()
        XCTAssertEqual(codecRead(0x7C), 0x8384)
        XCTAssertEqual(codecRead(0x7E), 0x7600)
        // The semaphore: a read takes it, the codec access frees it.
        XCTAssertEqual(harness.inb(CAS) & 1, 0)
        XCTAssertEqual(harness.inb(CAS) & 1, 1, "taken by the first read")
        _ = harness.inw(AC97Tests.nam + 0x02)
        XCTAssertEqual(harness.inb(CAS) & 1, 0, "freed by the access")
        _ = harness.inw(AC97Tests.nam + 0x02)
        // ac97_codec's resolution probe: 0x20 does not stick (5-bit volume), 0x10 does.
        codecWrite(0x02, 0x2020)
        XCTAssertEqual(codecRead(0x02), 0x0000)
        codecWrite(0x02, 0x9010)
        XCTAssertEqual(codecRead(0x02), 0x9010)
        // No stereo mute bit, no such register.
        codecWrite(0x02, 0x0080)
        XCTAssertEqual(codecRead(0x02), 0)
        codecWrite(0x3A, 0x1234)
        XCTAssertEqual(codecRead(0x3A), 0)
        // Without VRA the DAC stays at 48 kHz.
        codecWrite(0x2A, 0)
        XCTAssertEqual(codecRead(0x2C), 48_000)
        codecWrite(0x2C, 22_050)
        XCTAssertEqual(codecRead(0x2C), 48_000)
        // The codec reset restores the power-on values (master muted).
        codecWrite(0x00, 0)
        XCTAssertEqual(codecRead(0x02), 0x8000)
        XCTAssertEqual(codecRead(0x18), 0x8808)
    }

    /// Ten-millisecond periods at 44.1 kHz: one interrupt per period, the
    /// frames counted by the rate, CIV wrapping from 31 to 0 behind LVI.
    func testPlaybackPacedAtTheCodecRateWithLVIWrap() {
        bringUp()
        writeList(samples: 882)
        startPlayback(lastValid: 31)
        XCTAssertEqual(harness.inb(PO + 4), 0, "CIV")
        XCTAssertEqual(harness.inb(PO + 0xA), 1, "PIV")
        XCTAssertEqual(harness.inw(PO + 8), 882, "PICB")
        XCTAssertEqual(harness.inw(PO + 6) & 1, 0, "DMA running")
        harness.advance(by: 5_000_000)
        XCTAssertEqual(Int(harness.inw(PO + 8)), 882 - 441, accuracy: 2, "half a period played")
        XCTAssertFalse(probe.level)
        var interrupts = 0
        var civs: [UInt8] = []
        for _ in 0..<1000 {  // one second in 1 ms steps, servicing interrupts like the driver
            harness.advance(by: 1_000_000)
            if probe.level {
                interrupts += 1
                civs.append(harness.inb(PO + 4))
                serviceInterrupt(moveLastValid: true)
                XCTAssertFalse(probe.level, "acknowledged")
            }
        }
        XCTAssertEqual(interrupts, 100)
        XCTAssertEqual(civs.prefix(33).last, 1, "CIV went round 31 -> 0 -> 1")
        XCTAssertTrue(civs.contains(31) && civs.contains(0))
        XCTAssertEqual(harness.inw(PO + 6) & 0x3, 0, "never reached LVI: not halted")
        // 1.005 s at 44100 frames per second.
        XCTAssertEqual(card.pcmOut.fifo!.framesReceived, 44_320, accuracy: 2)
        XCTAssertEqual(harness.inl(GLOB_STA) & 0x40, 0)
    }

    /// Without LVI moving, the box stops after the last valid buffer: DCH,
    /// CELV and LVBCI set, the interrupt raised, no timer left; a new LVI
    /// starts it again with the next buffer.
    func testHaltsAtTheLastValidBufferAndResumesWhenLVIMoves() {
        bringUp(rate: 48_000)
        writeList(samples: 960)
        harness.out(PO + 0xB, 0x02)
        harness.outl(PO, bufferList)
        harness.out(PO + 5, 1)
        harness.out(PO + 0xB, 0x15)  // IOCE | LVBIE | RPBM
        harness.advance(by: 10_000_000)
        XCTAssertEqual(harness.inb(PO + 6) & 0x08, 0x08, "BCIS after the first buffer")
        XCTAssertTrue(probe.level)
        harness.out(PO + 6, 0x1C)
        XCTAssertFalse(probe.level)
        harness.advance(by: 10_000_000)
        let status = harness.inw(PO + 6)
        XCTAssertEqual(status & 0x0F, 0x0F, "DCH, CELV, LVBCI, BCIS")
        XCTAssertEqual(harness.inb(PO + 4), 1, "CIV stays on the last valid buffer")
        XCTAssertNil(harness.scheduler.nextDeadline, "a halted box arms no timer")
        let frames = card.pcmOut.fifo!.framesReceived
        XCTAssertEqual(frames, 960)
        harness.advance(by: 50_000_000)
        XCTAssertEqual(card.pcmOut.fifo!.framesReceived, frames, "nothing moves while halted")
        harness.out(PO + 6, 0x1C)
        harness.out(PO + 5, 2)
        XCTAssertEqual(harness.inw(PO + 6) & 0x3, 0, "running again")
        XCTAssertEqual(harness.inb(PO + 4), 2)
        harness.advance(by: 10_000_000)
        XCTAssertEqual(card.pcmOut.fifo!.framesReceived, 1440)
        // Stopping: CR = 0 halts it (the driver waits for DCH), and nothing is armed.
        harness.out(PO + 0xB, 0)
        XCTAssertEqual(harness.inb(PO + 6) & 1, 1)
        XCTAssertNil(harness.scheduler.nextDeadline)
    }

    /// A 1 kHz sine at 44.1 kHz comes out of the mixer's render at 48 kHz
    /// with its pitch and level, and the codec's mute silences it.
    func testRenderedToneHasItsPitchAndFollowsTheMixer() {
        bringUp()
        let samples = 4410  // 50 ms a buffer
        writeList(samples: samples)
        for frame in 0..<(32 * samples / 2) {
            let value = Int16((sin(2 * Double.pi * 1000 * Double(frame) / 44_100) * 16_384).rounded())
            poke16(buffers + UInt32(frame * 4), value)
            poke16(buffers + UInt32(frame * 4 + 2), value)
        }
        startPlayback(lastValid: 31)
        let rendered = UnsafeMutablePointer<Float>.allocate(capacity: 2 * 48_000)
        defer { rendered.deallocate() }
        rendered.initialize(repeating: 0, count: 2 * 48_000)
        var done = 0
        while done < 48_000 {  // one second in 5 ms mixer periods
            harness.advance(by: 5_000_000)
            serviceInterrupt(moveLastValid: true)
            card.render(into: rendered + 2 * done, frames: 240, rate: 48_000)
            done += 240
        }
        var crossings = 0, peak: Float = 0
        for index in 24_000..<48_000 {
            if rendered[2 * (index - 1)] < 0 && rendered[2 * index] >= 0 { crossings += 1 }
            peak = max(peak, abs(rendered[2 * index]))
        }
        XCTAssertEqual(crossings, 500, accuracy: 1, "1000 Hz over half a second")
        XCTAssertEqual(peak, 16_384, accuracy: 200)
        XCTAssertEqual(card.starvedRenders, 0)
        // Master -6 dB, then muted.
        codecWrite(0x02, 0x0404)
        let quieter = UnsafeMutablePointer<Float>.allocate(capacity: 2 * 4800)
        defer { quieter.deallocate() }
        quieter.initialize(repeating: 0, count: 2 * 4800)
        for step in 0..<20 {
            harness.advance(by: 5_000_000)
            serviceInterrupt(moveLastValid: true)
            card.render(into: quieter + 2 * 240 * step, frames: 240, rate: 48_000)
        }
        let quietPeak = (0..<9600).map { abs(quieter[$0]) }.max()!
        XCTAssertEqual(quietPeak, 16_384 * 0.501, accuracy: 200)
        codecWrite(0x02, 0x8000)
        quieter.update(repeating: 0, count: 2 * 4800)
        harness.advance(by: 5_000_000)
        card.render(into: quieter, frames: 240, rate: 48_000)
        XCTAssertEqual((0..<480).map { abs(quieter[$0]) }.max(), 0, "muted")
    }

    /// With no stream running the mixer stops ticking (a PulseAudio back end
    /// lets it), and starting PCM out wakes it.
    func testIdleCardLetsTheMixerStopAndAStreamWakesIt() {
        var produced = 0
        var idleStates: [Bool] = []
        let mixer = AudioMixer(sampleRate: 48_000, clock: harness.clock, scheduler: harness.scheduler) { produced += $0.count / 2 }
        mixer.add(card)
        mixer.mayIdle = true
        mixer.idleChanged = { idleStates.append($0) }
        card.streamStarted = { mixer.wake() }
        mixer.start()
        bringUp()
        harness.advance(by: 300_000_000)
        XCTAssertTrue(mixer.isIdle)
        XCTAssertEqual(idleStates, [true])
        XCTAssertNil(harness.scheduler.nextDeadline, "an idle card and mixer arm no timer")
        let before = produced
        harness.advance(by: 1_000_000_000)
        XCTAssertEqual(produced, before, "nothing mixed while idle")
        writeList(samples: 882)
        startPlayback(lastValid: 31)
        XCTAssertFalse(mixer.isIdle)
        XCTAssertEqual(idleStates, [true, false])
        harness.advance(by: 100_000_000)
        XCTAssertEqual(produced - before, 4800, accuracy: 240, "mixing again at the host rate")
    }

    /// PCM in records silence into its buffers at the ADC rate.
    func testRecordingWritesSilenceAtTheADCRate() {
        bringUp()
        codecWrite(0x32, 16_000)
        for index in 0..<32 {
            let entry = bufferList + UInt32(index) * 8
            poke32(entry, buffers + UInt32(index * 640))
            poke32(entry + 4, 320 | 0x8000_0000)  // 10 ms of 16 kHz stereo
        }
        memset(ram.base + Int(buffers), 0x55, 32 * 640)
        harness.outl(AC97Tests.nabm, bufferList)
        harness.out(AC97Tests.nabm + 5, 31)
        harness.out(AC97Tests.nabm + 0xB, 0x11)
        harness.advance(by: 10_000_000)
        XCTAssertNotEqual(harness.inl(GLOB_STA) & 0x20, 0, "PCM in interrupt")
        XCTAssertTrue(probe.level)
        XCTAssertEqual(ram.base.load(fromByteOffset: Int(buffers) + 100, as: UInt16.self), 0)
        XCTAssertEqual(ram.base.load(fromByteOffset: Int(buffers) + 640, as: UInt16.self), 0x5555, "the next buffer untouched yet")
    }

    /// A buffer that runs off the end of RAM: what lies beyond reads as the
    /// bus's all-ones, never as host memory.
    func testBufferPastTheEndOfRAMReadsAllOnes() {
        bringUp(rate: 48_000)
        let end = UInt32(ram.size)
        poke16(end - 4, 0x1234)
        poke16(end - 2, 0x1234)
        poke32(bufferList, end - 4)
        poke32(bufferList + 4, 8 | 0x8000_0000)
        startPlayback(lastValid: 0)
        harness.advance(by: 1_000_000)
        XCTAssertEqual(card.pcmOut.fifo!.framesReceived, 4)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: 2 * 240)
        defer { out.deallocate() }
        out.initialize(repeating: 0, count: 480)
        // Played at its own rate: the frames come out as they went in.
        card.render(into: out, frames: 240, rate: 48_000)
        let values = (0..<480).map { out[$0] }.filter { $0 != 0 }
        XCTAssertEqual(values.first, 0x1234)
        XCTAssertTrue(values.dropFirst(2).allSatisfy { $0 == -1 }, "\(values)")
        XCTAssertEqual(harness.inw(PO + 6) & 0x7, 0x7, "halted after it")
    }

    /// Random descriptor lists (addresses beyond RAM, absurd and zero
    /// lengths), random list bases and register writes: nothing crashes,
    /// every advance ends, and memory beyond RAM is never written.
    func testFuzzedListsAndRegistersAreHarmless() {
        var generator = SystemRandomNumberGenerator()
        var seed = UInt64.random(in: 0...UInt64.max, using: &generator)
        print("AC97 fuzz seed \(seed)")
        func next() -> UInt32 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return UInt32(truncatingIfNeeded: seed >> 32)
        }
        bringUp()
        let started = Date()
        for round in 0..<300 {
            let base: UInt32 = round % 3 == 0 ? next() : bufferList
            for index in 0..<32 {
                let entry = bufferList + UInt32(index) * 8
                let address: UInt32 = [next(), 0xFFFF_FFFE, UInt32(ram.size) - 2, buffers][Int(next() % 4)]
                let length: UInt32 = [0, 1, 0xFFFF, next() & 0xFFFF][Int(next() % 4)]
                poke32(entry, address)
                poke32(entry + 4, length | (next() & 0xC000_0000))
            }
            for box: UInt16 in [0x00, 0x10, 0x20] {
                harness.outl(AC97Tests.nabm + box, base)
                harness.out(AC97Tests.nabm + box + 5, UInt8(next() & 0xFF))
                harness.out(AC97Tests.nabm + box + 0xB, UInt8(next() & 0xFF))
            }
            harness.outw(AC97Tests.nam + UInt16(next() & 0x7E), UInt16(truncatingIfNeeded: next()))
            harness.outl(GLOB_CNT, next() | 0x2)
            for _ in 0..<5 {
                harness.advance(by: Int64(next() % 20_000_000))
                harness.out(PO + 6, 0x1C)
                harness.out(PO + 5, UInt8(next() & 0x1F))
                let buffer = UnsafeMutablePointer<Float>.allocate(capacity: 480)
                buffer.initialize(repeating: 0, count: 480)
                card.render(into: buffer, frames: 240, rate: 48_000)
                buffer.deallocate()
            }
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "no spinning on empty or absurd lists")
        XCTAssertGreaterThan(card.pcmOut.fifo!.framesReceived, 0, "PCM out ran")
    }
}
