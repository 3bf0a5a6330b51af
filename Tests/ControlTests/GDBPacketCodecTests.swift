import Control
import XCTest

/// The remote protocol's framing, with packets as gdb writes them (their
/// checksums taken from gdb's own `set debug remote 1` output).
final class GDBPacketCodecTests: XCTestCase {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func testPacketsAcksAndInterrupts() {
        var decoder = GDBPacketDecoder()
        XCTAssertEqual(decoder.feed(bytes("+$vCont?#49")), [.ack, .packet(bytes("vCont?"))])
        XCTAssertEqual(decoder.feed(bytes("$qsThreadInfo#c8-")), [.packet(bytes("qsThreadInfo")), .nack])
        XCTAssertEqual(decoder.feed([0x03]), [.interrupt])
        // Upper-case checksum digits are accepted too; noise between packets is ignored.
        XCTAssertEqual(decoder.feed(bytes("xyz$Z0,7c00,1#0D")), [.packet(bytes("Z0,7c00,1"))])
    }

    func testAPacketSplitAcrossReads() {
        var decoder = GDBPacketDecoder()
        var events: [GDBPacketDecoder.Event] = []
        for byte in bytes("$mfff0,1#2c") { events += decoder.feed([byte]) }
        XCTAssertEqual(events, [.packet(bytes("mfff0,1"))])
    }

    func testBadChecksumsAndOverlongPackets() {
        var decoder = GDBPacketDecoder()
        XCTAssertEqual(decoder.feed(bytes("$g#00")), [.badChecksum])
        XCTAssertEqual(decoder.feed(bytes("$g#zz")), [.badChecksum])
        // The decoder is not stuck after a bad one.
        XCTAssertEqual(decoder.feed(bytes("$g#67")), [.packet(bytes("g"))])
        let long = [UInt8](repeating: UInt8(ascii: "a"), count: GDBPacketDecoder.maximumPayload + 1)
        var sum: UInt8 = 0
        for byte in long { sum &+= byte }
        let checksum = String(sum, radix: 16)
        XCTAssertEqual(decoder.feed([UInt8(ascii: "$")] + long + bytes("#" + (checksum.count == 1 ? "0" : "") + checksum)), [.tooLong])
        // A '$' inside a packet starts a new one.
        XCTAssertEqual(decoder.feed(bytes("$abc$g#67")), [.packet(bytes("g"))])
    }

    func testFramingAndEscapes() {
        XCTAssertEqual(GDBPacketEncoder.frame("OK"), bytes("$OK#9a"))
        XCTAssertEqual(GDBPacketEncoder.frame(""), bytes("$#00"))
        let awkward: [UInt8] = [0x23, 0x24, 0x7D, 0x2A, 0x00, 0x41]
        let escaped = GDBPacketEncoder.escape(awkward)
        XCTAssertEqual(escaped, [0x7D, 0x03, 0x7D, 0x04, 0x7D, 0x5D, 0x7D, 0x0A, 0x00, 0x41])
        XCTAssertEqual(GDBPacketEncoder.unescape(escaped), awkward)
        XCTAssertNil(GDBPacketEncoder.unescape([0x41, 0x7D]), "ends inside an escape")
        // Whatever the payload, what is framed decodes back to it.
        var decoder = GDBPacketDecoder()
        for _ in 0..<200 {
            let payload = (0..<Int.random(in: 0...64)).map { _ in UInt8.random(in: 0...255) }
            let framed = GDBPacketEncoder.frame(GDBPacketEncoder.escape(payload))
            guard case let .packet(received)? = decoder.feed(framed).first else { return XCTFail("no packet for \(payload)") }
            XCTAssertEqual(GDBPacketEncoder.unescape(received), payload)
        }
    }

    func testHexadecimal() {
        XCTAssertEqual(GDBHex.number(bytes("7c00")), 0x7C00)
        XCTAssertEqual(GDBHex.number(bytes("FFFFffff")), 0xFFFF_FFFF)
        XCTAssertNil(GDBHex.number(bytes("")))
        XCTAssertNil(GDBHex.number(bytes("12g")))
        XCTAssertNil(GDBHex.number(bytes("11112222333344445")), "more than 64 bits")
        XCTAssertEqual(GDBHex.decode(bytes("55aa00")), [0x55, 0xAA, 0x00])
        XCTAssertNil(GDBHex.decode(bytes("5")))
        XCTAssertNil(GDBHex.decode(bytes("5x")))
        XCTAssertEqual(GDBHex.encode([0x0F, 0xF0]), "0ff0")
        XCTAssertEqual(GDBHex.littleEndian(0xFFF0, bytes: 4), "f0ff0000")
    }
}
