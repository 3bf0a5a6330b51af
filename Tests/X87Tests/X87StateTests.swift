import X87
import XCTest

final class X87StateTests: XCTestCase {
    func testRegisterSlotsAreSixteenBytesApart() {
        XCTAssertEqual(MemoryLayout<X87Register>.size, 10)
        XCTAssertEqual(MemoryLayout<X87Register>.stride, 16)
        var state = X87State()
        state[physical: 5] = X87Register(significand: 0x8000_0000_0000_0001, signExponent: 0x3FFF)
        XCTAssertEqual(state.registers.5.significand, 0x8000_0000_0000_0001)
    }

    /// FSTENV/FLDENV and FSAVE/FRSTOR round-trip in every layout.
    func testEnvironmentLayoutsRoundTrip() {
        for layout in [X87EnvironmentLayout.real16, .protected16, .real32, .protected32] {
            var state = X87State()
            state.loadControlWord(0x0A7F)
            state.load(.pi)
            state.load(.one)
            state.recordInstruction(opcode: 0x1E8, ip: layout == .real16 ? 0xF_1234 : 0x1234_5678, cs: 0x1B,
                                    dataPointer: layout == .real16 ? 0xA_BCDE : 0x9ABC_DEF0, ds: 0x23)
            var image = [UInt8](repeating: 0, count: 108)
            let before = state
            image.withUnsafeMutableBytes { state.save(layout, to: $0.baseAddress!) }
            XCTAssertEqual(state.controlWord, 0x037F, "FSAVE reinitializes")
            image.withUnsafeBytes { state.restore(layout, from: $0.baseAddress!) }
            XCTAssertEqual(state.controlWord, before.controlWord, "\(layout)")
            XCTAssertEqual(state.statusWord, before.statusWord, "\(layout)")
            XCTAssertEqual(state.tagValid, before.tagValid, "\(layout)")
            XCTAssertEqual(state[st: 0], before[st: 0])
            XCTAssertEqual(state[st: 1], before[st: 1])
            let offsetMask: UInt32 = layout == .protected16 ? 0xFFFF : ~0  // 16-bit offsets only there
            XCTAssertEqual(state.fip, before.fip & offsetMask, "\(layout)")
            XCTAssertEqual(state.fdp, before.fdp & offsetMask, "\(layout)")
            if layout == .protected16 || layout == .protected32 {
                XCTAssertEqual(state.fcs, 0x1B)
                XCTAssertEqual(state.fds, 0x23)
            }
            if layout != .protected16 { XCTAssertEqual(state.fop, 0x1E8, "\(layout)") }
        }
    }

    func testPendingExceptionIsReported() {
        var state = X87State()
        state.loadControlWord(0x037E)  // IE unmasked
        var operand = X87Operand()
        let outcome = state.executeMemoryForm(escape: 1, reg: 3, operand: &operand)  // FSTP m32 of an empty ST(0)
        XCTAssertTrue(outcome.effects.contains(.exceptionPending))
        XCTAssertFalse(outcome.effects.contains(.storesMemory))
        XCTAssertTrue(state.hasPendingException)
        XCTAssertTrue(X87Encoding.isWaiting(escape: 1, modrm: 0xE8))
        XCTAssertFalse(X87Encoding.isWaiting(escape: 3, modrm: 0xE2))
        state.clearExceptions()
        XCTAssertFalse(state.hasPendingException)
    }
}
