import XCTest
@testable import Devices

final class I8042Tests: XCTestCase {
    var harness: PortHarness!
    var irq1: LineProbe!
    var irq12: LineProbe!
    var controller: I8042!
    var a20Levels: [Bool] = []
    var resets = 0

    override func setUp() {
        harness = PortHarness()
        irq1 = LineProbe()
        irq12 = LineProbe()
        a20Levels = []
        resets = 0
        controller = I8042(keyboardIRQ: irq1.line, mouseIRQ: irq12.line,
                           setA20: { [unowned self] in self.a20Levels.append($0) },
                           requestReset: { [unowned self] in self.resets += 1 })
        try! controller.attach(to: harness.bus)
    }

    var status: UInt8 { harness.inb(0x64) }

    /// What a driver does after a command: wait for OBF, then read 0x60.
    func read() -> UInt8? {
        guard status & 0x01 != 0 else { return nil }
        return harness.inb(0x60)
    }

    /// Reads until the output buffer stays empty.
    func drain() -> [UInt8] {
        var bytes: [UInt8] = []
        while let byte = read() { bytes.append(byte) }
        return bytes
    }

    func writeCommandByte(_ byte: UInt8) {
        harness.out(0x64, 0x60)
        harness.out(0x60, byte)
    }

    func readCommandByte() -> UInt8? {
        harness.out(0x64, 0x20)
        return read()
    }

    /// SeaBIOS's ps2port setup: self-test, interface test, keyboard reset
    /// with both ports disabled, then translation and the keyboard interrupt on.
    func initialiseLikeSeaBIOS() {
        writeCommandByte(0x30)
        harness.out(0x64, 0xAA)
        XCTAssertEqual(read(), 0x55)
        harness.out(0x64, 0xAB)
        XCTAssertEqual(read(), 0x00)
        harness.out(0x60, 0xFF)
        XCTAssertEqual(drain(), [0xFA, 0xAA])
        harness.out(0x60, 0xF5)
        XCTAssertEqual(drain(), [0xFA])
        harness.out(0x60, 0xF4)
        XCTAssertEqual(drain(), [0xFA])
        writeCommandByte(0x61)
    }

    func testStatusAtPowerOn() {
        XCTAssertEqual(status, 0x10, "not inhibited, nothing to read")
        XCTAssertEqual(readCommandByte(), 0x43)
        XCTAssertEqual(status & 0x08, 0x08, "the last write was a command")
        XCTAssertFalse(irq1.level)
    }

    func testSeaBIOSInitialisationAndSystemFlag() {
        initialiseLikeSeaBIOS()
        XCTAssertEqual(readCommandByte(), 0x61)
        XCTAssertEqual(status & 0x04, 0x00, "command byte 0x61 clears the system flag")
        writeCommandByte(0x65)
        XCTAssertEqual(status & 0x04, 0x04)
        XCTAssertEqual(status & 0x08, 0x00, "the last write was data")
        XCTAssertTrue(controller.keyboard.isScanning)
    }

    func testTranslatedKeysRaiseIRQ1() {
        initialiseLikeSeaBIOS()
        controller.keyboard.press(.a)
        XCTAssertTrue(irq1.level)
        XCTAssertFalse(irq12.level)
        XCTAssertEqual(status & 0x21, 0x01)
        XCTAssertEqual(harness.inb(0x60), 0x1E)
        XCTAssertFalse(irq1.level, "reading the byte lowers IRQ 1")
        controller.keyboard.release(.a)
        XCTAssertEqual(drain(), [0x9E])
        controller.keyboard.press(.arrowUp)
        controller.keyboard.release(.arrowUp)
        controller.keyboard.press(.f7)
        controller.keyboard.release(.f7)
        XCTAssertEqual(drain(), [0xE0, 0x48, 0xE0, 0xC8, 0x41, 0xC1])
        XCTAssertEqual(irq1.risingEdges, 2 + 6, "one edge per byte")
    }

    func testPrintScreenAndPauseTranslated() {
        initialiseLikeSeaBIOS()
        controller.keyboard.press(.printScreen)
        controller.keyboard.release(.printScreen)
        XCTAssertEqual(drain(), [0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA])
        controller.keyboard.press(.pause)
        controller.keyboard.release(.pause)
        XCTAssertEqual(drain(), [0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5])
    }

