import Foundation
import TestSupport
import XCTest

/// The default guest with USB devices in a window on a private Xvfb:
/// Linux's uhci-hcd enumerates them, usbhid and hid-generic make them input
/// devices, and what is done to the window arrives in their
/// /dev/input/eventN. With `-device usb-tablet` the host pointer moved over
/// the window (no click, no grab) is the absolute position of the guest
/// pixel under it, the letterbox of a resized window left out; with
/// `-device usb-mouse -device usb-kbd` keys typed, and motion and buttons
/// once the window has grabbed the pointer, reach the USB devices and not
/// the PS/2 pair.
final class USBGuestTests: XCTestCase {
    var xvfb: XvfbServer!

    override func setUpWithError() throws {
        xvfb = try XvfbServer(width: 1600, height: 1024)
    }

    override func tearDown() { xvfb.stop() }

    func x11(_ tool: String, _ arguments: [String]) throws -> String { try xvfb.run(tool, arguments) }

    /// The tablet's value for the centre of frame pixel `pixel` of `size`, as the window sends it.
    func tabletValue(_ pixel: Int, of size: Int) -> Int { min((2 * pixel + 1) * 32768 / (2 * size), 32767) }

    /// The (type | code << 16, value) pairs of the events the guest read,
    /// from `od -td4 -w16` lines: offset, seconds, microseconds, type and code, value.
    func events(_ text: String) -> [(Int, Int)] {
        text.split(separator: "\n").compactMap { line in
            let numbers = line.split(separator: " ").compactMap { Int($0) }
            return numbers.count == 5 ? (numbers[3], numbers[4]) : nil
        }
    }

    func testLinuxEnumeratesTheTabletAndTheWindowMovesItsPointerWithoutAGrab() throws {
        let pcemu = try USBGuest.start(["-usb", "-device", "usb-tablet"], display: xvfb.display)
        defer { pcemu.stop() }
        XCTAssertTrue(pcemu.waitForOutput("pcemu:/root# ", timeout: 300), pcemu.standardOutput.suffix(2000).description)
        let window = try xvfb.window(named: "^PCEmu", timeout: 60)

        // Short command lines: the shell redraws lines longer than its 80 columns.
        for module in ["uhci-hcd", "usbhid", "hid-generic", "evdev"] {
            XCTAssertEqual(runInShell("modprobe \(module)", in: pcemu), "")
        }
        XCTAssertEqual(USBGuest.waitForProduct("PCEmu USB Tablet", in: pcemu), "PCEmu USB Tablet", pcemu.standardOutput.suffix(3000).description)
        XCTAssertEqual(runInShell("D=/sys/bus/usb/devices/1-1", in: pcemu), "")
        XCTAssertEqual(runInShell("cat $D/idVendor $D/idProduct", in: pcemu), "0627\n0001")
        XCTAssertEqual(runInShell("I=/sys/class/input", in: pcemu), "")
        let event = try XCTUnwrap(USBGuest.eventNode(named: "Tablet", in: pcemu), "no event device for the tablet")
        XCTAssertEqual(runInShell("P=/proc/bus/input/devices", in: pcemu), "")
        XCTAssertEqual(runInShell("grep -c 'PCEmu USB Tablet' $P", in: pcemu), "1")
        // r N: read N bytes of events (16 each) into /tmp/ev in the background.
        XCTAssertEqual(runInShell("E=/dev/input/\(event)", in: pcemu), "")
        XCTAssertEqual(runInShell("r(){ od -vtd4 -w16 -N$1 $E>/tmp/ev& }", in: pcemu), "")

        // The frame is the VGA text mode's 720x400 and the window its size.
        let (frameWidth, frameHeight) = (720, 400)
        /// Moves the host pointer to window pixel (x, y) and returns the ABS_X and ABS_Y values the guest read.
        func move(toWindowX x: Int, y: Int) throws -> (Int?, Int?) {
            // X, Y, SYN.
            _ = runInShell("r 48", in: pcemu)
            usleep(300_000)
            _ = try x11("xdotool", ["mousemove", "--window", String(window), String(x), String(y)])
            usleep(700_000)
            let text = runInShell("cat /tmp/ev", in: pcemu) ?? ""
            let read = events(text)
            return (read.last { $0.0 == 3 }?.1, read.last { $0.0 == 3 | 1 << 16 }?.1)
        }
        // (Each move changes both coordinates: evdev passes on only values that changed.)
        let (x1, y1) = try move(toWindowX: 100, y: 50)
        XCTAssertEqual(x1, tabletValue(100, of: frameWidth))
        XCTAssertEqual(y1, tabletValue(50, of: frameHeight))
        let (x2, y2) = try move(toWindowX: 719, y: 399)
        XCTAssertEqual(x2, tabletValue(719, of: frameWidth))
        XCTAssertEqual(y2, tabletValue(399, of: frameHeight))
        XCTAssertEqual(try x11("xdotool", ["search", "--name", "release grab"]), "", "no grab was needed")

        // A window twice as wide as its height allows: 900x500 of picture between bars 270 pixels wide.
        _ = try x11("xdotool", ["windowsize", String(window), "1440", "500"])
        usleep(1_000_000)
        let (x3, y3) = try move(toWindowX: 270 + 450, y: 250)
        XCTAssertEqual(x3, tabletValue(360, of: frameWidth), "the left bar is not part of the picture")
        XCTAssertEqual(y3, tabletValue(200, of: frameHeight))
        let (x4, y4) = try move(toWindowX: 100, y: 300)
        XCTAssertEqual(x4, tabletValue(0, of: frameWidth), "over the bar: the picture's edge")
        XCTAssertEqual(y4, tabletValue(240, of: frameHeight))

        // A click is the tablet's left button, still without a grab.
        // MSC_SCAN, BTN_LEFT, SYN, twice.
        _ = runInShell("r 96", in: pcemu)
        usleep(300_000)
        _ = try x11("xdotool", ["click", "--window", String(window), "1"])
        usleep(700_000)
        let clicks = events(runInShell("cat /tmp/ev", in: pcemu) ?? "")
        let leftButton = 1 | 0x110 << 16
        XCTAssertEqual(clicks.filter { $0.0 == leftButton }.map { $0.1 }, [1, 0], "BTN_LEFT down and up")
        XCTAssertEqual(try x11("xdotool", ["search", "--name", "release grab"]), "", "a click does not grab with a tablet")
        pcemu.send("poweroff -f\n")
        XCTAssertEqual(pcemu.wait(timeout: 60), 0)
    }

