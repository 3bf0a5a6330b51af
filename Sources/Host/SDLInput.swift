import CSDL2

/// What the user did in the window, in host-neutral terms: keys by USB HID
/// usage (SDL's scancode numbering), mouse motion, buttons, wheel.
public enum WindowEvent: Equatable {
    case key(usage: Int, pressed: Bool)
    /// Relative motion in window pixels, and where the pointer now is over
    /// the frame, in the frame's pixels (SDL maps window coordinates to the
    /// renderer's logical size, the frame's: the letterbox lies outside
    /// 0..<width and 0..<height).
    case mouseMotion(dx: Int, dy: Int, x: Int, y: Int)
    /// 1 left, 2 middle, 3 right (SDL's numbering), at (x, y) over the frame as for motion.
    case mouseButton(button: Int, pressed: Bool, x: Int, y: Int)
    case wheel(Int)
    /// Text typed, as the host's keyboard layout makes it (UTF-8), beside
    /// the key events that made it; for the window's own consoles.
    case text([UInt8])
    /// The window needs drawing again (exposed, resized).
    case exposed
    case focusLost
    case close
}

extension SDLWindow {
    /// Drains SDL's queue into window events.
    public func pollEvents() -> [WindowEvent] {
        var events: [WindowEvent] = []
        var event = SDL_Event()
        while SDL_PollEvent(&event) != 0 {
            switch event.type {
            case SDL_QUIT.rawValue:
                events.append(.close)
            case SDL_KEYDOWN.rawValue, SDL_KEYUP.rawValue:
                events.append(.key(usage: Int(event.key.keysym.scancode.rawValue), pressed: event.type == SDL_KEYDOWN.rawValue))
            case SDL_MOUSEMOTION.rawValue:
                events.append(.mouseMotion(dx: Int(event.motion.xrel), dy: Int(event.motion.yrel),
                                           x: Int(event.motion.x), y: Int(event.motion.y)))
            case SDL_MOUSEBUTTONDOWN.rawValue, SDL_MOUSEBUTTONUP.rawValue:
                events.append(.mouseButton(button: Int(event.button.button), pressed: event.type == SDL_MOUSEBUTTONDOWN.rawValue,
                                           x: Int(event.button.x), y: Int(event.button.y)))
            case SDL_MOUSEWHEEL.rawValue:
                events.append(.wheel(Int(event.wheel.y)))
            case SDL_TEXTINPUT.rawValue:
                let bytes = withUnsafeBytes(of: event.text.text) { Array($0.prefix { $0 != 0 }) }
                if !bytes.isEmpty { events.append(.text(bytes)) }
            case SDL_WINDOWEVENT.rawValue:
                switch UInt32(event.window.event) {
                case SDL_WINDOWEVENT_EXPOSED.rawValue, SDL_WINDOWEVENT_SIZE_CHANGED.rawValue: events.append(.exposed)
                case SDL_WINDOWEVENT_FOCUS_LOST.rawValue: events.append(.focusLost)
                case SDL_WINDOWEVENT_CLOSE.rawValue: events.append(.close)
                default: break
                }
            default:
                break
            }
        }
        return events
    }

    /// Pointer grab: the pointer is hidden and held in the window, and motion
    /// arrives as relative deltas.
    public func setPointerGrab(_ grabbed: Bool) {
        SDL_SetRelativeMouseMode(grabbed ? SDL_TRUE : SDL_FALSE)
    }

    /// Text events (`.text`) from here on, as the keyboard layout makes them.
    public func startTextInput() {
        SDL_StartTextInput()
    }

    /// Makes the window's client area this size (the guest changed mode).
    public func resize(width: Int32, height: Int32) {
        SDL_SetWindowSize(windowHandle, width, height)
    }

    /// Waits up to `milliseconds` for an event without taking it. SDL waits
    /// on the X connection itself: no polling.
    public func waitForEvent(milliseconds: Int32) {
        _ = SDL_WaitEventTimeout(nil, milliseconds)
    }

    /// Thread-safe: ends a `waitForEvent` under way (or the next one) at once.
    public static func wakeEventWait() {
        var event = SDL_Event()
        event.type = SDL_USEREVENT.rawValue
        _ = SDL_PushEvent(&event)
    }
}
