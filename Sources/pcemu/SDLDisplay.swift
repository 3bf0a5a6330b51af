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
/// directory), 2 shows the monitor's console instead of the guest's screen
/// (a `WindowMonitor`: the keys go to it, the guest runs on) and 1 the
/// guest's screen again. With a USB tablet the pointer needs no grab: while it is not
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
        static let one = 0x1E
        static let two = 0x1F
        static let controls: Set<Int> = [0xE0, 0xE4]
        static let alts: Set<Int> = [0xE2, 0xE6]
        static let letters = 0x04...0x1D
        static let returnKey = 0x28
        static let keypadEnter = 0x58
        static let backspace = 0x2A
        static let up = 0x52
        static let down = 0x51
    }

    /// What the monitor console gets for keys that type no text.
    static let monitorKeys: [Int: [UInt8]] = [
        Usage.returnKey: [0x0D], Usage.keypadEnter: [0x0D], Usage.backspace: [0x7F],
        Usage.up: Array("\u{1B}[A".utf8), Usage.down: Array("\u{1B}[B".utf8),
    ]

    private let window: SDLWindow
    private let name: String?
    private var output: DisplayOutput?
    private var grabbed = false
    /// Keys the guest was told are down and has not been told are up.
    private var keysDown: Set<Int> = []
    /// Keys down on the host's keyboard, wherever they went (for Ctrl+Alt).
    private var pressedKeys: Set<Int> = []
    /// The monitor's console, from the first Ctrl+Alt+2 on.
    private var monitor: WindowMonitor?
    private var showingMonitor = false
    /// The console's size, fixed when it is shown.
    private var monitorWidth = WindowMonitor.minimumWidth, monitorHeight = WindowMonitor.minimumHeight
    /// The guest frame last shown, and whether the texture holds something else now.
    private var shownFrame = -1
    private var guestPictureStale = false
    private var buttons: PCMachine.MouseButtons = []
    /// A USB tablet takes the pointer's position: no grab needed.
    private var absolutePointer = false
    /// The pointer's last place over the frame, in frame pixels.
    private var pointerX = 0, pointerY = 0
    /// A wake-up event is in SDL's queue and the main thread has not looked yet.
    private let wakeLock = NSLock()
    private var wakePending = false

    /// "PCEmu", or "PCEmu (name)" with -name, as QEMU names its window.
    static func title(name: String?, grabbed: Bool, monitor: Bool = false) -> String {
        var title = "PCEmu"
        if let name, !name.isEmpty { title += " (\(name))" }
        if monitor { title += " - monitor (Ctrl+Alt+1 for the guest)" }
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
        while !cpuFinished() {
            takeWake()
            for event in window.pollEvents() {
                if !handle(event, machine: machine) { return }
                if event == .exposed { window.redraw() }
            }
            if showingMonitor {
                presentMonitor(force: false)
            } else {
                presentGuestFrame(machine: machine)
            }
            window.waitForEvent(milliseconds: SDLDisplay.longestWaitMilliseconds)
        }
    }

    private func presentGuestFrame(machine: PCMachine) {
        shownFrame = machine.display.withChangedFrame(newerThan: shownFrame) { pixels, width, height, lines in
            if (Int32(width) != window.frameWidth || Int32(height) != window.frameHeight) && !window.isFullScreen {
                window.resize(width: Int32(width), height: Int32(height))
            }
            do {
                try window.present(pixels: pixels, width: Int32(width), height: Int32(height), pitch: Int32(width * 4),
                                   lines: guestPictureStale ? nil : Int32(lines.lowerBound)..<Int32(lines.upperBound))
                guestPictureStale = false
            } catch {
                Log.write(.device, "sdl: \(error)")
            }
        }
    }

    private func presentMonitor(force: Bool) {
        monitor?.draw(width: monitorWidth, height: monitorHeight, force: force) { pixels in
            do {
                try window.present(pixels: pixels, width: Int32(monitorWidth), height: Int32(monitorHeight), pitch: Int32(monitorWidth * 4))
            } catch {
                Log.write(.device, "sdl: \(error)")
            }
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
            let held = pressedKeys
            if pressed { pressedKeys.insert(usage) } else { pressedKeys.remove(usage) }
            if pressed && !held.isDisjoint(with: Usage.controls) && !held.isDisjoint(with: Usage.alts)
                && hotKey(usage, machine: machine) {
                return true
            }
            if showingMonitor {
                if pressed { monitorKey(usage, held: held) }
                return true
            }
            // A release the guest never saw pressed (the hot key's own) stays here.
            if pressed { keysDown.insert(usage) } else if keysDown.remove(usage) == nil { return true }
            machine.keyChanged(hidUsage: usage, pressed: pressed)
        case let .text(bytes):
            // Ctrl or Alt with a key is a command, not text.
            if showingMonitor && pressedKeys.isDisjoint(with: Usage.controls.union(Usage.alts)) { monitor?.type(bytes) }
        case let .mouseMotion(dx, dy, x, y):
            if showingMonitor { return true }  // the pointer is the guest's only
            if grabbed {
                machine.mouseMoved(dx: dx, dy: dy, buttons: buttons)
            } else if absolutePointer {
                pointerMoved(x: x, y: y, machine: machine)
            }
        case let .mouseButton(button, pressed, x, y):
            if showingMonitor { return true }
            guard grabbed || absolutePointer else {
                if pressed { setGrab(true) }
                return true
            }
            let bit: PCMachine.MouseButtons = button == 1 ? .left : button == 2 ? .middle : button == 3 ? .right : []
            if pressed { buttons.insert(bit) } else { buttons.remove(bit) }
            if grabbed { machine.mouseMoved(dx: 0, dy: 0, buttons: buttons) } else { pointerMoved(x: x, y: y, machine: machine) }
        case let .wheel(amount):
            if showingMonitor { return true }
            if grabbed {
                machine.mouseMoved(dx: 0, dy: 0, wheel: amount, buttons: buttons)
            } else if absolutePointer {
                pointerMoved(x: pointerX, y: pointerY, wheel: amount, machine: machine)
            }
        case .focusLost:
            // Keys still down when focus went elsewhere would never see their
            // release here: let them go now, or the guest keeps them held.
            pressedKeys = []
            releaseGuestInput(machine: machine)
        case .exposed:
            break
        }
        return true
    }

    /// The guest is told every key and button it holds is up.
    private func releaseGuestInput(machine: PCMachine) {
        for usage in keysDown.sorted() { machine.keyChanged(hidUsage: usage, pressed: false) }
        keysDown = []
        if !buttons.isEmpty {
            buttons = []
            machine.mouseMoved(dx: 0, dy: 0, buttons: buttons)
            if absolutePointer { pointerMoved(x: pointerX, y: pointerY, machine: machine) }
        }
    }

    /// A key for the monitor's console: Enter, Backspace, the arrows, and
    /// Ctrl with a letter; text comes in its own events.
    private func monitorKey(_ usage: Int, held: Set<Int>) {
        if let bytes = SDLDisplay.monitorKeys[usage] {
            monitor?.type(bytes)
        } else if Usage.letters.contains(usage), !held.isDisjoint(with: Usage.controls), held.isDisjoint(with: Usage.alts) {
            monitor?.type([UInt8(usage - Usage.letters.lowerBound + 1)])
        }
    }

    /// Ctrl+Alt+2: the monitor's console in the window, the keys to it. The
    /// guest is let go of first (it saw Ctrl and Alt go down).
    private func showMonitor(machine: PCMachine) {
        // As in QEMU, -monitor none leaves the window without one too.
        guard machine.configuration.monitor != .disabled else { return }
        if monitor == nil {
            do {
                monitor = try WindowMonitor(machine: machine) { [unowned self] in wake() }
            } catch {
                FileHandle.standardError.write(Data("pcemu: \((error as? EmulatorError)?.description ?? "\(error)")\n".utf8))
                return
            }
        }
        releaseGuestInput(machine: machine)
        if grabbed { setGrab(false) }
        if !showingMonitor {
            // The console takes the guest's picture's size, 80x25 characters at least.
            monitorWidth = max(Int(window.frameWidth), WindowMonitor.minimumWidth)
            monitorHeight = max(Int(window.frameHeight), WindowMonitor.minimumHeight)
        }
        showingMonitor = true
        window.startTextInput()
        window.title = SDLDisplay.title(name: name, grabbed: false, monitor: true)
        presentMonitor(force: true)
    }

    /// Ctrl+Alt+1: the guest's screen again, all of it redrawn, the keys to the guest.
    private func showGuest() {
        guard showingMonitor else { return }
        showingMonitor = false
        shownFrame = -1
        guestPictureStale = true
        window.title = SDLDisplay.title(name: name, grabbed: grabbed)
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
        case Usage.two:
            showMonitor(machine: machine)
        case Usage.one:
            showGuest()
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
        guard !(on && showingMonitor) else { return }
        grabbed = on
        window.setPointerGrab(on)
        window.title = SDLDisplay.title(name: name, grabbed: on, monitor: showingMonitor)
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