    func testTranslationOfWindowsKeysAndReplies() {
        initialiseLikeSeaBIOS()
        controller.keyboard.press(.metaLeft)
        controller.keyboard.press(.metaRight)
        controller.keyboard.release(.contextMenu)
        XCTAssertEqual(drain(), [0xE0, 0x5B, 0xE0, 0x5C, 0xE0, 0xDD])
        XCTAssertEqual(I8042.set2ToSet1[0xFA], 0xFA, "replies pass unchanged")
        XCTAssertEqual(I8042.set2ToSet1[0xE1], 0xE1)
        XCTAssertEqual(I8042.set2ToSet1[0x84], 0x54)
    }

    func testUntranslatedSet2() {
        initialiseLikeSeaBIOS()
        writeCommandByte(0x01)                 // keyboard interrupt, no translation
        controller.keyboard.press(.controlRight)
        controller.keyboard.release(.controlRight)
        controller.keyboard.press(.pause)
        XCTAssertEqual(drain(), [0xE0, 0x14, 0xE0, 0xF0, 0x14, 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77])
        controller.keyboard.sendScancodes([0xE0, 0xF0, 0x4A])
        XCTAssertEqual(drain(), [0xE0, 0xF0, 0x4A])
    }

    func testSet2SequencesOfExtendedPrintScreenAltGrAndKeypad() {
        XCTAssertEqual(PS2Key.printScreen.sequence(set: 2, pressed: true), [0xE0, 0x12, 0xE0, 0x7C])
        XCTAssertEqual(PS2Key.printScreen.sequence(set: 2, pressed: false), [0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12])
        XCTAssertEqual(PS2Key.pause.sequence(set: 2, pressed: false), [], "Pause has no break code")
        XCTAssertEqual(PS2Key(hidUsage: 0xE6), .altRight, "AltGr is the right Alt")
        XCTAssertEqual(PS2Key.altRight.sequence(set: 2, pressed: true), [0xE0, 0x11])
        XCTAssertEqual(PS2Key.altRight.sequence(set: 1, pressed: false), [0xE0, 0xB8])
        XCTAssertEqual(PS2Key(hidUsage: 0x54).map { $0.sequence(set: 2, pressed: false) }, [0xE0, 0xF0, 0x4A], "keypad /")
        XCTAssertEqual(PS2Key(hidUsage: 0x58).map { $0.sequence(set: 1, pressed: true) }, [0xE0, 0x1C], "keypad Enter")
        XCTAssertEqual(PS2Key(hidUsage: 0x55).map { $0.sequence(set: 2, pressed: true) }, [0x7C], "keypad * has no prefix")
        XCTAssertEqual(PS2Key(hidUsage: 0x53).map { $0.sequence(set: 2, pressed: true) }, [0x77], "Num Lock")
        XCTAssertEqual(PS2Key(hidUsage: 0x4C).map { $0.sequence(set: 2, pressed: true) }, [0xE0, 0x71], "Delete")
        XCTAssertEqual(PS2Key(hidUsage: 0x63).map { $0.sequence(set: 2, pressed: true) }, [0x71], "keypad .")
    }

    /// Every key's set 2 bytes, put through the 8042's translation, are its
    /// set 1 bytes: the two tables (and the special sequences) agree.
    func testEveryKeysSet2TranslatesToItsSet1() {
        let modifierSets: [PS2Key.Modifiers] = [[], [.shift], [.control], [.alt], [.shift, .control, .alt]]
        for key in PS2Key.allCases {
            for pressed in [true, false] {
                for modifiers in modifierSets {
                    var translated: [UInt8] = [], breakNext = false
                    for byte in key.sequence(set: 2, pressed: pressed, modifiers: modifiers) {
                        if byte == 0xF0 { breakNext = true; continue }
                        translated.append(I8042.set2ToSet1[Int(byte)] | (breakNext ? 0x80 : 0))
                        breakNext = false
                    }
                    XCTAssertEqual(translated, key.sequence(set: 1, pressed: pressed, modifiers: modifiers),
                                   "\(key) \(pressed ? "make" : "break") with \(modifiers.rawValue)")
                }
            }
        }
    }

