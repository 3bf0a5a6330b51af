/// The key names of QEMU's `sendkey` (its QKeyCode names, as typed in the
/// monitor), by USB HID usage (keyboard page 0x07), which the machine's
/// keyboards take.
enum QEMUKeyNames {
    static let usages: [String: Int] = {
        var table: [String: Int] = [:]
        for (index, letter) in "abcdefghijklmnopqrstuvwxyz".enumerated() { table[String(letter)] = 0x04 + index }
        for digit in 1...9 { table[String(digit)] = 0x1E + digit - 1 }
        table["0"] = 0x27
        for number in 1...12 { table["f\(number)"] = 0x3A + number - 1 }
        for digit in 1...9 { table["kp_\(digit)"] = 0x59 + digit - 1 }
        table["kp_0"] = 0x62
        let named: [(String, Int)] = [
            ("ret", 0x28), ("esc", 0x29), ("backspace", 0x2A), ("tab", 0x2B), ("spc", 0x2C), ("minus", 0x2D),
            ("equal", 0x2E), ("bracket_left", 0x2F), ("bracket_right", 0x30), ("backslash", 0x31),
            ("semicolon", 0x33), ("apostrophe", 0x34), ("grave_accent", 0x35), ("comma", 0x36), ("dot", 0x37),
            ("slash", 0x38), ("caps_lock", 0x39), ("print", 0x46), ("sysrq", 0x46), ("scroll_lock", 0x47),
            ("pause", 0x48), ("insert", 0x49), ("home", 0x4A), ("pgup", 0x4B), ("delete", 0x4C), ("end", 0x4D),
            ("pgdn", 0x4E), ("right", 0x4F), ("left", 0x50), ("down", 0x51), ("up", 0x52), ("num_lock", 0x53),
            ("kp_divide", 0x54), ("kp_multiply", 0x55), ("kp_subtract", 0x56), ("kp_add", 0x57), ("kp_enter", 0x58),
            ("kp_decimal", 0x63), ("less", 0x64), ("menu", 0x65),
            ("ctrl", 0xE0), ("shift", 0xE1), ("alt", 0xE2), ("meta_l", 0xE3),
            ("ctrl_r", 0xE4), ("shift_r", 0xE5), ("alt_r", 0xE6), ("meta_r", 0xE7),
        ]
        for (name, usage) in named { table[name] = usage }
        return table
    }()

    /// "ctrl-alt-delete" as usages in the order they go down; nil names the unknown key.
    static func parse(_ combination: String) -> (usages: [Int], unknown: String?) {
        var result: [Int] = []
        for name in combination.split(separator: "-", omittingEmptySubsequences: false).map(String.init) {
            if let usage = usages[name] {
                result.append(usage)
            } else {
                return ([], name)
            }
        }
        return (result, nil)
    }
}