    /// The default guest in a window on the Xvfb, with `devices` on `-usb`'s controller, at its shell.
    func bootInWindow(_ devices: [String]) throws -> (ChildProcess, UInt) {
        let pcemu = try USBGuest.start(["-usb"] + devices.flatMap { ["-device", $0] }, display: xvfb.display)
        guard pcemu.waitForOutput("pcemu:/root# ", timeout: 300) else {
            pcemu.stop()
            throw TestSetupError("no shell: \(pcemu.standardOutput.suffix(2000))")
        }
        do {
            return (pcemu, try xvfb.window(named: "^PCEmu", timeout: 60))
        } catch {
            pcemu.stop()
            throw error
        }
    }

    /// Runs `command` in the guest until its output satisfies `condition` (every half second, up to `timeout`).
    func poll(_ command: String, in pcemu: ChildProcess, timeout: TimeInterval = 30, until condition: (String) -> Bool) -> String? {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var output: String?
        repeat {
            output = runInShell(command, in: pcemu)
            if let output, condition(output) { return output }
            usleep(500_000)
        } while Date() < deadline && pcemu.isRunning
        return output
    }

    func testLinuxEnumeratesTheUSBMouseAndKeyboardAndTheyTakeTheWindowsInput() throws {
        let (pcemu, window) = try bootInWindow(["usb-mouse", "usb-kbd"])
        defer { pcemu.stop() }
        // Short command lines: the shell redraws lines longer than its 80 columns.
        for module in ["uhci-hcd", "usbhid", "hid-generic", "evdev", "psmouse"] {
            XCTAssertEqual(runInShell("modprobe \(module)", in: pcemu), "")
        }
        XCTAssertEqual(runInShell("U=/sys/bus/usb/devices", in: pcemu), "")
        // Port 1 the mouse, port 2 the keyboard, in the order given.
        let products = poll("cat $U/1-1/product $U/1-2/product", in: pcemu) { $0 == "PCEmu USB Mouse\nPCEmu USB Keyboard" }
        XCTAssertEqual(products, "PCEmu USB Mouse\nPCEmu USB Keyboard", pcemu.standardOutput.suffix(3000).description)
        XCTAssertEqual(runInShell("cat $U/1-1/idVendor $U/1-2/idProduct", in: pcemu), "0627\n0001")
        // bInterfaceClass, -Protocol, -SubClass: HID (3), mouse (2) or keyboard (1), boot (1).
        XCTAssertEqual(runInShell("cat $U/1-1:1.0/bInterface[CPS]*", in: pcemu), "03\n02\n01")
        XCTAssertEqual(runInShell("cat $U/1-2:1.0/bInterface[CPS]*", in: pcemu), "03\n01\n01")

        // The event node of each input device, by the name the guest gives it.
        XCTAssertEqual(runInShell("N=/sys/class/input/event*/device/name", in: pcemu), "")
        func eventNode(_ name: String) -> String? {
            let found = poll("grep -l '\(name)' $N", in: pcemu) { $0.hasPrefix("/sys/class/input/event") }
            return found.flatMap { $0.hasPrefix("/sys/class/input/event") ? String($0.split(separator: "/")[3]) : nil }
        }
        let usbMouse = try XCTUnwrap(eventNode("USB Mouse"), "no event device for the USB mouse")
        let usbKeyboard = try XCTUnwrap(eventNode("USB Keyboard"), "no event device for the USB keyboard")
        let ps2Mouse = try XCTUnwrap(eventNode("PS/2"), "no event device for the PS/2 mouse")
        let ps2Keyboard = try XCTUnwrap(eventNode("AT Translated"), "no event device for the PS/2 keyboard")
        XCTAssertEqual(runInShell("P=/proc/bus/input/devices", in: pcemu), "")
        // Each USB device once, its Phys the UHCI (01.2) and its root port.
        XCTAssertEqual(runInShell("grep -c 'PCEmu USB' $P", in: pcemu), "2")
        XCTAssertEqual(runInShell("grep -o 'usb-00.*' $P", in: pcemu), "usb-0000:00:01.2-1/input0\nusb-0000:00:01.2-2/input0")

        // All four nodes read into files in the background (cat: each event as it comes).
        XCTAssertEqual(runInShell("r(){ cat /dev/input/$1>/tmp/$1& }", in: pcemu), "")
        for node in [usbMouse, usbKeyboard, ps2Mouse, ps2Keyboard] { XCTAssertEqual(runInShell("r \(node)", in: pcemu), "") }
        /// The events read from `node` so far.
        func events(of node: String) -> [(Int, Int)] { self.events(runInShell("od -vtd4 -w16 /tmp/\(node)", in: pcemu) ?? "") }
        let keyType = 1, relativeType = 2, scanCode = 4 | 4 << 16
        func key(_ code: Int) -> Int { keyType | code << 16 }
        func relative(_ code: Int) -> Int { relativeType | code << 16 }
        usleep(500_000)

        // Keys: h, i, shift+a (xdotool lets go of shift first). Autorepeat (value 2) is the
        // guest's own, on a slow host, and left out.
        _ = try x11("xdotool", ["key", "--window", String(window), "h", "i", "shift+a"])
        let (keyH, keyI, keyLeftShift, keyA) = (35, 23, 42, 30)
        let typed = [(keyH, 1), (keyH, 0), (keyI, 1), (keyI, 0), (keyLeftShift, 1), (keyA, 1), (keyLeftShift, 0), (keyA, 0)]
        var keys: [(Int, Int)] = []
        let keysDeadline = Date(timeIntervalSinceNow: 30)
        repeat {
            keys = events(of: usbKeyboard)
            if keys.filter({ $0.0 & 0xFFFF == keyType && $0.1 != 2 }).count >= typed.count { break }
            usleep(500_000)
        } while Date() < keysDeadline
        XCTAssertEqual(keys.filter { $0.0 & 0xFFFF == keyType && $0.1 != 2 }.map { "\($0.0 >> 16):\($0.1)" },
                       typed.map { "\($0.0):\($0.1)" }, "the keys typed, down and up, from the USB keyboard's node")
        // hid-input's scan codes are the HID usages (page 7): the keys came through USB.
        XCTAssertEqual(Array(Set(keys.filter { $0.0 == scanCode }.map { $0.1 })).sorted(), [0x7_0004, 0x7_000B, 0x7_000C, 0x7_00E1])

        // The mouse: a click grabs the pointer (the click itself goes nowhere), then 20 right
        // twice, 15 up, a left and a right click and one wheel click up.
        _ = try x11("xdotool", ["mousemove", "--window", String(window), "100", "100", "click", "1"])
        var grabbed = ""
        for _ in 0..<20 where grabbed.isEmpty {
            usleep(250_000)
            grabbed = try x11("xdotool", ["search", "--name", "release grab"])
        }
        XCTAssertFalse(grabbed.isEmpty, "a click grabs the pointer")
        for (dx, dy) in [(20, 0), (20, 0), (0, -15)] {
            _ = try x11("xdotool", ["mousemove_relative", "--", String(dx), String(dy)])
            usleep(300_000)
        }
        for button in ["1", "3", "4"] { _ = try x11("xdotool", ["click", button]) }
        let (relativeX, relativeY, wheel) = (relative(0), relative(1), relative(8))
        let (leftButton, rightButton) = (key(0x110), key(0x111))
        var motion: [(Int, Int)] = []
        let motionDeadline = Date(timeIntervalSinceNow: 30)
        repeat {
            motion = events(of: usbMouse)
            if motion.filter({ $0.0 == rightButton || $0.0 == wheel }).count >= 3 { break }
            usleep(500_000)
        } while Date() < motionDeadline
        func total(_ code: Int) -> Int { motion.filter { $0.0 == code }.reduce(0) { $0 + $1.1 } }
        XCTAssertEqual(total(relativeX), 40, "REL_X: \(motion)")
        XCTAssertEqual(total(relativeY), -15, "REL_Y (up is negative)")
        XCTAssertEqual(total(wheel), 1, "REL_WHEEL: one click away from the user")
        XCTAssertEqual(motion.filter { $0.0 == leftButton }.map(\.1), [1, 0], "BTN_LEFT down and up")
        XCTAssertEqual(motion.filter { $0.0 == rightButton }.map(\.1), [1, 0], "BTN_RIGHT down and up")
        XCTAssertEqual(Array(Set(motion.filter { $0.0 == scanCode }.map { $0.1 })).sorted(), [0x9_0001, 0x9_0002],
                       "the buttons' HID usages (page 9)")

        // Nothing of it reached the PS/2 keyboard and mouse, though Linux drives both.
        XCTAssertEqual(events(of: ps2Keyboard).count, 0, "the PS/2 keyboard's node")
        XCTAssertEqual(events(of: ps2Mouse).count, 0, "the PS/2 mouse's node")
        _ = try x11("xdotool", ["key", "--window", String(window), "ctrl+alt+g"])
        pcemu.send("poweroff -f\n")
        XCTAssertEqual(pcemu.wait(timeout: 60), 0)
    }

