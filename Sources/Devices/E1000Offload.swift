/// What the e1000's transmit offloads do to a frame, as pure functions on
/// its bytes: the Internet checksum inserted where a context descriptor
/// says, and TCP segmentation (TSO) of one large frame into MSS-sized ones.
/// Offsets come from the guest; every one is checked against the frame, and
/// an offset outside it leaves the frame as it is.
public enum E1000Offload {
    /// A context descriptor's fields (82540EM manual, 3.3.6).
    public struct Context: Equatable {
        /// IP checksum: start, where to store it, last byte (0: to the end of the header).
        public var ipStart = 0, ipOffset = 0, ipEnd = 0
        /// TCP/UDP checksum: start, where to store it, last byte (0: to the frame's end).
        public var transportStart = 0, transportOffset = 0, transportEnd = 0
        /// TSO: the TCP payload length to segment, the header length, the segment size.
        public var payloadLength = 0, headerLength = 0, segmentSize = 0
        /// TUCMD: TCP (else UDP), IPv4 (else IPv6), segmentation.
        public var isTCP = false, isIPv4 = false, segmentation = false

        public init() {}
    }

    /// The one's-complement sum of `bytes[start...end]` as big-endian words, folded.
    static func onesComplementSum(_ bytes: [UInt8], from start: Int, through end: Int, initial: UInt32 = 0) -> UInt16 {
        var sum = initial
        var index = start
        while index + 1 <= end {
            sum &+= UInt32(bytes[index]) << 8 | UInt32(bytes[index + 1])
            index += 2
        }
        if index == end { sum &+= UInt32(bytes[index]) << 8 }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) &+ (sum >> 16) }
        return UInt16(sum)
    }

    /// Sums `[start, end]` (`end` 0: the frame's last byte) and stores the complement
    /// at `offset`, as the checksum insertion of the legacy and the data descriptors does.
    public static func insertChecksum(_ frame: inout [UInt8], start: Int, offset: Int, end: Int) {
        let last = end == 0 ? frame.count - 1 : min(end, frame.count - 1)
        guard start < frame.count, start <= last, offset >= 0, offset + 1 < frame.count else { return }
        let checksum = ~onesComplementSum(frame, from: start, through: last)
        frame[offset] = UInt8(checksum >> 8)
        frame[offset + 1] = UInt8(truncatingIfNeeded: checksum)
    }

    static func word(_ frame: [UInt8], _ at: Int) -> UInt16 { UInt16(frame[at]) << 8 | UInt16(frame[at + 1]) }

    static func setWord(_ frame: inout [UInt8], _ at: Int, _ value: UInt16) {
        frame[at] = UInt8(value >> 8)
        frame[at + 1] = UInt8(truncatingIfNeeded: value)
    }

    /// Applies the offloads a data descriptor asked for to one whole frame.
    public static func applyChecksums(_ frame: inout [UInt8], context: Context, ipChecksum: Bool, transportChecksum: Bool) {
        if ipChecksum { insertChecksum(&frame, start: context.ipStart, offset: context.ipOffset, end: context.ipEnd) }
        if transportChecksum {
            insertChecksum(&frame, start: context.transportStart, offset: context.transportOffset, end: context.transportEnd)
        }
    }

    /// TSO: the header (`headerLength` bytes) followed by `payload`, cut into
    /// segments of at most `segmentSize` payload bytes, each with its own IP
    /// length and identification, TCP sequence number (or UDP length) and
    /// checksums. The driver left the pseudo-header sum without the length
    /// in the transport checksum field; each segment adds its own length.
    public static func segment(header: [UInt8], payload: [UInt8], context: Context,
                               ipChecksum: Bool, transportChecksum: Bool) -> [[UInt8]] {
        let mss = context.segmentSize
        let ip = context.ipStart, transport = context.transportStart
        // Fields the segments rewrite must lie inside the header.
        guard mss > 0, ip + 20 <= header.count || !context.isIPv4, ip + 8 <= header.count,
              transport + (context.isTCP ? 20 : 8) <= header.count else {
            return [header + payload]
        }
        var segments: [[UInt8]] = []
        var sent = 0
        let identification = context.isIPv4 ? word(header, ip + 4) : 0
        let sequence = context.isTCP ? UInt32(word(header, transport + 4)) << 16 | UInt32(word(header, transport + 6)) : 0
        let pseudoHeaderSum = word(header, min(context.transportOffset, header.count - 2))
        var index = 0
        repeat {
            let length = min(mss, payload.count - sent)
            var frame = header + payload[sent..<(sent + length)]
            let last = sent + length >= payload.count
            if context.isIPv4 {
                setWord(&frame, ip + 2, UInt16(truncatingIfNeeded: frame.count - ip))
                setWord(&frame, ip + 4, identification &+ UInt16(truncatingIfNeeded: index))
            } else {
                // IPv6: the payload length excludes the 40-byte header.
                setWord(&frame, ip + 4, UInt16(truncatingIfNeeded: frame.count - ip - 40))
            }
            if context.isTCP {
                let seq = sequence &+ UInt32(sent)
                setWord(&frame, transport + 4, UInt16(seq >> 16))
                setWord(&frame, transport + 6, UInt16(truncatingIfNeeded: seq))
                // FIN and PSH only on the last segment.
                if !last { frame[transport + 13] &= ~0x09 }
            } else {
                setWord(&frame, transport + 4, UInt16(truncatingIfNeeded: frame.count - transport))
            }
            if ipChecksum && context.isIPv4 {
                setWord(&frame, context.ipOffset, 0)
                insertChecksum(&frame, start: ip, offset: context.ipOffset, end: context.ipEnd)
            }
            if transportChecksum && context.transportOffset + 1 < frame.count {
                let transportLength = UInt32(frame.count - transport)
                var sum = UInt32(pseudoHeaderSum) &+ transportLength
                while sum > 0xFFFF { sum = (sum & 0xFFFF) &+ (sum >> 16) }
                setWord(&frame, context.transportOffset, UInt16(sum))
                insertChecksum(&frame, start: transport, offset: context.transportOffset, end: 0)
            }
            segments.append(frame)
            sent += length
            index += 1
        } while sent < payload.count
        return segments
    }
}