    /// The keys whose codes the keyboard chooses by the modifiers held
    /// (IBM's enhanced keyboard, as Linux's atkbd and QEMU expect them):
    /// Ctrl+Pause is Break, Alt+Print Screen is SysRq, and Print Screen with
    /// Shift or Ctrl held comes without its fake shift; in both sets.
    func testBreakSysRqAndPrintScreenDependOnTheModifiersHeld() {
        initialiseLikeSeaBIOS()
        writeCommandByte(0x01)  // no translation: the keyboard's own set 2
        let keyboard = controller.keyboard
        func keys(_ events: [(PS2Key, Bool)]) -> [UInt8] {
            for (key, pressed) in events { if pressed { keyboard.press(key) } else { keyboard.release(key) } }
            return drain()
        }
        for control in [PS2Key.controlLeft, .controlRight] {
            let prefix: [UInt8] = control == .controlLeft ? [0x14] : [0xE0, 0x14]
            XCTAssertEqual(keys([(control, true), (.pause, true), (.pause, false), (control, false)]),
                           prefix + [0xE0, 0x7E, 0xE0, 0xF0, 0x7E] + [prefix.dropLast(), [0xF0], prefix.suffix(1)].flatMap { $0 },
                           "Ctrl+Pause is Break, sent whole on press")
        }
        XCTAssertEqual(keys([(.altLeft, true), (.printScreen, true), (.printScreen, false), (.altLeft, false)]),
                       [0x11, 0x84, 0xF0, 0x84, 0xF0, 0x11], "Alt+Print Screen is SysRq")
        XCTAssertEqual(keys([(.altRight, true), (.printScreen, true), (.altRight, false), (.printScreen, false)]),
                       [0xE0, 0x11, 0x84, 0xE0, 0xF0, 0x11, 0xF0, 0x84], "released as pressed, though Alt went up first")
        XCTAssertEqual(keys([(.shiftLeft, true), (.printScreen, true), (.printScreen, false), (.shiftLeft, false)]),
                       [0x12, 0xE0, 0x7C, 0xE0, 0xF0, 0x7C, 0xF0, 0x12], "Shift+Print Screen: no fake shift")
        XCTAssertEqual(keys([(.controlRight, true), (.printScreen, true), (.printScreen, false), (.controlRight, false)]),
                       [0xE0, 0x14, 0xE0, 0x7C, 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x14], "Ctrl+Print Screen: no fake shift")
        XCTAssertEqual(keys([(.printScreen, true), (.printScreen, false), (.pause, true), (.pause, false)]),
                       [0xE0, 0x12, 0xE0, 0x7C, 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12, 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77],
                       "alone again once the modifiers are up")

        // Set 1, asked of the keyboard itself (translation off).
        harness.out(0x60, 0xF0)
        harness.out(0x60, 0x01)
        XCTAssertEqual(drain(), [0xFA, 0xFA])
        XCTAssertEqual(keys([(.controlLeft, true), (.pause, true), (.pause, false), (.controlLeft, false)]),
                       [0x1D, 0xE0, 0x46, 0xE0, 0xC6, 0x9D])
        XCTAssertEqual(keys([(.altLeft, true), (.printScreen, true), (.printScreen, false), (.altLeft, false)]),
                       [0x38, 0x54, 0xD4, 0xB8])
        XCTAssertEqual(keys([(.shiftRight, true), (.printScreen, true), (.printScreen, false), (.shiftRight, false)]),
                       [0x36, 0xE0, 0x37, 0xE0, 0xB7, 0xB6])
        XCTAssertEqual(keys([(.printScreen, true), (.printScreen, false)]), [0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA])

        // Set 2 translated by the 8042, as Linux runs it: the set 1 bytes again.
        harness.out(0x60, 0xF0)
        harness.out(0x60, 0x02)
        XCTAssertEqual(drain(), [0xFA, 0xFA])
        writeCommandByte(0x41)
        XCTAssertEqual(keys([(.controlLeft, true), (.pause, true), (.controlLeft, false)]), [0x1D, 0xE0, 0x46, 0xE0, 0xC6, 0x9D])
        XCTAssertEqual(keys([(.altRight, true), (.printScreen, true), (.printScreen, false), (.altRight, false)]),
                       [0xE0, 0x38, 0x54, 0xD4, 0xE0, 0xB8])
    }

    func testKeyboardInterruptFollowsCommandByte() {
        initialiseLikeSeaBIOS()
        writeCommandByte(0x60)                 // translation, no interrupt
        controller.keyboard.press(.space)
        XCTAssertFalse(irq1.level)
        XCTAssertEqual(status & 0x01, 0x01, "polling still sees the byte")
        writeCommandByte(0x61)
        XCTAssertTrue(irq1.level, "enabling the interrupt with a byte waiting raises it")
        XCTAssertEqual(drain(), [0x39])
    }

