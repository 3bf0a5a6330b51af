import Foundation
import TestSupport
import XCTest

/// Sound from a real guest: Linux's snd-sb16 plays a known sine (written to
/// /dev/dsp by Tests/GuestPrograms/sound-test.c) and what comes out of the WAV
/// back end or a private PulseAudio server's null sink must have the guest's
/// frequency and level; a PC speaker beep must have its pitch. sox measures.
final class SoundGuestTests: XCTestCase {
    static let prompt = "pcemu:/root# "
    static let loadDriver = "modprobe snd-sb16 port=0x220 irq=5 dma8=1 dma16=5 isapnp=0 && modprobe snd-pcm-oss"

    var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory("pcemu-sound")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    func boot(_ options: [String], environment: [String: String]? = nil) throws -> ChildProcess {
        let guest = try DefaultGuest.paths()
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "256", "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", "console=ttyS0 quiet",
            "-nographic", "-d", "device",
        ] + options, environment: environment, inputPipe: true)
        guard pcemu.waitForOutput(SoundGuestTests.prompt, timeout: 300) else {
            pcemu.stop()
            throw TestSetupError("the guest did not boot: \(pcemu.standardOutput.suffix(2000)) \(pcemu.standardError.suffix(500))")
        }
        return pcemu
    }

    func powerOff(_ pcemu: ChildProcess) {
        pcemu.send("poweroff -f\n")
        XCTAssertEqual(pcemu.wait(timeout: 60), 0, "poweroff ends pcemu with status 0")
    }

    /// sox's `stat` of the left channel, from `start` seconds after the sound
    /// begins (or after the file begins, with `fromSound` false), for `length` seconds.
    func soxStatistics(_ file: String, start: Double, length: Double, fromSound: Bool = true) throws -> [String: Double] {
        let skipSilence = fromSound ? ["silence", "1", "0.01", "1%"] : []
        let result = try ChildProcess.run("/usr/bin/sox", [file, "-n", "remix", "1"] + skipSilence
                                          + ["trim", String(start), String(length), "stat"])
        XCTAssertEqual(result.status, 0, result.stderr)
        var values: [String: Double] = [:]
        for line in result.stderr.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let value = Double(parts[1].trimmingCharacters(in: .whitespaces)) else { continue }
            values[parts[0].split(separator: " ").joined(separator: " ")] = value
        }
        return values
    }

    func testSineThroughTheWAVBackEndKeepsItsFrequencyAndLevel() throws {
        let wav = directory.appendingPathComponent("sb16.wav").path
        let pcemu = try boot(["-device", "sb16,audiodev=a0", "-audiodev", "wav,id=a0,path=\(wav)"])
        defer { pcemu.stop() }
        XCTAssertEqual(runInShell(SoundGuestTests.loadDriver + " && cat /proc/asound/cards", in: pcemu)?.contains("Sound Blaster 16 at 0x220, irq 5, dma 1&5"), true)
        XCTAssertEqual(runInShell("sound-test tone 1000 2 44100 50", in: pcemu), "tone 1000 Hz 88200 frames at 44100 Hz")
        // Again with no 16-bit channel: the driver sends its samples through DMA 1.
        let reload = "rmmod snd-pcm-oss snd-mixer-oss snd-sb16 && " + SoundGuestTests.loadDriver.replacingOccurrences(of: "dma16=5", with: "dma16=-1")
        XCTAssertEqual(runInShell(reload + " && cat /proc/asound/cards", in: pcemu)?.contains("Sound Blaster 16 at 0x220, irq 5, dma 1"), true)
        XCTAssertEqual(runInShell("sound-test tone 500 1 22050 50 u8", in: pcemu), "tone 500 Hz 22050 frames at 22050 Hz")
        powerOff(pcemu)

        let statistics = try soxStatistics(wav, start: 0.2, length: 1.5)
        XCTAssertEqual(statistics["Rough frequency"] ?? 0, 1000, accuracy: 10, "\(statistics)")
        XCTAssertEqual(statistics["Maximum amplitude"] ?? 0, 0.5, accuracy: 0.005, "\(statistics)")
        XCTAssertEqual(statistics["RMS amplitude"] ?? 0, 0.5 / 2.0.squareRoot(), accuracy: 0.005, "\(statistics)")
        let (samples, rate) = try AudioAnalysis.leftChannel(wav)
        XCTAssertEqual(rate, 44_100)
        let found = AudioAnalysis.sounds(samples, rate: rate)
        XCTAssertEqual(found.count, 2, "two tones: \(found)")
        let sound = AudioAnalysis.analyse(samples, rate: rate, sound: found.first)
        XCTAssertEqual(sound.seconds, 2, accuracy: 0.05, "the tone lasts as long in the file as in the guest")
        XCTAssertEqual(sound.frequency, 1000, accuracy: 0.5)
        XCTAssertEqual(sound.gaps, 0, "no dropouts inside the tone")
        guard found.count == 2 else { return }
        let second = AudioAnalysis.analyse(samples, rate: rate, margin: 0.1, sound: found[1])
        XCTAssertEqual(second.seconds, 1, accuracy: 0.05)
        XCTAssertEqual(second.frequency, 500, accuracy: 0.5)
        XCTAssertEqual(second.gaps, 0)
        let eightBit = try soxStatistics(wav, start: Double(found[1].lowerBound) / Double(rate) + 0.1, length: 0.8, fromSound: false)
        XCTAssertEqual(eightBit["Maximum amplitude"] ?? 0, 0.5, accuracy: 0.01, "\(eightBit)")
    }

    func testSineThroughPulseAudioKeepsItsFrequencyAndLevel() throws {
        let pulse = try PulseAudioServer()
        defer { pulse.stop() }
        let recording = directory.appendingPathComponent("monitor.wav").path
        let recorder = try ChildProcess("/usr/bin/parec", [
            "--raw", "--format=s16le", "--channels=2", "--rate=48000", "-d", "\(pulse.sinkName).monitor",
            "--file-format=wav", recording,
        ], environment: ["PULSE_SERVER": pulse.server])
        let pcemu = try boot(["-device", "sb16,audiodev=a0", "-audiodev", "pa,id=a0"], environment: ["PULSE_SERVER": pulse.server])
        defer { pcemu.stop() }
        XCTAssertNotNil(runInShell(SoundGuestTests.loadDriver, in: pcemu))
        XCTAssertEqual(runInShell("sound-test tone 1000 2 44100 50", in: pcemu), "tone 1000 Hz 88200 frames at 44100 Hz")
        powerOff(pcemu)
        usleep(300_000)
        recorder.stop(signal: SIGINT)
        _ = recorder.wait(timeout: 10)

        let statistics = try soxStatistics(recording, start: 0.2, length: 1.5)
        XCTAssertEqual(statistics["Rough frequency"] ?? 0, 1000, accuracy: 10, "\(statistics)")
        XCTAssertEqual(statistics["Maximum amplitude"] ?? 0, 0.5, accuracy: 0.01, "\(statistics)")
        XCTAssertEqual(statistics["RMS amplitude"] ?? 0, 0.5 / 2.0.squareRoot(), accuracy: 0.01, "\(statistics)")
        let (samples, rate) = try AudioAnalysis.leftChannel(recording)
        XCTAssertEqual(rate, 48_000)
        let sound = AudioAnalysis.analyse(samples, rate: rate)
        XCTAssertEqual(sound.seconds, 2, accuracy: 0.1)
        XCTAssertEqual(sound.frequency, 1000, accuracy: 1)
        // The back end's own figures, written under -d device when the run ends.
        let report = pcemu.standardError.split(separator: "\n").first { $0.contains("audio: PulseAudio latency") }
        let figures = try XCTUnwrap(report, pcemu.standardError.suffix(1000).description)
        let mean = Double(figures.split(separator: " ")[4]) ?? 999
        XCTAssertLessThan(mean, 60, String(figures))
    }

    /// Through PulseAudio the mixer rests while nothing plays (the guest
    /// boots silent): the PC speaker's beep and then an FM note must each
    /// wake it, and be heard whole.
    func testBeepAndFMNoteWakeTheRestingMixerThroughPulseAudio() throws {
        let pulse = try PulseAudioServer()
        defer { pulse.stop() }
        let recording = directory.appendingPathComponent("woken.wav").path
        let recorder = try ChildProcess("/usr/bin/parec", [
            "--raw", "--format=s16le", "--channels=2", "--rate=48000", "-d", "\(pulse.sinkName).monitor",
            "--file-format=wav", recording,
        ], environment: ["PULSE_SERVER": pulse.server])
        // The server named on the command line, as QEMU takes it.
        let pcemu = try boot(["-device", "adlib,audiodev=a0", "-machine", "pc,pcspk-audiodev=a0",
                              "-audiodev", "pa,id=a0,server=\(pulse.server)"])
        defer { pcemu.stop() }
        XCTAssertEqual(runInShell("sound-test beep 440 1000", in: pcemu), "beep count 2712")
        XCTAssertEqual(runInShell("sound-test fm 580 4 1000", in: pcemu), "fm note 439991 mHz")
        powerOff(pcemu)
        usleep(300_000)
        recorder.stop(signal: SIGINT)
        _ = recorder.wait(timeout: 10)

        let (samples, rate) = try AudioAnalysis.leftChannel(recording)
        // The beep is a square wave at a quarter of full scale, the note a
        // sine at an eighth: only the beep passes 6000, and about two
        // thirds of the note's samples lie between 2000 and 6000.
        let beep = samples.filter { abs(Int($0)) > 6000 }.count
        let note = samples.filter { (2000...6000).contains(abs(Int($0))) }.count
        XCTAssertEqual(Double(beep) / Double(rate), 1, accuracy: 0.1, "seconds of beep")
        XCTAssertGreaterThan(Double(note) / Double(rate), 0.5, "seconds of the FM note's louder parts")
    }

    func testAdLibNoteHasItsPitchAndLevel() throws {
        let wav = directory.appendingPathComponent("adlib.wav").path
        let pcemu = try boot(["-device", "adlib,audiodev=a0", "-audiodev", "wav,id=a0,path=\(wav)"])
        defer { pcemu.stop() }
        // F-number 580 in block 4: 580 * 49716 / 2^16 = 439.99 Hz.
        XCTAssertEqual(runInShell("sound-test fm 580 4 1000", in: pcemu), "fm note 439991 mHz")
        powerOff(pcemu)
        let (samples, rate) = try AudioAnalysis.leftChannel(wav)
        // An eighth of full scale: below the sound detector's threshold, so measure the raw samples.
        let loud = samples.indices.filter { abs(Int(samples[$0])) > 2000 }
        guard let first = loud.first, let last = loud.last else { return XCTFail("no FM sound") }
        XCTAssertEqual(Double(last - first) / Double(rate), 1, accuracy: 0.05)
        let statistics = try soxStatistics(wav, start: Double(first) / Double(rate) + 0.1, length: 0.8, fromSound: false)
        XCTAssertEqual(statistics["Rough frequency"] ?? 0, 440, accuracy: 5, "\(statistics)")
        XCTAssertEqual(statistics["Maximum amplitude"] ?? 0, 0.125, accuracy: 0.005, "\(statistics)")
    }

    func testPCSpeakerBeepHasItsPitch() throws {
        let wav = directory.appendingPathComponent("speaker.wav").path
        let pcemu = try boot(["-machine", "pc,pcspk-audiodev=a0", "-audiodev", "wav,id=a0,path=\(wav)"])
        defer { pcemu.stop() }
        // 1193182 / 2712 = 439.97 Hz for one second.
        XCTAssertEqual(runInShell("sound-test beep 440 1000", in: pcemu), "beep count 2712")
        powerOff(pcemu)
        let (samples, rate) = try AudioAnalysis.leftChannel(wav)
        let sound = AudioAnalysis.analyse(samples, rate: rate, margin: 0.05)
        XCTAssertEqual(sound.seconds, 1, accuracy: 0.05)
        XCTAssertEqual(sound.frequency, 1_193_182.0 / 2712, accuracy: 0.5)
        XCTAssertEqual(sound.gaps, 0)
        let statistics = try soxStatistics(wav, start: 0.1, length: 0.8)
        XCTAssertEqual(statistics["Maximum amplitude"] ?? 0, 0.25, accuracy: 0.01, "a quarter of full scale")
    }

    // MARK: PCI sound cards

    /// What one play of the tone gave.
    struct ToneRecording {
        var sounds = 0
        var seconds = 0.0, frequency = 0.0
        var gaps = 0
        var peak = 0.0
        var latencyMean = 999.0
        var figures = ""
        var clean: Bool { sounds == 1 && gaps == 0 }
    }

    /// Plays a 3 s 1 kHz tone from the guest through `card` into a private
    /// PulseAudio server's null sink, records its monitor, and measures it.
    func playToneThroughPulseAudio(card: [String], load: String, expectCard: String) throws -> ToneRecording {
        let pulse = try PulseAudioServer()
        defer { pulse.stop() }
        let recording = directory.appendingPathComponent("monitor.wav").path
        let recorder = try ChildProcess("/usr/bin/parec", [
            "--raw", "--format=s16le", "--channels=2", "--rate=48000", "-d", "\(pulse.sinkName).monitor",
            "--file-format=wav", recording,
        ], environment: ["PULSE_SERVER": pulse.server])
        let pcemu = try boot(card + ["-audiodev", "pa,id=a0"], environment: ["PULSE_SERVER": pulse.server])
        defer { pcemu.stop() }
        let cards = runInShell(load + " && cat /proc/asound/cards", in: pcemu) ?? ""
        XCTAssertTrue(cards.contains(expectCard), cards)
        // OSS volume writes set ALSA's master and PCM controls and unmute them.
        XCTAssertEqual(runInShell("sound-test tone 1000 3 44100 50", in: pcemu), "tone 1000 Hz 132300 frames at 44100 Hz")
        powerOff(pcemu)
        usleep(300_000)
        recorder.stop(signal: SIGINT)
        _ = recorder.wait(timeout: 10)

        var result = ToneRecording()
        let (samples, rate) = try AudioAnalysis.leftChannel(recording)
        XCTAssertEqual(rate, 48_000)
        result.sounds = AudioAnalysis.sounds(samples, rate: rate).count
        let sound = AudioAnalysis.analyse(samples, rate: rate)
        (result.seconds, result.frequency, result.gaps) = (sound.seconds, sound.frequency, sound.gaps)
        result.peak = try soxStatistics(recording, start: 0.2, length: 2.5)["Maximum amplitude"] ?? 0
        let report = pcemu.standardError.split(separator: "\n").first { $0.contains("audio: PulseAudio latency") }
        result.figures = String(try XCTUnwrap(report, pcemu.standardError.suffix(1000).description))
        result.latencyMean = Double(result.figures.split(separator: " ")[4]) ?? 999
        print("measured: \(sound.seconds) s at \(sound.frequency) Hz, \(sound.gaps) gaps; \(result.figures)")
        return result
    }

    /// The tone must come out whole: one sound, 3 s ± 0.1 at 1000 ± 2 Hz,
    /// no gap, at half scale, with the back end's mean latency under 60 ms.
    /// The back end plays in real time, so a host too busy to run the
    /// emulator for 50 ms (other jobs on a shared machine) breaks the sound
    /// whatever the card does: a play with a gap is tried again, up to three
    /// times, and the last one is judged.
    func recordToneThroughPulseAudio(card: [String], load: String, expectCard: String) throws {
        var result = ToneRecording()
        for attempt in 1...3 {
            result = try playToneThroughPulseAudio(card: card, load: load, expectCard: expectCard)
            if result.clean { break }
            print("attempt \(attempt) broken (\(result.sounds) sounds, \(result.gaps) gaps); host load \((try? String(contentsOfFile: "/proc/loadavg")) ?? "?")")
        }
        XCTAssertEqual(result.sounds, 1, "one tone")
        XCTAssertEqual(result.seconds, 3, accuracy: 0.1)
        XCTAssertEqual(result.frequency, 1000, accuracy: 2)
        XCTAssertEqual(result.gaps, 0, "no dropouts inside the tone")
        XCTAssertEqual(result.peak, 0.5, accuracy: 0.01)
        XCTAssertLessThan(result.latencyMean, 60, result.figures)
    }

    func testAC97ToneThroughPulseAudio() throws {
        try recordToneThroughPulseAudio(card: ["-device", "AC97,audiodev=a0"],
                                        // At load snd-intel8x0 times 50 ms of DMA against its own clock to
                                        // learn the AC-link's; a host stall inside that window skews the
                                        // rate it programs (as under QEMU), so the test gives it the clock.
                                        load: "modprobe snd-intel8x0 ac97_clock=48000 && modprobe snd-pcm-oss",
                                        expectCard: "Intel 82801AA-ICH")
    }
}

