import Foundation
import Host
import Machine
import PCEmuSupport

/// The SDL window as the machine's display, on the main thread. It sleeps in
/// SDL's event wait until the user does something or the CPU thread, which
/// refreshes the screen itself (`PCMachine.startDisplayRefresh`), has a new
/// frame; then it shows the frame (the window takes the guest's mode size;
/// resized by the user or in full screen, the frame is scaled with its
/// aspect ratio kept), and turns keys and mouse into messages for the CPU
/// thread. A still screen costs it nothing. As in QEMU, a click grabs the
/// pointer; Ctrl+Alt with G releases it (or grabs it), F toggles full
/// screen, S writes a screenshot (pcemu-screenshot-N.png in the current
/// directory). With a USB tablet the pointer needs no grab: while it is not
/// grabbed, its place over the guest's screen (scaled with the window, the
/// letterbox bars clamped to the nearest edge) goes to the tablet, and the
/// host's cursor stays visible. Closing the window ends pcemu with status 0.
/// The USB tablet's coordinates run over 0..<32768 across the screen.
enum USBTabletScale {
    static let range = 32768
}

final class SDLDisplay: DisplayFrontEnd {
    /// The longest event wait: a safety net, since a frame or the CPU's end wakes it.
    static let longestWaitMilliseconds: Int32 = 1000
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
    /// A USB tablet takes the pointer's position: no grab needed.
    private var absolutePointer = false
    /// The pointer's last place over the frame, in frame pixels.
    private var pointerX = 0, pointerY = 0
    /// A wake-up event is in SDL's queue and the main thread has not looked yet.
    private let wakeLock = NSLock()
    private var wakePending = false

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
        absolutePointer = machine.hasAbsolutePointer
        machine.startDisplayRefresh { [unowned self] in wake() }
        var seen = -1
        while !cpuFinished() {
            takeWake()
            for event in window.pollEvents() {
                if !handle(event, machine: machine) { return }
                if event == .exposed { window.redraw() }
            }
            seen = machine.display.withChangedFrame(newerThan: seen) { pixels, width, height, lines in
                if (Int32(width) != window.frameWidth || Int32(height) != window.frameHeight) && !window.isFullScreen {
                    window.resize(width: Int32(width), height: Int32(height))
                }
                do {
                    try window.present(pixels: pixels, width: Int32(width), height: Int32(height), pitch: Int32(width * 4),
                                       lines: Int32(lines.lowerBound)..<Int32(lines.upperBound))
                } catch {
                    Log.write(.device, "sdl: \(error)")
                }
            }
            window.waitForEvent(milliseconds: SDLDisplay.longestWaitMilliseconds)
        }
    }

    /// Thread-safe (the CPU thread calls it for each new frame): one wake-up
    /// event at a time in SDL's queue.
    func wake() {
        wakeLock.lock()
        let post = !wakePending
        wakePending = true
        wakeLock.unlock()
        if post { SDLWindow.wakeEventWait() }
    }

    private func takeWake() {
        wakeLock.lock()
        wakePending = false
        wakeLock.unlock()
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
        case let .mouseMotion(dx, dy, x, y):
            if grabbed {
                machine.mouseMoved(dx: dx, dy: dy, buttons: buttons)
            } else if absolutePointer {
                pointerMoved(x: x, y: y, machine: machine)
            }
        case let .mouseButton(button, pressed, x, y):
            guard grabbed || absolutePointer else {
                if pressed { setGrab(true) }
                return true
            }
            let bit: PCMachine.MouseButtons = button == 1 ? .left : button == 2 ? .middle : button == 3 ? .right : []
            if pressed { buttons.insert(bit) } else { buttons.remove(bit) }
            if grabbed { machine.mouseMoved(dx: 0, dy: 0, buttons: buttons) } else { pointerMoved(x: x, y: y, machine: machine) }
        case let .wheel(amount):
            if grabbed {
                machine.mouseMoved(dx: 0, dy: 0, wheel: amount, buttons: buttons)
            } else if absolutePointer {
                pointerMoved(x: pointerX, y: pointerY, wheel: amount, machine: machine)
            }
        case .focusLost:
            // Keys still down when focus went elsewhere would never see their
            // release here: let them go now, or the guest keeps them held.
            for usage in keysDown.sorted() { machine.keyChanged(hidUsage: usage, pressed: false) }
            keysDown = []
            if !buttons.isEmpty {
                buttons = []
                machine.mouseMoved(dx: 0, dy: 0, buttons: buttons)
                if absolutePointer { pointerMoved(x: pointerX, y: pointerY, machine: machine) }
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
            setGrab(!grabbed)
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

    /// The pointer at (x, y) in frame pixels, to the tablet: the pixel's
    /// centre on the tablet's 0...32767 scale, which guests map back to
    /// their screen as x * width / 32768, so they land on that pixel.
    private func pointerMoved(x: Int, y: Int, wheel: Int = 0, machine: PCMachine) {
        let width = Int(window.frameWidth), height = Int(window.frameHeight)
        guard width > 0, height > 0 else { return }
        pointerX = min(max(x, 0), width - 1)
        pointerY = min(max(y, 0), height - 1)
        let scale = USBTabletScale.range
        machine.pointerMovedAbsolute(x: min((2 * pointerX + 1) * scale / (2 * width), scale - 1),
                                     y: min((2 * pointerY + 1) * scale / (2 * height), scale - 1),
                                     wheel: wheel, buttons: buttons)
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
