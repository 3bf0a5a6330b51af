import Devices
import Foundation

/// The machine's side of the display: refreshes rendered on the CPU thread and
/// published to `display`, and input from the window delivered on the CPU
/// thread to the 8042 or, as in QEMU, to the USB keyboard and mouse that take
/// its place. Every method here is safe to call from any thread.
extension PCMachine {
    /// Buttons as `mouseMoved` takes them.
    public struct MouseButtons: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let left = MouseButtons(rawValue: 0x01)
        public static let right = MouseButtons(rawValue: 0x02)
        public static let middle = MouseButtons(rawValue: 0x04)
    }

    /// Starts the CPU thread's refresh of the screen (see `DisplayRefresh`):
    /// each new frame is published to `display`, then `frameReady` is called
    /// (on the CPU thread) so the display shows it.
    public func startDisplayRefresh(frameReady: @escaping () -> Void) {
        guard let graphics else { return }  // -vga none: nothing to show
        loop.post { [unowned self, unowned graphics] in
            let refresh = DisplayRefresh(clock: clock, update: { [unowned graphics] in graphics.renderer.update() }, publish: { [unowned self, unowned graphics] in
                display.publish(graphics.renderer.frame)
                frameReady()
            })
            displayRefresh = refresh
            loop.add(refresh.timer)
            refresh.start()
        }
    }

    /// CPU thread only (or after the CPU thread has ended): renders and publishes.
    public func refreshDisplay() {
        guard let graphics else { return }
        if graphics.renderer.update() { display.publish(graphics.renderer.frame) }
    }

    /// A physical key, by its USB HID usage (SDL's scancode), went down or up.
    public func keyChanged(hidUsage: Int, pressed: Bool) {
        guard PS2Key(hidUsage: hidUsage) != nil || usb.hostKeyboard != nil else { return }
        loop.post { [unowned self] in
            deliverKey(hidUsage: hidUsage, pressed: pressed)
            displayRefresh?.inputArrived()
        }
    }

    /// CPU thread: the key to the USB keyboard if there is one, else to the
    /// PS/2 keyboard (never both: the guest would see each key twice).
    func deliverKey(hidUsage: Int, pressed: Bool) {
        if let keyboard = usb.hostKeyboard {
            keyboard.keyChanged(usage: hidUsage, pressed: pressed)
        } else if let key = PS2Key(hidUsage: hidUsage) {
            let keyboard = chipset.keyboardController.keyboard
            if pressed { keyboard.press(key) } else { keyboard.release(key) }
        }
    }

    /// True when a USB tablet takes the pointer's absolute position (the
    /// window then needs no grab).
    public var hasAbsolutePointer: Bool { !usb.tablets.isEmpty }

    /// The host pointer over the guest's screen: x and y from 0 (left, top)
    /// to 32767 (right, bottom edge), with wheel clicks and the buttons held;
    /// every USB tablet gets it.
    public func pointerMovedAbsolute(x: Int, y: Int, wheel: Int = 0, buttons: MouseButtons) {
        loop.post { [unowned self] in
            for tablet in usb.tablets {
                tablet.pointerChanged(x: x, y: y, buttons: USBPointerButtons(rawValue: buttons.rawValue), wheel: wheel)
            }
            displayRefresh?.inputArrived()
        }
    }

    /// Relative motion (dy positive down the screen), wheel, and the buttons held.
    public func mouseMoved(dx: Int, dy: Int, wheel: Int = 0, buttons: MouseButtons) {
        loop.post { [unowned self] in
            deliverMotion(dx: dx, dy: dy, wheel: wheel, buttons: buttons)
            displayRefresh?.inputArrived()
        }
    }

    /// CPU thread: the motion to the USB mouse once the guest polls it, else
    /// to the PS/2 mouse.
    func deliverMotion(dx: Int, dy: Int, wheel: Int, buttons: MouseButtons) {
        if let mouse = usb.relativePointer {
            mouse.moved(dx: dx, dy: dy, wheel: wheel, buttons: USBPointerButtons(rawValue: buttons.rawValue))
        } else {
            chipset.keyboardController.mouse.move(dx: dx, dy: dy, wheel: wheel, buttons: PS2Mouse.Buttons(rawValue: buttons.rawValue))
        }
    }

    /// The newest screen as PNG or PPM (by `png`, else by the file name),
    /// rendered now: call it from the CPU thread or after it ended.
    public func writeScreenDump(to path: String, png: Bool? = nil) throws {
        refreshDisplay()
        var result: Result<Void, Error> = .success(())
        display.withFrame(newerThan: -1) { pixels, width, height in
            result = Result { try ScreenshotWriter.write(pixels, width: width, height: height, to: path, png: png) }
        }
        try result.get()
    }
}
