import Timing

/// The screen's refresh, on the CPU thread: about 60 times a second while
/// the picture changes, 20 once it has been still for a few refreshes, the
/// renderer draws what changed (dirty pages, registers, the cursor's blink)
/// and, if anything did, the frame goes to `DisplayOutput` and the display
/// is told. It runs on a `SlackTimer`, so a guest whose timer ticks wake the
/// loop anyway costs no wake-up for it; input from the user brings back the
/// quick refresh at once.
final class DisplayRefresh {
    static let period: Int64 = 16_666_667
    static let stillPeriod: Int64 = 50_000_000
    /// How late a refresh may run, to share a wake-up with the guest's timer.
    static let slack: Int64 = 10_000_000
    /// Refreshes without a change after which the screen counts as still.
    static let refreshesBeforeStill = 6

    private let update: () -> Bool
    private let publish: () -> Void
    private let clock: VirtualClock
    private var unchanged = 0
    private(set) var timer: SlackTimer!

    /// `update` renders and says whether anything changed; `publish` hands the frame over.
    init(clock: VirtualClock, update: @escaping () -> Bool, publish: @escaping () -> Void) {
        self.clock = clock
        self.update = update
        self.publish = publish
        timer = SlackTimer(name: "display-refresh", slack: DisplayRefresh.slack) { [unowned self] now in refresh(now: now) }
    }

    func start() { timer.schedule(at: clock.now) }

    private func refresh(now: Int64) {
        if update() {
            unchanged = 0
            publish()
        } else {
            unchanged += 1
        }
        let still = unchanged >= DisplayRefresh.refreshesBeforeStill
        timer.schedule(at: now + (still ? DisplayRefresh.stillPeriod : DisplayRefresh.period))
    }

    /// A key or the mouse moved: the guest is likely to draw, refresh quickly.
    func inputArrived() {
        unchanged = 0
        let soon = clock.now + DisplayRefresh.period
        if timer.deadline > soon { timer.schedule(at: soon) }
    }
}
