import Foundation
import TestSupport
import XCTest

/// The default guest with `-usb -device usb-tablet` in a window on a
/// private Xvfb: Linux's uhci-hcd enumerates the tablet, usbhid and
/// hid-generic make it an input device, and the host pointer moved over
/// the window (no click, no grab) arrives in /dev/input/eventN as the
/// absolute position of the guest pixel under it, the letterbox of a
/// resized window left out.
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
        let guest = try DefaultGuest.paths()
        var environment = ProcessInfo.processInfo.environment
        environment["DISPLAY"] = xvfb.display
        environment["SDL_VIDEODRIVER"] = "x11"
        let pcemu = try ChildProcess(BuildProducts.pcemu, [
            "-m", "256", "-serial", "stdio", "-kernel", guest.kernel, "-initrd", guest.initrd, "-append", "console=ttyS0 quiet",
            "-usb", "-device", "usb-tablet",
        ], environment: environment, inputPipe: true)
        defer { pcemu.stop() }
        XCTAssertTrue(pcemu.waitForOutput("pcemu:/root# ", timeout: 300), pcemu.standardOutput.suffix(2000).description)
        let window = try xvfb.window(named: "^PCEmu", timeout: 60)

        // Short command lines: the shell redraws lines longer than its 80 columns.
        for module in ["uhci-hcd", "usbhid", "hid-generic", "evdev"] {
            XCTAssertEqual(runInShell("modprobe \(module)", in: pcemu), "")
        }
        var product: String?
        for _ in 0..<40 {
            product = runInShell("cat /sys/bus/usb/devices/1-1/product", in: pcemu)
            if product == "PCEmu USB Tablet" { break }
            usleep(250_000)
        }
        XCTAssertEqual(product, "PCEmu USB Tablet", pcemu.standardOutput.suffix(3000).description)
        XCTAssertEqual(runInShell("D=/sys/bus/usb/devices/1-1", in: pcemu), "")
        XCTAssertEqual(runInShell("cat $D/idVendor $D/idProduct", in: pcemu), "0627\n0001")
        XCTAssertEqual(runInShell("I=/sys/class/input", in: pcemu), "")
        var eventDevice: String?
        for _ in 0..<40 {
            eventDevice = runInShell("grep -l Tablet $I/event*/device/name", in: pcemu)
            if eventDevice?.hasPrefix("/sys/class/input/event") == true { break }
            usleep(250_000)
        }
        let event = try XCTUnwrap(eventDevice.flatMap { $0.hasPrefix("/sys/class/input/event") ? $0.split(separator: "/")[3] : nil },
                                  "no event device for the tablet")
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
}
