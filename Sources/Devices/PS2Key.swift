/// The keys of a 102/104-key PC keyboard plus the Japanese extras, with
/// their make codes in scancode sets 1 and 2 (from the IBM PS/2 keyboard
/// technical reference). Break codes follow the set's rule: set 1 sets bit 7,
/// set 2 puts 0xF0 before the last byte. Print Screen and Pause have their
/// own sequences, which depend on the modifier keys held, as the keyboard
/// itself decides: Ctrl+Pause is Break, Alt+Print Screen is SysRq.
public enum PS2Key: CaseIterable, Sendable {
    case escape, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12
    case backquote, digit1, digit2, digit3, digit4, digit5, digit6, digit7, digit8, digit9, digit0
    case minus, equal, backspace, tab
    case q, w, e, r, t, y, u, i, o, p, bracketLeft, bracketRight, enter
    case capsLock, a, s, d, f, g, h, j, k, l, semicolon, quote, backslash
    case shiftLeft, intlBackslash, z, x, c, v, b, n, m, comma, period, slash, shiftRight
    case controlLeft, metaLeft, altLeft, space, altRight, metaRight, contextMenu, controlRight
    case printScreen, scrollLock, pause
    case insert, home, pageUp, delete, end, pageDown
    case arrowUp, arrowLeft, arrowDown, arrowRight
    case numLock, numpadDivide, numpadMultiply, numpadSubtract, numpadAdd, numpadEnter, numpadDecimal
    case numpad0, numpad1, numpad2, numpad3, numpad4, numpad5, numpad6, numpad7, numpad8, numpad9
    case intlRo, intlYen, convert, nonConvert, kanaMode

    /// The prefix of keys added by the enhanced keyboard.
    static let extendedPrefix: UInt8 = 0xE0
    /// Set 2's break prefix.
    static let set2BreakPrefix: UInt8 = 0xF0
    /// Set 1's break bit.
    static let set1BreakBit: UInt8 = 0x80

