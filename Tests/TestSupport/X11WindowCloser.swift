import Foundation

/// Asks an X window to close the way a window manager's close button does: a
/// WM_PROTOCOLS client message carrying WM_DELETE_WINDOW (Xvfb runs no window
/// manager, and xdotool's windowclose destroys the window instead). libX11 is
/// opened at run time so tests need no X headers.
public enum X11WindowCloser {
    typealias OpenDisplay = @convention(c) (UnsafePointer<CChar>?) -> OpaquePointer?
    typealias InternAtom = @convention(c) (OpaquePointer?, UnsafePointer<CChar>, Int32) -> UInt
    typealias SendEvent = @convention(c) (OpaquePointer?, UInt, Int32, Int, UnsafeMutableRawPointer) -> Int32
    typealias DisplayCall = @convention(c) (OpaquePointer?) -> Int32

    /// XClientMessageEvent on LP64: type, serial, send_event, display, window,
    /// message_type, format, then data.l[5]; XEvent is 24 longs.
    static let clientMessage: Int32 = 33
    static let eventSize = 24 * 8

    public static func close(window: UInt, display: String) throws {
        guard let library = dlopen("libX11.so.6", RTLD_NOW) else { throw TestSetupError("cannot open libX11.so.6") }
        defer { dlclose(library) }
        func symbol<T>(_ name: String, as: T.Type) throws -> T {
            guard let pointer = dlsym(library, name) else { throw TestSetupError("libX11 has no \(name)") }
            return unsafeBitCast(pointer, to: T.self)
        }
        let openDisplay = try symbol("XOpenDisplay", as: OpenDisplay.self)
        let internAtom = try symbol("XInternAtom", as: InternAtom.self)
        let sendEvent = try symbol("XSendEvent", as: SendEvent.self)
        let flush = try symbol("XFlush", as: DisplayCall.self)
        let closeDisplay = try symbol("XCloseDisplay", as: DisplayCall.self)
        guard let connection = openDisplay(display) else { throw TestSetupError("cannot open X display \(display)") }
        defer { _ = closeDisplay(connection) }
        let protocols = internAtom(connection, "WM_PROTOCOLS", 0)
        let deleteWindow = internAtom(connection, "WM_DELETE_WINDOW", 0)
        let event = UnsafeMutableRawPointer.allocate(byteCount: eventSize, alignment: 8)
        defer { event.deallocate() }
        event.initializeMemory(as: UInt8.self, repeating: 0, count: eventSize)
        event.storeBytes(of: clientMessage, toByteOffset: 0, as: Int32.self)
        event.storeBytes(of: window, toByteOffset: 32, as: UInt.self)
        event.storeBytes(of: protocols, toByteOffset: 40, as: UInt.self)
        event.storeBytes(of: Int32(32), toByteOffset: 48, as: Int32.self)
        event.storeBytes(of: deleteWindow, toByteOffset: 56, as: UInt.self)
        guard sendEvent(connection, window, 0, 0, event) != 0 else { throw TestSetupError("XSendEvent failed") }
        _ = flush(connection)
    }
}