    func testDisabledKeyboardHoldsKeysUntilEnabled() {
        initialiseLikeSeaBIOS()
        harness.out(0x64, 0xAD)
        XCTAssertEqual(readCommandByte().map { $0 & 0x10 }, 0x10)
        controller.keyboard.press(.b)
        XCTAssertEqual(status & 0x01, 0)
        XCTAssertFalse(irq1.level)
        harness.out(0x64, 0xAE)
        XCTAssertEqual(drain(), [0x30])
    }

    func testKeyboardCommandsLikeLinuxAtkbd() {
        initialiseLikeSeaBIOS()
        harness.out(0x60, 0xF2)
        XCTAssertEqual(drain(), [0xFA, 0xAB, 0x41], "the ID's 0x83 is translated")
        writeCommandByte(0x01)
        harness.out(0x60, 0xF2)
        XCTAssertEqual(drain(), [0xFA, 0xAB, 0x83])
        harness.out(0x60, 0xEE)
        XCTAssertEqual(drain(), [0xEE])
        var ledChanges: [PS2Keyboard.LEDs] = []
        controller.keyboard.ledsChanged = { ledChanges.append($0) }
        harness.out(0x60, 0xED)
        XCTAssertEqual(drain(), [0xFA])
        harness.out(0x60, 0x06)
        XCTAssertEqual(drain(), [0xFA])
        XCTAssertEqual(ledChanges, [[.numLock, .capsLock]])
        harness.out(0x60, 0xF3)
        harness.out(0x60, 0x00)
        XCTAssertEqual(drain(), [0xFA, 0xFA])
        harness.out(0x60, 0xFE)
        XCTAssertEqual(drain(), [0xFA], "resend repeats the last byte")
        harness.out(0x60, 0xD7)
        XCTAssertEqual(drain(), [0xFE], "an unknown command asks for a resend")
    }

    func testScancodeSetSelection() {
        writeCommandByte(0x01)                 // no translation
        harness.out(0x60, 0xF0)
        harness.out(0x60, 0x00)
        XCTAssertEqual(drain(), [0xFA, 0xFA, 0x02])
        harness.out(0x60, 0xF0)
        harness.out(0x60, 0x01)
        XCTAssertEqual(drain(), [0xFA, 0xFA])
        XCTAssertEqual(controller.keyboard.scancodeSet, 1)
        controller.keyboard.press(.delete)
        controller.keyboard.release(.delete)
        XCTAssertEqual(drain(), [0xE0, 0x53, 0xE0, 0xD3])
        harness.out(0x60, 0xF0)
        harness.out(0x60, 0x07)
        XCTAssertEqual(drain(), [0xFA, 0xFE], "there is no set 7")
        harness.out(0x60, 0xFF)
        XCTAssertEqual(drain(), [0xFA, 0xAA])
        XCTAssertEqual(controller.keyboard.scancodeSet, 2, "reset goes back to set 2")
    }

    func testArgumentThatIsACommandStartsIt() {
        writeCommandByte(0x01)
        harness.out(0x60, 0xED)
        harness.out(0x60, 0xF2)
        XCTAssertEqual(drain(), [0xFA, 0xFA, 0xAB, 0x83])
    }

    func testDisabledScanningDropsKeys() {
        writeCommandByte(0x01)
        harness.out(0x60, 0xF5)
        XCTAssertEqual(drain(), [0xFA])
        controller.keyboard.press(.q)
        XCTAssertEqual(drain(), [])
        harness.out(0x60, 0xF4)
        XCTAssertEqual(drain(), [0xFA])
        controller.keyboard.press(.q)
        XCTAssertEqual(drain(), [0x15])
    }

    func testFullQueueSendsOverrunAndDropsKeys() {
        writeCommandByte(0x61)
        let capacity = PS2Keyboard.queueCapacity
        // Each arrow press is two bytes; the output buffer holds one more.
        for _ in 0..<capacity { controller.keyboard.press(.arrowLeft) }
        let bytes = drain()
        XCTAssertEqual(bytes.count, 1 + capacity, "the buffer and a full queue")
        XCTAssertEqual(bytes.last, 0xFF, "set 1's overrun code after translation")
        XCTAssertEqual(Array(bytes.dropLast()), Array(repeating: [0xE0, 0x4B], count: capacity / 2).flatMap { $0 },
                       "whole keys only")
        controller.keyboard.press(.arrowLeft)
        XCTAssertEqual(drain(), [0xE0, 0x4B], "room again after the guest caught up")
    }

