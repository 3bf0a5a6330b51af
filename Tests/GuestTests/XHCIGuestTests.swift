import Foundation
import TestSupport
import XCTest

/// The default guest with `-device qemu-xhci -device usb-tablet` in a window
/// on a private Xvfb: Linux's xhci_hcd takes the controller, registers its
/// USB 2 and USB 3 root hubs, enumerates the tablet on port 1 as QEMU's
/// controller has it enumerated, usbhid and hid-generic make it an input
/// device, and the host pointer moved over the window (no grab) arrives in
/// /dev/input/eventN as the absolute position of the guest pixel under it.
/// Interrupts come as MSI; while nothing moves, there are none.
final class XHCIGuestTests: XCTestCase {
    var xvfb: XvfbServer!

    override func setUpWithError() throws {
        xvfb = try XvfbServer(width: 1600, height: 1024)
    }

    override func tearDown() { xvfb.stop() }

    /// The tablet's value for the centre of frame pixel `pixel` of `size`, as the window sends it.
    func tabletValue(_ pixel: Int, of size: Int) -> Int { min((2 * pixel + 1) * 32768 / (2 * size), 32767) }

    /// (type | code << 16, value) pairs from `od -td4 -w16` lines of input events.
    func events(_ text: String) -> [(Int, Int)] {
        text.split(separator: "\n").compactMap { line in
            let numbers = line.split(separator: " ").compactMap { Int($0) }
            return numbers.count == 5 ? (numbers[3], numbers[4]) : nil
        }
    }

    /// The xhci_hcd line of /proc/interrupts: its count on CPU 0.
    func interruptCount(_ guest: ChildProcess) -> Int? {
        runInShell("grep xhci /proc/interrupts", in: guest)?.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }

    func testXHCIEnumeratesTheTabletAndTheWindowMovesItsPointer() throws {
        let pcemu = try USBGuest.start(["-device", "qemu-xhci,id=xhci", "-device", "usb-tablet,bus=xhci.0"], display: xvfb.display)
        defer { pcemu.stop() }
        XCTAssertTrue(pcemu.waitForOutput("pcemu:/root# ", timeout: 300), pcemu.standardOutput.suffix(2000).description)
        let window = try xvfb.window(named: "^PCEmu", timeout: 60)

        for module in ["xhci-pci", "usbhid", "hid-generic", "evdev"] {
            XCTAssertEqual(runInShell("modprobe \(module)", in: pcemu), "")
        }
        XCTAssertEqual(USBGuest.waitForProduct("PCEmu USB Tablet", in: pcemu), "PCEmu USB Tablet", pcemu.standardOutput.suffix(3000).description)
        // The same devices as under QEMU's qemu-xhci: two root hubs, the tablet on the USB 2 one's port 1.
        XCTAssertEqual(runInShell("echo $(ls /sys/bus/usb/devices)", in: pcemu), "1-0:1.0 1-1 1-1:1.0 2-0:1.0 usb1 usb2")
        XCTAssertEqual(runInShell("cat /sys/bus/usb/devices/usb2/speed", in: pcemu), "5000")
        XCTAssertEqual(runInShell("cat /sys/bus/usb/devices/1-1/idVendor", in: pcemu), "0627")
        XCTAssertEqual(runInShell("dmesg | grep -c 'using xhci_hcd'", in: pcemu), "1")
        XCTAssertEqual(runInShell("dmesg | grep -c 'USB HID v1.11 Mouse'", in: pcemu), "1")
        XCTAssertEqual(runInShell("grep -c 'MSI.*xhci' /proc/interrupts", in: pcemu), "1", "xhci-pci took MSI")

        XCTAssertEqual(runInShell("I=/sys/class/input", in: pcemu), "")
        let event = try XCTUnwrap(USBGuest.eventNode(named: "Tablet", in: pcemu), "no event device for the tablet")
        XCTAssertEqual(runInShell("E=/dev/input/\(event)", in: pcemu), "")
        XCTAssertEqual(runInShell("r(){ od -vtd4 -w16 -N$1 $E>/tmp/ev& }", in: pcemu), "")

        // Idle: the tablet's interrupt TRB waits, and nothing interrupts the guest.
        let before = try XCTUnwrap(interruptCount(pcemu), "an xhci line in /proc/interrupts")
        _ = runInShell("sleep 5", in: pcemu)
        let after = try XCTUnwrap(interruptCount(pcemu))
        print("XHCI: \(after - before) interrupts in 5 idle seconds of the guest")
        XCTAssertEqual(after, before, "no interrupt while nothing moves")

        let (frameWidth, frameHeight) = (720, 400)
        func move(toWindowX x: Int, y: Int) throws -> (Int?, Int?) {
            _ = runInShell("r 48", in: pcemu)
            usleep(300_000)
            _ = try xvfb.run("xdotool", ["mousemove", "--window", String(window), String(x), String(y)])
            usleep(700_000)
            let read = events(runInShell("cat /tmp/ev", in: pcemu) ?? "")
            return (read.last { $0.0 == 3 }?.1, read.last { $0.0 == 3 | 1 << 16 }?.1)
        }
        let (x1, y1) = try move(toWindowX: 100, y: 50)
        XCTAssertEqual(x1, tabletValue(100, of: frameWidth))
        XCTAssertEqual(y1, tabletValue(50, of: frameHeight))
        let (x2, y2) = try move(toWindowX: 719, y: 399)
        XCTAssertEqual(x2, tabletValue(719, of: frameWidth))
        XCTAssertEqual(y2, tabletValue(399, of: frameHeight))
        XCTAssertGreaterThan(interruptCount(pcemu) ?? 0, after, "the reports came with interrupts")

        // A click: BTN_LEFT down and up.
        _ = runInShell("r 96", in: pcemu)
        usleep(300_000)
        _ = try xvfb.run("xdotool", ["click", "--window", String(window), "1"])
        usleep(700_000)
        let clicks = events(runInShell("cat /tmp/ev", in: pcemu) ?? "")
        XCTAssertEqual(clicks.filter { $0.0 == 1 | 0x110 << 16 }.map { $0.1 }, [1, 0], "BTN_LEFT down and up")
        pcemu.send("poweroff -f\n")
        XCTAssertEqual(pcemu.wait(timeout: 60), 0)
    }
}