    /// SeaBIOS's own UHCI and USB keyboard drivers: with a usb-kbd the window's keys
    /// go to it alone, and Escape and 1 typed there open the boot menu and pick its entry.
    func testSeaBIOSReadsTheUSBKeyboardForItsBootMenu() throws {
        let guest = try DefaultGuest.paths()
        let directory = try makeTemporaryDirectory("pcemu-usb-seabios")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("seabios.log").path
        let windowed = try WindowedGuest([
            "-m", "128", "-nic", "none", "-serial", "stdio", "-debugcon", "file:\(log)", "-boot", "menu=on,splash-time=30000",
            "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", "console=ttyS0 quiet", "-usb", "-device", "usb-kbd",
        ], directory: directory)
        defer { windowed.stop() }
        XCTAssertTrue(try windowed.waitForText(["Press ESC for boot menu"], timeout: 120).found, "SeaBIOS's prompt")
        let seabios = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        XCTAssertTrue(seabios.contains("USB keyboard initialized"), String(seabios.suffix(2000)))
        try windowed.key("Escape")
        let menu = try windowed.waitForText(["Select boot device", "1. Linux loader"], timeout: 60)
        XCTAssertTrue(menu.found, menu.lines.joined(separator: "\n"))
        try windowed.key("1")
        XCTAssertTrue(windowed.pcemu.waitForOutput("pcemu:/root# ", timeout: 300), "the entry picked boots the kernel")
        windowed.pcemu.send("poweroff -f\n")
        XCTAssertEqual(windowed.pcemu.wait(timeout: 60), 0)
    }
}
