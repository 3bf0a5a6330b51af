import CSDL2
import PCEmuSupport

/// The window the guest's screen is shown in. SDL wants one thread for all of
/// this: the main thread. Frames come in as 32-bit XRGB pixels.
public final class SDLWindow {
    private let window: OpaquePointer
    private let renderer: OpaquePointer
    private var texture: OpaquePointer?
    public private(set) var frameWidth: Int32 = 0
    public private(set) var frameHeight: Int32 = 0

    /// Opens a window; throws with SDL's reason when there is no display.
    public init(title: String, width: Int32, height: Int32) throws {
        // The software renderer draws into the window's own surface, shown
        // through MIT-SHM. Left alone, SDL would put that surface in an OpenGL
        // texture, which without a GPU is Mesa's llvmpipe: threads and a
        // second copy of every frame for nothing.
        SDL_SetHint("SDL_FRAMEBUFFER_ACCELERATION", "0")
        if SDL_WasInit(SDL_INIT_VIDEO) == 0 {
            guard SDL_InitSubSystem(SDL_INIT_VIDEO) == 0 else {
                throw EmulatorError.configuration("cannot open the SDL display: \(SDLWindow.lastError)")
            }
        }
        let centered = Int32(SDL_WINDOWPOS_CENTERED_MASK)
        guard let window = SDL_CreateWindow(title, centered, centered, width, height,
                                            SDL_WINDOW_RESIZABLE.rawValue | SDL_WINDOW_SHOWN.rawValue) else {
            throw EmulatorError.configuration("cannot open a window: \(SDLWindow.lastError)")
        }
        // Software rendering works on every X server, Xvfb included.
        guard let renderer = SDL_CreateRenderer(window, -1, SDL_RENDERER_SOFTWARE.rawValue)
                ?? SDL_CreateRenderer(window, -1, 0) else {
            SDL_DestroyWindow(window)
            throw EmulatorError.configuration("cannot create a renderer: \(SDLWindow.lastError)")
        }
        self.window = window
        self.renderer = renderer
    }

    deinit {
        if let texture { SDL_DestroyTexture(texture) }
        SDL_DestroyRenderer(renderer)
        SDL_DestroyWindow(window)
    }

    public var title: String {
        get { String(cString: SDL_GetWindowTitle(window)) }
        set { SDL_SetWindowTitle(window, newValue) }
    }

    var windowHandle: OpaquePointer { window }

    /// The X11 window id, so tests can find the window with xdotool/xwininfo.
    public var windowID: UInt32 { SDL_GetWindowID(window) }

    /// Shows one frame, scaled to the window with its aspect ratio kept: the
    /// renderer's logical size is the frame's, so SDL letterboxes it (black
    /// bars) when the window's shape differs.
    /// Only `lines` (all when nil) changed since the last frame of this size.
    public func present(pixels: UnsafeRawPointer, width: Int32, height: Int32, pitch: Int32, lines: Range<Int32>? = nil) throws {
        var lines = lines ?? 0..<height
        if texture == nil || width != frameWidth || height != frameHeight {
            lines = 0..<height
            SDL_RenderSetLogicalSize(renderer, width, height)
            if let texture { SDL_DestroyTexture(texture) }
            texture = SDL_CreateTexture(renderer, SDL_PIXELFORMAT_XRGB8888.rawValue,
                                        Int32(SDL_TEXTUREACCESS_STREAMING.rawValue), width, height)
            guard texture != nil else { throw EmulatorError.configuration("cannot create a texture: \(SDLWindow.lastError)") }
            frameWidth = width
            frameHeight = height
        }
        lines = lines.clamped(to: 0..<height)
        if !lines.isEmpty {
            var rect = SDL_Rect(x: 0, y: lines.lowerBound, w: width, h: Int32(lines.count))
            SDL_UpdateTexture(texture, &rect, pixels + Int(lines.lowerBound) * Int(pitch), pitch)
        }
        redraw()
    }

    /// Shows the last frame again (the window was exposed or resized).
    public func redraw() {
        guard let texture else { return }
        SDL_SetRenderDrawColor(renderer, 0, 0, 0, 255)
        SDL_RenderClear(renderer)
        SDL_RenderCopy(renderer, texture, nil, nil)
        SDL_RenderPresent(renderer)
    }

    /// Full screen on the desktop's resolution, or back to a window.
    public var isFullScreen: Bool {
        get { SDL_GetWindowFlags(window) & SDL_WINDOW_FULLSCREEN_DESKTOP.rawValue == SDL_WINDOW_FULLSCREEN_DESKTOP.rawValue }
        set { SDL_SetWindowFullscreen(window, newValue ? SDL_WINDOW_FULLSCREEN_DESKTOP.rawValue : 0) }
    }

    /// Reads back what the window shows, as XRGB rows (for tests).
    public func readPixels() -> (width: Int32, height: Int32, pixels: [UInt32]) {
        // The whole window, bars included: without a logical size the viewport is all of it.
        SDL_RenderSetLogicalSize(renderer, 0, 0)
        defer { SDL_RenderSetLogicalSize(renderer, frameWidth, frameHeight) }
        var width: Int32 = 0, height: Int32 = 0
        SDL_GetRendererOutputSize(renderer, &width, &height)
        var pixels = [UInt32](repeating: 0, count: Int(width * height))
        pixels.withUnsafeMutableBytes { buffer in
            _ = SDL_RenderReadPixels(renderer, nil, SDL_PIXELFORMAT_XRGB8888.rawValue, buffer.baseAddress, width * 4)
        }
        return (width, height, pixels)
    }

    /// Drains SDL's queue; true if the user asked to close the window.
    public func pumpEvents() -> Bool {
        var event = SDL_Event()
        var quit = false
        while SDL_PollEvent(&event) != 0 {
            if event.type == SDL_QUIT.rawValue { quit = true }
        }
        return quit
    }

    /// Closes SDL's video (its X connection) once every window is gone, so a
    /// later window may open on another X server (tests start one each).
    public static func closeVideo() {
        if SDL_WasInit(SDL_INIT_VIDEO) != 0 { SDL_QuitSubSystem(SDL_INIT_VIDEO) }
    }

    static var lastError: String { String(cString: SDL_GetError()) }
}
