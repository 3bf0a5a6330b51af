import Glibc
import Machine

/// QMP's keyboard and mouse input: send-key (a key combination, pressed and
/// released) and input-send-event (keys down and up, buttons, relative and
/// absolute motion), reaching the guest's keyboard and mouse as the window's
/// input does.
final class QMPInput {
    /// QEMU's absolute axis range: 0 is the screen's left or top edge, this the other.
    static let absoluteMaximum = 0x7FFF

    let control: MachineControl
    /// The buttons held, as the last input-send-event left them.
    private var buttons: PCMachine.MouseButtons = []
    /// The absolute position last sent (the middle of the screen at first).
    private var absolute = (x: 0x4000, y: 0x4000)

    init(control: MachineControl) { self.control = control }

    /// send-key {keys: [{type: qcode, data: NAME}...], hold-time: ms}.
    func sendKey(_ arguments: QMPArguments) throws(QMPError) {
        let keys = try arguments.array("keys")
        guard !keys.isEmpty else { throw .generic("Parameter 'keys' is empty") }
        var usages: [Int] = []
        for key in keys { usages.append(try QMPInput.usage(ofKeyValue: key, member: "keys")) }
        let hold = try arguments.optionalInt("hold-time") ?? 100
        guard (0...10_000).contains(hold) else { throw .generic("Parameter 'hold-time' must be 0 to 10000 ms") }
        control.pressKeys(usages, holdMilliseconds: hold)
    }

    /// input-send-event {events: [{type: key|btn|rel|abs, data: {...}}]}:
    /// all are checked before any is sent; keys go at once, in order, and
    /// the mouse's motion, wheel and buttons as one report at the end, as
    /// QEMU's input layer syncs them.
    func sendEvents(_ arguments: QMPArguments) throws(QMPError) {
        if let head = try arguments.optionalInt("head"), head != 0 { throw .generic("Head '\(head)' does not exist") }
        _ = try arguments.optionalString("device")
        var keys: [(usage: Int, down: Bool)] = []
        var newButtons = buttons
        var relative = (dx: 0, dy: 0, wheel: 0)
        var newAbsolute = absolute
        var moved = (relative: false, absolute: false, buttons: false)
        for item in try arguments.array("events") {
            guard let object = item as? [String: Any] else { throw .generic("Invalid parameter type for 'events', expected: object") }
            let event = QMPArguments(values: object)
            try event.allowOnly(["type", "data"])
            let data = try event.object("data")
            switch try event.string("type") {
            case "key":
                try data.allowOnly(["down", "key"])
                guard let key = data.values["key"] else { throw QMPArguments.missing("key") }
                keys.append((try QMPInput.usage(ofKeyValue: key, member: "key"), try data.bool("down")))
            case "btn":
                try data.allowOnly(["down", "button"])
                let down = try data.bool("down")
                switch try data.string("button") {
                case "left": newButtons.formSet(.left, down)
                case "right": newButtons.formSet(.right, down)
                case "middle": newButtons.formSet(.middle, down)
                // A wheel click is its press; QEMU's release of it moves nothing.
                case "wheel-up": if down { relative.wheel += 1 }
                case "wheel-down": if down { relative.wheel -= 1 }
                case let other: throw .generic("Parameter 'button' does not accept value '\(other)'")
                }
                moved.buttons = true
            case "rel":
                try data.allowOnly(["axis", "value"])
                let value = try data.int("value")
                guard abs(value) <= 0x7FFF else { throw .generic("Parameter 'value' is out of range") }
                switch try data.string("axis") {
                case "x": relative.dx += value
                case "y": relative.dy += value
                case let other: throw .generic("Parameter 'axis' does not accept value '\(other)'")
                }
                moved.relative = true
            case "abs":
                try data.allowOnly(["axis", "value"])
                let value = min(max(try data.int("value"), 0), QMPInput.absoluteMaximum)
                switch try data.string("axis") {
                case "x": newAbsolute.x = value
                case "y": newAbsolute.y = value
                case let other: throw .generic("Parameter 'axis' does not accept value '\(other)'")
                }
                moved.absolute = true
            case let other:
                throw .generic("Parameter 'type' does not accept value '\(other)'")
            }
        }
        let machine = control.machine
        for key in keys { machine.keyChanged(hidUsage: key.usage, pressed: key.down) }
        buttons = newButtons
        absolute = newAbsolute
        // Buttons and wheel go with the pointer the guest follows: a USB tablet if there is one.
        let tablet = machine.hasAbsolutePointer
        if moved.absolute || (moved.buttons && tablet) {
            machine.pointerMovedAbsolute(x: absolute.x, y: absolute.y, wheel: relative.wheel, buttons: buttons)
            relative.wheel = 0
        }
        if moved.relative || (moved.buttons && !tablet) {
            machine.mouseMoved(dx: relative.dx, dy: relative.dy, wheel: relative.wheel, buttons: buttons)
        }
    }

    /// A KeyValue, `{type: qcode, data: NAME}`, as a USB HID usage.
    static func usage(ofKeyValue value: Any, member: String) throws(QMPError) -> Int {
        guard let object = value as? [String: Any] else { throw .generic("Invalid parameter type for '\(member)', expected: object") }
        let key = QMPArguments(values: object)
        try key.allowOnly(["type", "data"])
        switch try key.string("type") {
        case "qcode":
            let name = try key.string("data")
            guard let usage = QEMUKeyNames.usages[name] else { throw .generic("Parameter 'data' does not accept value '\(name)'") }
            return usage
        case "number":
            throw .generic("Keys by scancode number are not built: use {\"type\": \"qcode\", \"data\": NAME}")
        case let other:
            throw .generic("Parameter 'type' does not accept value '\(other)'")
        }
    }
}

private extension PCMachine.MouseButtons {
    mutating func formSet(_ button: PCMachine.MouseButtons, _ down: Bool) {
        if down { insert(button) } else { remove(button) }
    }
}
