import Foundation
import Host
import Machine
import PCEmuSupport

/// The SDL window as the machine's display, on the main thread: asks the CPU
/// thread for a refresh about 60 times a second while the screen is
/// changing, 20 times once it has been still for a moment (a blinking cursor
/// alone), and shows each new frame (the
/// window takes the guest's mode size; resized by the user or in full screen,
/// the frame is scaled with its aspect ratio kept), and turns keys and mouse
/// into messages for the CPU thread. As in QEMU, a click grabs the pointer;
/// Ctrl+Alt with G releases it, F toggles full screen, S writes a screenshot
/// (pcemu-screenshot-N.png in the current directory). Closing the window ends
/// pcemu with status 0.
final class SDLDisplay: DisplayFrontEnd {
    static let refreshMilliseconds: Int32 = 16
    /// The slower refresh of a still screen: both threads wake a third as often.
    static let stillRefreshMilliseconds: Int32 = 50
    /// Refreshes without a new frame after which the screen counts as still.
    static let refreshesBeforeStill = 6
    static let screenshotPrefix = "pcemu-screenshot-"

    /// USB HID usages of the keys the display itself watches.
    enum Usage {
        static let f = 0x09
        static let g = 0x0A
        static let s = 0x16
        static let controls: Set<Int> = [0xE0, 0xE4]
        static let alts: Set<Int> = [0xE2, 0xE6]
    }

    private let window: SDLWindow
    private let name: String?
    private var output: DisplayOutput?
    private var grabbed = false
    /// Keys the guest was told are down and has not been told are up.
    private var keysDown: Set<Int> = []
    private var buttons: PCMachine.MouseButtons = []

    /// "PCEmu", or "PCEmu (name)" with -name, as QEMU names its window.
    static func title(name: String?, grabbed: Bool) -> String {
        var title = "PCEmu"
        if let name, !name.isEmpty { title += " (\(name))" }
        if grabbed { title += " - Press Ctrl+Alt+G to release grab" }
        return title
    }

    init(name: String?) throws {
        self.name = name
        window = try SDLWindow(title: SDLDisplay.title(name: name, grabbed: false), width: 720, height: 400)
    }

    func run(machine: PCMachine, cpuFinished: () -> Bool) {
        output = machine.display
        var seen = -1
        var refreshesWithoutFrame = 0
        while !cpuFinished() {
            for event in window.pollEvents() {
                if !handle(event, machine: machine) { return }
                if event == .exposed { window.redraw() }
            }
            machine.requestDisplayRefresh()
            let previous = seen
            seen = machine.display.withFrame(newerThan: seen) { pixels, width, height in
                if (Int32(width) != window.frameWidth || Int32(height) != window.frameHeight) && !window.isFullScreen {
                    window.resize(width: Int32(width), height: Int32(height))
                }
                do {
                    try window.present(pixels: pixels, width: Int32(width), height: Int32(height), pitch: Int32(width * 4))
                } catch {
                    Log.write(.device, "sdl: \(error)")
                }
            }
            refreshesWithoutFrame = seen == previous ? refreshesWithoutFrame + 1 : 0
            let still = refreshesWithoutFrame >= SDLDisplay.refreshesBeforeStill
            window.waitForEvent(milliseconds: still ? SDLDisplay.stillRefreshMilliseconds : SDLDisplay.refreshMilliseconds)
        }
    }

    /// False when the user closed the window.
    private func handle(_ event: WindowEvent, machine: PCMachine) -> Bool {
        switch event {
        case .close:
            return false
        case let .key(usage, pressed):
            let held = keysDown
            if pressed && !held.isDisjoint(with: Usage.controls) && !held.isDisjoint(with: Usage.alts)
                && hotKey(usage, machine: machine) {
                return true
            }
            // A release the guest never saw pressed (the hot key's own) stays here.
            if pressed { keysDown.insert(usage) } else if keysDown.remove(usage) == nil { return true }
            machine.keyChanged(hidUsage: usage, pressed: pressed)
        case let .mouseMotion(dx, dy):
            if grabbed { machine.mouseMoved(dx: dx, dy: dy, buttons: buttons) }
        case let .mouseButton(button, pressed):
            guard grabbed else {
                if pressed { setGrab(true) }
                return true
            }
            let bit: PCMachine.MouseButtons = button == 1 ? .left : button == 2 ? .middle : button == 3 ? .right : []
            if pressed { buttons.insert(bit) } else { buttons.remove(bit) }
            machine.mouseMoved(dx: 0, dy: 0, buttons: buttons)
        case let .wheel(amount):
            if grabbed { machine.mouseMoved(dx: 0, dy: 0, wheel: amount, buttons: buttons) }
        case .focusLost:
            // Keys still down when focus went elsewhere would never see their
            // release here: let them go now, or the guest keeps them held.
            for usage in keysDown.sorted() { machine.keyChanged(hidUsage: usage, pressed: false) }
            keysDown = []
            if !buttons.isEmpty {
                buttons = []
                machine.mouseMoved(dx: 0, dy: 0, buttons: buttons)
            }
        case .exposed:
            break
        }
        return true
    }

    /// Ctrl+Alt+key: true if the display took the key for itself.
    private func hotKey(_ usage: Int, machine: PCMachine) -> Bool {
        switch usage {
        case Usage.g:
            if grabbed { setGrab(false) }
        case Usage.f:
            window.isFullScreen.toggle()
            window.redraw()
        case Usage.s:
            saveScreenshot()
        default:
            return false
        }
        return true
    }

    private func setGrab(_ on: Bool) {
        grabbed = on
        window.setPointerGrab(on)
        window.title = SDLDisplay.title(name: name, grabbed: on)
    }

    /// Ctrl+Alt+S: the guest's screen to the first free pcemu-screenshot-N.png
    /// in the current directory; the path goes to standard error.
    private func saveScreenshot() {
        let directory = FileManager.default.currentDirectoryPath
        var number = 1
        while FileManager.default.fileExists(atPath: "\(directory)/\(SDLDisplay.screenshotPrefix)\(number).png") { number += 1 }
        let path = "\(directory)/\(SDLDisplay.screenshotPrefix)\(number).png"
        do {
            try writeScreenshot(to: path)
            FileHandle.standardError.write(Data("pcemu: screenshot saved to \(path)\n".utf8))
        } catch {
            FileHandle.standardError.write(Data("pcemu: \((error as? EmulatorError)?.description ?? "\(error)")\n".utf8))
        }
    }

    /// The guest's screen at its own size (not the window's scaled picture).
    func writeScreenshot(to path: String) throws {
        guard let output else { throw EmulatorError.configuration("cannot write the screenshot \(path): no screen yet") }
        var result: Result<Void, Error> = .failure(EmulatorError.configuration("cannot write the screenshot \(path): no screen yet"))
        output.withFrame(newerThan: -1) { pixels, width, height in
            result = Result { try ScreenshotWriter.write(pixels, width: width, height: height, to: path) }
        }
        try result.get()
    }
}
