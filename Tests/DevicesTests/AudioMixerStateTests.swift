import Lifecycle
import Timing
import XCTest
@testable import Devices

/// The mixer holds nothing the guest set; a load moves its pacing to the
/// loaded clock, so sound goes on at once after a load that took the clock
/// back, instead of waiting for the old timeline's next period.
final class AudioMixerStateTests: XCTestCase {
    func testALoadArmsTheNextPeriodFromTheLoadedClock() throws {
        let clock = VirtualClock(mode: .deterministic(nanosecondsPerInstruction: 1)), scheduler = EventScheduler()
        var frames = 0
        let mixer = AudioMixer(sampleRate: 48_000, clock: clock, scheduler: scheduler) { frames += $0.count / 2 }
        let savedClock = clock.savedState()
        let saved = try throughBytes(mixer.savedState())
        clock.skip(to: 3_000_000_000)
        mixer.start()
        XCTAssertEqual(scheduler.nextDeadline, 3_000_000_000 + AudioMixer.period)

        try clock.loadState(savedClock)
        try mixer.loadState(saved)
        XCTAssertEqual(scheduler.nextDeadline, AudioMixer.period, "one period from the loaded now")
        clock.skip(to: AudioMixer.period)
        scheduler.runExpired(now: clock.now)
        XCTAssertEqual(frames, 240, "5 ms of frames made at the loaded time")

        // A stopped mixer stays stopped.
        mixer.stop()
        try mixer.loadState(saved)
        XCTAssertNil(scheduler.nextDeadline)
        XCTAssertThrowsError(try mixer.loadState(StateRecord(name: "audio-mixer", version: 2)))
    }
}