    func testAuxLoopbackAndToggleLikeLinuxI8042() {
        // i8042_check_aux: aux interrupt off, loop a byte back through 0xD3.
        writeCommandByte(0x45)
        harness.out(0x64, 0xD3)
        harness.out(0x60, 0x5A)
        XCTAssertEqual(status & 0x21, 0x21, "AUX data waiting")
        XCTAssertFalse(irq12.level)
        XCTAssertEqual(harness.inb(0x60), 0x5A)
        // i8042_toggle_aux
        harness.out(0x64, 0xA7)
        XCTAssertEqual(readCommandByte().map { $0 & 0x20 }, 0x20)
        harness.out(0x64, 0xA8)
        XCTAssertEqual(readCommandByte().map { $0 & 0x20 }, 0x00)
        // The IRQ test: loopback with the aux interrupt on.
        writeCommandByte(0x47)
        harness.out(0x64, 0xD3)
        harness.out(0x60, 0xA5)
        XCTAssertTrue(irq12.level)
        XCTAssertFalse(irq1.level)
        XCTAssertEqual(harness.inb(0x60), 0xA5)
        XCTAssertFalse(irq12.level)
        harness.out(0x64, 0xA9)
        XCTAssertEqual(read(), 0x00)
    }

    func testWriteKeyboardOutputBuffer() {
        writeCommandByte(0x01)
        harness.out(0x64, 0xD2)
        harness.out(0x60, 0x9C)
        XCTAssertTrue(irq1.level)
        XCTAssertEqual(status & 0x21, 0x01)
        XCTAssertEqual(harness.inb(0x60), 0x9C)
    }

    func testA20AndResetThroughOutputPort() {
        harness.out(0x64, 0xD0)
        XCTAssertEqual(read(), 0xCF, "A20 and reset high, the buffer was empty")
        // Linux's empty_8042 dance: D1 DF, then the null command FF.
        harness.out(0x64, 0xD1)
        harness.out(0x60, 0xDF)
        harness.out(0x64, 0xFF)
        XCTAssertEqual(a20Levels, [], "A20 was already on")
        XCTAssertEqual(resets, 0, "0xFF pulses nothing")
        harness.out(0x64, 0xD1)
        harness.out(0x60, 0xDD)
        XCTAssertEqual(a20Levels, [false])
        harness.out(0x64, 0xDF)
        XCTAssertEqual(a20Levels, [false, true])
        harness.out(0x64, 0xFE)
        XCTAssertEqual(resets, 1)
        harness.out(0x64, 0xD1)
        harness.out(0x60, 0xDE)
        XCTAssertEqual(resets, 2, "output port bit 0 low is reset")
    }

    func testControllerRAMAndPassword() {
        harness.out(0x64, 0x7F)
        harness.out(0x60, 0x3C)
        harness.out(0x64, 0x3F)
        XCTAssertEqual(read(), 0x3C)
        harness.out(0x64, 0xA4)
        XCTAssertEqual(read(), 0xF1)
        harness.out(0x64, 0xC7)                // nothing: logged and ignored
        XCTAssertEqual(read(), nil)
    }

    // MARK: The mouse

    func sendToMouse(_ bytes: UInt8...) -> [UInt8] {
        for byte in bytes {
            harness.out(0x64, 0xD4)
            harness.out(0x60, byte)
        }
        return drain()
    }

    func testMouseResetAndIntelliMouseDetectionLikeLinux() {
        writeCommandByte(0x47)
        XCTAssertEqual(sendToMouse(0xFF), [0xFA, 0xAA, 0x00])
        XCTAssertEqual(sendToMouse(0xF2), [0xFA, 0x00])
        XCTAssertEqual(sendToMouse(0xF3, 200, 0xF3, 100, 0xF3, 80), [0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA])
        XCTAssertEqual(sendToMouse(0xF2), [0xFA, 0x03])
        XCTAssertEqual(sendToMouse(0xE8, 0x03, 0xE7, 0xE9), [0xFA, 0xFA, 0xFA, 0xFA, 0x10, 0x03, 80])
        XCTAssertEqual(sendToMouse(0xFF), [0xFA, 0xAA, 0x00])
        XCTAssertEqual(sendToMouse(0xF2), [0xFA, 0x00], "reset forgets the wheel")
    }

    func testMouseBytesComeWithAuxFlagAndIRQ12() {
        writeCommandByte(0x47)
        harness.out(0x64, 0xD4)
        harness.out(0x60, 0xF4)
        XCTAssertTrue(irq12.level)
        XCTAssertFalse(irq1.level)
        XCTAssertEqual(status & 0x21, 0x21)
        XCTAssertEqual(harness.inb(0x60), 0xFA)
        XCTAssertFalse(irq12.level)
    }

