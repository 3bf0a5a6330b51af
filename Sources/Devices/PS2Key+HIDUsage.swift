/// Keys by their USB HID usage (keyboard page 0x07), which is also how SDL
/// numbers its scancodes: the host side reports a physical key, the keyboard
/// turns it into the guest's scancode set.
extension PS2Key {
    public init?(hidUsage usage: Int) {
        if let key = PS2Key.byHIDUsage[usage] { self = key } else { return nil }
    }

    private static let letters: [PS2Key] = [.a, .b, .c, .d, .e, .f, .g, .h, .i, .j, .k, .l, .m,
                                            .n, .o, .p, .q, .r, .s, .t, .u, .v, .w, .x, .y, .z]
    private static let digits: [PS2Key] = [.digit1, .digit2, .digit3, .digit4, .digit5, .digit6, .digit7, .digit8, .digit9, .digit0]
    private static let functionKeys: [PS2Key] = [.f1, .f2, .f3, .f4, .f5, .f6, .f7, .f8, .f9, .f10, .f11, .f12]
    private static let numpadDigits: [PS2Key] = [.numpad1, .numpad2, .numpad3, .numpad4, .numpad5, .numpad6,
                                                 .numpad7, .numpad8, .numpad9, .numpad0]

    private static let byHIDUsage: [Int: PS2Key] = {
        var table: [Int: PS2Key] = [:]
        for (i, key) in letters.enumerated() { table[0x04 + i] = key }
        for (i, key) in digits.enumerated() { table[0x1E + i] = key }
        for (i, key) in functionKeys.enumerated() { table[0x3A + i] = key }
        for (i, key) in numpadDigits.enumerated() { table[0x59 + i] = key }
        let others: [(Int, PS2Key)] = [
            (0x28, .enter), (0x29, .escape), (0x2A, .backspace), (0x2B, .tab), (0x2C, .space),
            (0x2D, .minus), (0x2E, .equal), (0x2F, .bracketLeft), (0x30, .bracketRight), (0x31, .backslash),
            (0x32, .backslash), (0x33, .semicolon), (0x34, .quote), (0x35, .backquote), (0x36, .comma),
            (0x37, .period), (0x38, .slash), (0x39, .capsLock),
            (0x46, .printScreen), (0x47, .scrollLock), (0x48, .pause), (0x49, .insert), (0x4A, .home),
            (0x4B, .pageUp), (0x4C, .delete), (0x4D, .end), (0x4E, .pageDown), (0x4F, .arrowRight),
            (0x50, .arrowLeft), (0x51, .arrowDown), (0x52, .arrowUp), (0x53, .numLock),
            (0x54, .numpadDivide), (0x55, .numpadMultiply), (0x56, .numpadSubtract), (0x57, .numpadAdd),
            (0x58, .numpadEnter), (0x63, .numpadDecimal), (0x64, .intlBackslash), (0x65, .contextMenu),
            (0x87, .intlRo), (0x88, .kanaMode), (0x89, .intlYen), (0x8A, .convert), (0x8B, .nonConvert),
            (0xE0, .controlLeft), (0xE1, .shiftLeft), (0xE2, .altLeft), (0xE3, .metaLeft),
            (0xE4, .controlRight), (0xE5, .shiftRight), (0xE6, .altRight), (0xE7, .metaRight),
        ]
        for (usage, key) in others { table[usage] = key }
        return table
    }()
}