extension SoundGuestTests {
    /// snd-hda-intel probes its codecs asynchronously; /dev/dsp appears once the card is registered.
    static let loadHDA = "modprobe snd-hda-codec-generic && modprobe snd-hda-intel && modprobe snd-pcm-oss"
        + " && for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /dev/dsp ] && break; sleep 0.5; done"

    func testIntelHDAToneThroughPulseAudio() throws {
        try recordToneThroughPulseAudio(card: ["-device", "intel-hda", "-device", "hda-duplex,audiodev=a0"],
                                        load: SoundGuestTests.loadHDA, expectCard: "HDA Intel at 0x")
    }

    /// hda-duplex's line in records PulseAudio's default source: here a
    /// 440 Hz sine source loaded into the private server.
    func testIntelHDARecordsPulseAudiosDefaultSource() throws {
        let pulse = try PulseAudioServer()
        defer { pulse.stop() }
        for arguments in [["load-module", "module-sine-source", "source_name=pcemu_sine", "frequency=440", "rate=48000"],
                          ["set-default-source", "pcemu_sine"]] {
            let result = try ChildProcess.run("/usr/bin/pactl", ["-s", pulse.server] + arguments)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        let pcemu = try boot(["-device", "intel-hda", "-device", "hda-duplex,audiodev=a0", "-audiodev", "pa,id=a0"],
                             environment: ["PULSE_SERVER": pulse.server])
        defer { pcemu.stop() }
        XCTAssertNotNil(runInShell(SoundGuestTests.loadHDA, in: pcemu))
        let line = runInShell("sound-test record 2 48000", in: pcemu) ?? ""
        print("guest: \(line)")
        let words = line.split(separator: " ")
        XCTAssertEqual(words.prefix(5).joined(separator: " "), "recorded 96000 frames at 48000", line)
        XCTAssertEqual(Double(words.count > 6 ? words[6] : "") ?? 0, 440, accuracy: 2, line)
        XCTAssertGreaterThan(Int(words.last ?? "") ?? 0, 1000, "the sine's level came through: \(line)")
        powerOff(pcemu)
        XCTAssertTrue(pcemu.standardError.contains("recording from PulseAudio's default source"))
    }
}