    func testMovementPackets() {
        writeCommandByte(0x47)
        XCTAssertEqual(sendToMouse(0xF4), [0xFA])
        controller.mouse.move(dx: 5, dy: 3, buttons: [.left])
        XCTAssertEqual(drain(), [0x08 | 0x01 | 0x20, 5, 0xFD], "screen-down is PS/2 negative y")
        controller.mouse.move(dx: -300, dy: 0, buttons: [])
        XCTAssertEqual(drain(), [0x08 | 0x10, 0x00, 0x00, 0x08 | 0x10, 0xD4, 0x00],
                       "-300 goes as -256 and -44, button release in the first")
        controller.mouse.move(dx: 0, dy: 0, wheel: 1, buttons: [])
        XCTAssertEqual(drain(), [], "no wheel before the unlock sequence")
    }

    func testWheelPacketsAndScaling() {
        writeCommandByte(0x47)
        XCTAssertEqual(sendToMouse(0xF3, 200, 0xF3, 100, 0xF3, 80, 0xF4).count, 7)
        controller.mouse.move(dx: 1, dy: -1, wheel: -2, buttons: [.middle, .right])
        XCTAssertEqual(drain(), [0x08 | 0x06, 1, 1, 0x02], "scrolling down is a positive Z")
        XCTAssertEqual(sendToMouse(0xE7), [0xFA])
        controller.mouse.move(dx: 4, dy: 0, buttons: [.middle, .right])
        XCTAssertEqual(drain(), [0x08 | 0x06, 6, 0, 0], "2:1 scaling maps 4 to 6")
        controller.mouse.move(dx: 200, dy: 0, buttons: [.middle, .right])
        XCTAssertEqual(drain().first.map { $0 & 0x40 }, 0x40, "400 after scaling overflows")
    }

    func testRemoteModeAndStatus() {
        writeCommandByte(0x47)
        XCTAssertEqual(sendToMouse(0xF0), [0xFA])
        controller.mouse.move(dx: 2, dy: 0, buttons: [.left])
        XCTAssertEqual(drain(), [], "remote mode sends only when asked")
        XCTAssertEqual(sendToMouse(0xE9), [0xFA, 0x44, 0x02, 100])
        XCTAssertEqual(sendToMouse(0xEB), [0xFA, 0x09, 0x02, 0x00])
        XCTAssertEqual(sendToMouse(0xEA, 0xF5), [0xFA, 0xFA])
    }

    func testWrapModeEchoes() {
        writeCommandByte(0x47)
        XCTAssertEqual(sendToMouse(0xEE, 0x12, 0xF4), [0xFA, 0x12, 0xF4])
        XCTAssertEqual(sendToMouse(0xEC, 0xF2), [0xFA, 0xFA, 0x00])
        XCTAssertEqual(sendToMouse(0xAB), [0xFE], "unknown command")
    }

    func testDisabledAuxHoldsMouseBytes() {
        writeCommandByte(0x47 | 0x20)
        harness.out(0x64, 0xD4)
        harness.out(0x60, 0xF2)
        XCTAssertEqual(drain(), [])
        harness.out(0x64, 0xA8)
        XCTAssertEqual(drain(), [0xFA, 0x00])
    }

    func testKeyboardAndMouseShareTheBuffer() {
        writeCommandByte(0x47)
        XCTAssertEqual(sendToMouse(0xF4), [0xFA])
        controller.keyboard.press(.enter)
        controller.keyboard.press(.arrowDown)
        controller.mouse.move(dx: 1, dy: 0, buttons: [])
        var fromKeyboard: [UInt8] = [], fromMouse: [UInt8] = []
        while status & 0x01 != 0 {
            let aux = status & 0x20 != 0
            let byte = harness.inb(0x60)
            if aux { fromMouse.append(byte) } else { fromKeyboard.append(byte) }
        }
        XCTAssertEqual(fromKeyboard, [0x1C, 0xE0, 0x50])
        XCTAssertEqual(fromMouse, [0x08, 1, 0])
    }

    func testResetRestoresPowerOn() {
        initialiseLikeSeaBIOS()
        controller.keyboard.press(.a)
        controller.reset()
        XCTAssertEqual(status, 0x10)
        XCTAssertFalse(irq1.level)
        XCTAssertEqual(readCommandByte(), 0x43)
    }
}
