@testable import Devices
import XCTest
@testable import Machine

/// The frame hand-off between the CPU thread and the window: a frame of the
/// same size is copied by its changed lines, and the window learns which
/// lines changed since it last looked, however many frames came meanwhile.
final class DisplayOutputTests: XCTestCase {
    func testChangedLinesAreCopiedAndGatheredForTheWindow() throws {
        let frame = DisplayFrame()
        frame.width = 4
        frame.height = 10
        frame.pixels.update(repeating: 1, count: 40)
        frame.changedLines = 0..<10
        let output = DisplayOutput()
        output.publish(frame)
        var seen = output.withChangedFrame(newerThan: -1) { pixels, width, height, lines in
            XCTAssertEqual(lines, 0..<10, "a first frame is new throughout")
            XCTAssertEqual((0..<40).map { pixels[$0] }, [UInt32](repeating: 1, count: 40))
        }

        (frame.pixels + 2 * 4).update(repeating: 2, count: 4)
        frame.changedLines = 2..<3
        output.publish(frame)
        (frame.pixels + 7 * 4).update(repeating: 3, count: 8)
        frame.changedLines = 7..<9
        output.publish(frame)
        var calls = 0
        seen = output.withChangedFrame(newerThan: seen) { pixels, _, _, lines in
            calls += 1
            XCTAssertEqual(lines, 2..<9, "both frames' lines, since the window looked last")
            XCTAssertEqual((0..<40).map { pixels[$0] }, (0..<10).flatMap { line -> [UInt32] in
                [UInt32](repeating: line == 2 ? 2 : line == 7 || line == 8 ? 3 : 1, count: 4)
            })
        }
        XCTAssertEqual(calls, 1)
        output.withChangedFrame(newerThan: seen) { _, _, _, _ in XCTFail("no new frame") }

        // Lines the renderer did not report are not copied: the output keeps what it had.
        frame.pixels.update(repeating: 9, count: 40)
        frame.changedLines = 0..<1
        output.publish(frame)
        output.withFrame(newerThan: -1) { pixels, _, _ in
            XCTAssertEqual(pixels[0], 9)
            XCTAssertEqual(pixels[4], 1)
        }
        // A new size is copied whole.
        frame.width = 5
        frame.height = 8
        frame.changedLines = 0..<1
        output.publish(frame)
        output.withChangedFrame(newerThan: seen) { pixels, width, _, lines in
            XCTAssertEqual(width, 5)
            XCTAssertEqual(lines, 0..<8)
            XCTAssertEqual(pixels[39], 9)
        }
    }
}
