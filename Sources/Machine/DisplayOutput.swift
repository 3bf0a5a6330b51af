import Devices
import PCEmuSupport
import Foundation

/// The hand-off between the CPU thread, which renders the guest's screen, and
/// the display (the SDL main thread, or a screendump): the CPU thread copies a
/// finished frame in under the lock, the display copies or shows the newest
/// one under the same lock. Neither touches the other's buffers.
public final class DisplayOutput {
    private let lock = NSLock()
    private let pixels: UnsafeMutablePointer<UInt32>
    private var width = 0
    private var height = 0
    /// Bumped by each published frame.
    private var generation = 0
    /// The lines published since the display last took the frame.
    private var unshownLines: Range<Int> = 0..<0

    init() {
        // Only the part a published frame covers is touched (and read).
        pixels = .allocate(capacity: DisplayFrame.maximumWidth * DisplayFrame.maximumHeight)
    }

    deinit { pixels.deallocate() }

    /// CPU thread: publishes a copy of `frame` (of its changed lines, when
    /// its size is the one published before).
    func publish(_ frame: DisplayFrame) {
        lock.lock()
        defer { lock.unlock() }
        var lines = 0..<frame.height
        if frame.width == width && frame.height == height { lines = frame.changedLines.clamped(to: lines) }
        width = frame.width
        height = frame.height
        let start = lines.lowerBound * width
        (pixels + start).update(from: frame.pixels + start, count: lines.count * width)
        unshownLines = unshownLines.isEmpty ? lines
            : min(unshownLines.lowerBound, lines.lowerBound)..<max(unshownLines.upperBound, lines.upperBound)
        generation &+= 1
    }

    /// Any thread: runs `body` with the newest frame if it is newer than `seen`
    /// (pass -1 for any); returns the generation seen. `body` runs under the lock: keep it short.
    @discardableResult
    public func withFrame(newerThan seen: Int, _ body: (UnsafePointer<UInt32>, _ width: Int, _ height: Int) -> Void) -> Int {
        lock.lock()
        defer { lock.unlock() }
        if generation != seen && width > 0 && height > 0 { body(pixels, width, height) }
        return generation
    }

    /// The display thread: like `withFrame`, and also the lines published
    /// since its last call, for a display that keeps the frame it showed.
    @discardableResult
    public func withChangedFrame(newerThan seen: Int,
                                 _ body: (UnsafePointer<UInt32>, _ width: Int, _ height: Int, _ lines: Range<Int>) -> Void) -> Int {
        lock.lock()
        defer { lock.unlock() }
        if generation != seen && width > 0 && height > 0 {
            body(pixels, width, height, unshownLines.clamped(to: 0..<height))
            unshownLines = 0..<0
        }
        return generation
    }
}

/// Writes XRGB pixels as a binary PPM (P6), the format of QEMU's screendump.
public enum PPMWriter {
    public static func write(_ pixels: UnsafePointer<UInt32>, width: Int, height: Int, to path: String) throws {
        var data = Data("P6\n\(width) \(height)\n255\n".utf8)
        data.reserveCapacity(data.count + width * height * 3)
        for i in 0..<width * height {
            let pixel = pixels[i]
            data.append(UInt8(truncatingIfNeeded: pixel >> 16))
            data.append(UInt8(truncatingIfNeeded: pixel >> 8))
            data.append(UInt8(truncatingIfNeeded: pixel))
        }
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw EmulatorError.configuration("cannot write the screendump \(path): \(error.localizedDescription)")
        }
    }
}