    /// The modifier keys held, either side, as far as the special keys care.
    public struct Modifiers: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let shift = Modifiers(rawValue: 0x01)
        public static let control = Modifiers(rawValue: 0x02)
        public static let alt = Modifiers(rawValue: 0x04)
    }

    /// The modifier this key is, if any.
    var modifier: Modifiers {
        switch self {
        case .shiftLeft, .shiftRight: return .shift
        case .controlLeft, .controlRight: return .control
        case .altLeft, .altRight: return .alt
        default: return []
        }
    }

    /// Ctrl+Pause: Break, an extended Scroll Lock pressed and released at once.
    static let breakSet1: [UInt8] = [0xE0, 0x46, 0xE0, 0xC6]
    static let breakSet2: [UInt8] = [0xE0, 0x7E, 0xE0, 0xF0, 0x7E]
    /// Alt+Print Screen: SysRq, a key of its own without a prefix.
    static let sysRqSet1: UInt8 = 0x54
    static let sysRqSet2: UInt8 = 0x84

    /// Make codes: set 1, set 2, and whether an 0xE0 prefix comes first.
    /// Print Screen and Pause are listed with their final byte only.
    var codes: (set1: UInt8, set2: UInt8, extended: Bool) {
        switch self {
        case .escape: return (0x01, 0x76, false)
        case .f1: return (0x3B, 0x05, false)
        case .f2: return (0x3C, 0x06, false)
        case .f3: return (0x3D, 0x04, false)
        case .f4: return (0x3E, 0x0C, false)
        case .f5: return (0x3F, 0x03, false)
        case .f6: return (0x40, 0x0B, false)
        case .f7: return (0x41, 0x83, false)
        case .f8: return (0x42, 0x0A, false)
        case .f9: return (0x43, 0x01, false)
        case .f10: return (0x44, 0x09, false)
        case .f11: return (0x57, 0x78, false)
        case .f12: return (0x58, 0x07, false)
        case .backquote: return (0x29, 0x0E, false)
        case .digit1: return (0x02, 0x16, false)
        case .digit2: return (0x03, 0x1E, false)
        case .digit3: return (0x04, 0x26, false)
        case .digit4: return (0x05, 0x25, false)
        case .digit5: return (0x06, 0x2E, false)
        case .digit6: return (0x07, 0x36, false)
        case .digit7: return (0x08, 0x3D, false)
        case .digit8: return (0x09, 0x3E, false)
        case .digit9: return (0x0A, 0x46, false)
        case .digit0: return (0x0B, 0x45, false)
        case .minus: return (0x0C, 0x4E, false)
        case .equal: return (0x0D, 0x55, false)
        case .backspace: return (0x0E, 0x66, false)
        case .tab: return (0x0F, 0x0D, false)
        case .q: return (0x10, 0x15, false)
        case .w: return (0x11, 0x1D, false)
        case .e: return (0x12, 0x24, false)
        case .r: return (0x13, 0x2D, false)
        case .t: return (0x14, 0x2C, false)
        case .y: return (0x15, 0x35, false)
        case .u: return (0x16, 0x3C, false)
        case .i: return (0x17, 0x43, false)
        case .o: return (0x18, 0x44, false)
        case .p: return (0x19, 0x4D, false)
        case .bracketLeft: return (0x1A, 0x54, false)
        case .bracketRight: return (0x1B, 0x5B, false)
        case .enter: return (0x1C, 0x5A, false)
        case .capsLock: return (0x3A, 0x58, false)
        case .a: return (0x1E, 0x1C, false)
        case .s: return (0x1F, 0x1B, false)
        case .d: return (0x20, 0x23, false)
        case .f: return (0x21, 0x2B, false)
        case .g: return (0x22, 0x34, false)
        case .h: return (0x23, 0x33, false)
        case .j: return (0x24, 0x3B, false)
        case .k: return (0x25, 0x42, false)
        case .l: return (0x26, 0x4B, false)
        case .semicolon: return (0x27, 0x4C, false)
        case .quote: return (0x28, 0x52, false)
        case .backslash: return (0x2B, 0x5D, false)
        case .shiftLeft: return (0x2A, 0x12, false)
        case .intlBackslash: return (0x56, 0x61, false)
        case .z: return (0x2C, 0x1A, false)
        case .x: return (0x2D, 0x22, false)
        case .c: return (0x2E, 0x21, false)
        case .v: return (0x2F, 0x2A, false)
        case .b: return (0x30, 0x32, false)
        case .n: return (0x31, 0x31, false)
        case .m: return (0x32, 0x3A, false)
        case .comma: return (0x33, 0x41, false)
        case .period: return (0x34, 0x49, false)
        case .slash: return (0x35, 0x4A, false)
        case .shiftRight: return (0x36, 0x59, false)
        case .controlLeft: return (0x1D, 0x14, false)
        case .metaLeft: return (0x5B, 0x1F, true)
        case .altLeft: return (0x38, 0x11, false)
        case .space: return (0x39, 0x29, false)
        case .altRight: return (0x38, 0x11, true)
        case .metaRight: return (0x5C, 0x27, true)
        case .contextMenu: return (0x5D, 0x2F, true)
        case .controlRight: return (0x1D, 0x14, true)
        case .printScreen: return (0x37, 0x7C, true)
        case .scrollLock: return (0x46, 0x7E, false)
        case .pause: return (0x45, 0x77, false)
        case .insert: return (0x52, 0x70, true)
        case .home: return (0x47, 0x6C, true)
        case .pageUp: return (0x49, 0x7D, true)
        case .delete: return (0x53, 0x71, true)
        case .end: return (0x4F, 0x69, true)
        case .pageDown: return (0x51, 0x7A, true)
        case .arrowUp: return (0x48, 0x75, true)
        case .arrowLeft: return (0x4B, 0x6B, true)
        case .arrowDown: return (0x50, 0x72, true)
        case .arrowRight: return (0x4D, 0x74, true)
        case .numLock: return (0x45, 0x77, false)
        case .numpadDivide: return (0x35, 0x4A, true)
        case .numpadMultiply: return (0x37, 0x7C, false)
        case .numpadSubtract: return (0x4A, 0x7B, false)
        case .numpadAdd: return (0x4E, 0x79, false)
        case .numpadEnter: return (0x1C, 0x5A, true)
        case .numpadDecimal: return (0x53, 0x71, false)
        case .numpad0: return (0x52, 0x70, false)
        case .numpad1: return (0x4F, 0x69, false)
        case .numpad2: return (0x50, 0x72, false)
        case .numpad3: return (0x51, 0x7A, false)
        case .numpad4: return (0x4B, 0x6B, false)
        case .numpad5: return (0x4C, 0x73, false)
        case .numpad6: return (0x4D, 0x74, false)
        case .numpad7: return (0x47, 0x6C, false)
        case .numpad8: return (0x48, 0x75, false)
        case .numpad9: return (0x49, 0x7D, false)
        case .intlRo: return (0x73, 0x51, false)
        case .intlYen: return (0x7D, 0x6A, false)
        case .convert: return (0x79, 0x64, false)
        case .nonConvert: return (0x7B, 0x67, false)
        case .kanaMode: return (0x70, 0x13, false)
        }
    }

    /// The bytes the key sends in `set` (1 or 2) when pressed or released
    /// with `modifiers` held. Pause (and Break) send their whole sequence on
    /// press and nothing on release.
    func sequence(set: Int, pressed: Bool, modifiers: Modifiers = []) -> [UInt8] {
        let (set1, set2, extended) = codes
        let prefix = PS2Key.extendedPrefix, breakPrefix = PS2Key.set2BreakPrefix, breakBit = PS2Key.set1BreakBit
        switch self {
        case .pause:
            guard pressed else { return [] }
            if modifiers.contains(.control) { return set == 1 ? PS2Key.breakSet1 : PS2Key.breakSet2 }
            return set == 1 ? [0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5] : [0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77]
        case .printScreen:
            if modifiers.contains(.alt) {
                if set == 1 { return [pressed ? PS2Key.sysRqSet1 : PS2Key.sysRqSet1 | breakBit] }
                return pressed ? [PS2Key.sysRqSet2] : [breakPrefix, PS2Key.sysRqSet2]
            }
            if !modifiers.isDisjoint(with: [.shift, .control]) {
                // The key alone: the system already sees a shift or control held.
                if set == 1 { return [prefix, pressed ? set1 : set1 | breakBit] }
                return pressed ? [prefix, set2] : [prefix, breakPrefix, set2]
            }
            // A fake left shift around the key, as the enhanced keyboard sends it.
            let (shift1, shift2) = (PS2Key.shiftLeft.codes.set1, PS2Key.shiftLeft.codes.set2)
            if set == 1 {
                return pressed ? [prefix, shift1, prefix, set1] : [prefix, set1 | breakBit, prefix, shift1 | breakBit]
            }
            return pressed ? [prefix, shift2, prefix, set2] : [prefix, breakPrefix, set2, prefix, breakPrefix, shift2]
        default:
            var bytes: [UInt8] = extended ? [prefix] : []
            if set == 1 {
                bytes.append(pressed ? set1 : set1 | breakBit)
            } else {
                if !pressed { bytes.append(breakPrefix) }
                bytes.append(set2)
            }
            return bytes
        }
    }
}
