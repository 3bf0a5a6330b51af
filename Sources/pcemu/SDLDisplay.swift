import Foundation
import Host
import Machine
import PCEmuSupport

/// The SDL window as the machine's display, on the main thread: asks the CPU
/// thread for a refresh about 60 times a second, shows each new frame (the
/// window follows the guest's mode size), and turns keys and mouse into
/// messages for the CPU thread. As in QEMU, a click grabs the pointer and
/// Ctrl-Alt-G lets it go; closing the window ends pcemu with status 0.
final class SDLDisplay: DisplayFrontEnd {
    static let title = "PCEmu"
    static let grabbedTitle = "PCEmu - Press Ctrl+Alt+G to release grab"
    static let refreshMilliseconds: Int32 = 16

    /// USB HID usages of the keys the display itself watches.
    enum Usage {
        static let g = 0x0A
        static let controls: Set<Int> = [0xE0, 0xE4]
        static let alts: Set<Int> = [0xE2, 0xE6]
    }

    private let window: SDLWindow
    private var grabbed = false
    private var controlsHeld: Set<Int> = []
    private var altsHeld: Set<Int> = []
    private var buttons: PCMachine.MouseButtons = []

    init() throws {
        window = try SDLWindow(title: SDLDisplay.title, width: 720, height: 400)
    }

    func run(machine: PCMachine, cpuFinished: () -> Bool) {
        var seen = -1
        while !cpuFinished() {
            for event in window.pollEvents() {
                if !handle(event, machine: machine) { return }
                if event == .exposed { seen = -1 }
            }
            machine.requestDisplayRefresh()
            seen = machine.display.withFrame(newerThan: seen) { pixels, width, height in
                if Int32(width) != window.frameWidth || Int32(height) != window.frameHeight {
                    window.resize(width: Int32(width), height: Int32(height))
                }
                do {
                    try window.present(pixels: pixels, width: Int32(width), height: Int32(height), pitch: Int32(width * 4))
                } catch {
                    Log.write(.device, "sdl: \(error)")
                }
            }
            window.waitForEvent(milliseconds: SDLDisplay.refreshMilliseconds)
        }
    }

    /// False when the user closed the window.
    private func handle(_ event: WindowEvent, machine: PCMachine) -> Bool {
        switch event {
        case .close:
            return false
        case let .key(usage, pressed):
            if Usage.controls.contains(usage) { if pressed { controlsHeld.insert(usage) } else { controlsHeld.remove(usage) } }
            if Usage.alts.contains(usage) { if pressed { altsHeld.insert(usage) } else { altsHeld.remove(usage) } }
            if usage == Usage.g && !controlsHeld.isEmpty && !altsHeld.isEmpty {
                if pressed && grabbed { setGrab(false) }
                return true
            }
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
            // Keys held when focus went elsewhere would stay down in the guest.
            for usage in controlsHeld.union(altsHeld) { machine.keyChanged(hidUsage: usage, pressed: false) }
            controlsHeld = []
            altsHeld = []
        case .exposed:
            break
        }
        return true
    }

    private func setGrab(_ on: Bool) {
        grabbed = on
        window.setPointerGrab(on)
        window.title = on ? SDLDisplay.grabbedTitle : SDLDisplay.title
    }

    func writeScreenshot(to path: String) throws {
        let (width, height, pixels) = window.readPixels()
        try pixels.withUnsafeBufferPointer { buffer in
            try PPMWriter.write(buffer.baseAddress!, width: Int(width), height: Int(height), to: path)
        }
    }
}
