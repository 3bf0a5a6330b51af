import PCEmuSupport

/// The schedule in guest memory: each frame list entry starts a chain of
/// transfer descriptors (TDs) and queue heads (QHs) linked by pointers
/// whose low bits say what they point to. A QH's element pointer is the
/// queue's current TD; completing a TD moves it on to the TD's link, and
/// with the depth-first bit the queue goes on in the same frame. A NAK, a
/// short packet with SPD, an error or an inactive TD leaves the queue for
/// the next QH. Every guest pointer and length is checked: a frame visits
/// at most `maximumStepsPerFrame` TDs and QHs and each QH once, so garbage
/// and loops in the schedule cost a bounded amount of work.
extension UHCI {
    /// Link pointer bits (frame list entries, QH head and element, TD link).
    enum Link {
        static let terminate: UInt32 = 1 << 0
        static let queueHead: UInt32 = 1 << 1
        static let depthFirst: UInt32 = 1 << 2
        static let addressMask: UInt32 = 0xFFFF_FFF0
    }

    /// The TD's control and status dword.
    public enum TDControl {
        public static let actualLengthMask: UInt32 = 0x7FF
        public static let bitstuff: UInt32 = 1 << 17
        public static let crcTimeout: UInt32 = 1 << 18
        public static let nak: UInt32 = 1 << 19
        public static let babble: UInt32 = 1 << 20
        public static let dataBuffer: UInt32 = 1 << 21
        public static let stalled: UInt32 = 1 << 22
        public static let active: UInt32 = 1 << 23
        public static let interruptOnComplete: UInt32 = 1 << 24
        public static let isochronous: UInt32 = 1 << 25
        public static let lowSpeed: UInt32 = 1 << 26
        public static let errorCounterMask: UInt32 = 3 << 27
        public static let shortPacketDetect: UInt32 = 1 << 29
    }

    /// The TD's token dword.
    enum TDToken {
        static let pidMask: UInt32 = 0xFF
        static let addressShift: UInt32 = 8
        static let endpointShift: UInt32 = 15
        static let maximumLengthShift: UInt32 = 21
        /// MaxLen is the length less one; this value means zero bytes.
        static let zeroLength: UInt32 = 0x7FF
        /// The longest packet a TD may ask for (MaxLen 0x4FF).
        static let longestPacket: UInt32 = 1280
    }

    static let maximumStepsPerFrame = 512
    static let maximumQueueHeadsPerFrame = 64

    /// What became of one TD.
    enum TDOutcome {
        /// Not active: left alone.
        case inactive(link: UInt32)
        /// Still active: the device NAKed it.
        case waiting
        /// Done: the queue may move on to `link`.
        case completed(link: UInt32)
        /// Done but the queue stays on it (an error, or a short packet with SPD).
        case retired(link: UInt32)
        /// The TD was malformed: the controller halted.
        case halted
    }

    /// Walks frame `frame`'s schedule; true if any TD was done.
    func processFrame(_ frame: UInt32) -> Bool {
        var link = dma.readDword(frameListBase &+ (frame & 0x3FF) &* 4)
        var steps = 0
        var queueHeads = 0
        var progressed = false
        var completion = false
        var shortPacket = false
        defer { raiseFrameInterrupts(completion: completion, shortPacket: shortPacket) }

        func note(_ outcome: TDOutcome) {
            switch outcome {
            case .completed, .retired: progressed = true
            default: break
            }
        }

        walk: while link & Link.terminate == 0 && steps < UHCI.maximumStepsPerFrame {
            steps += 1
            let address = link & Link.addressMask
            if link & Link.queueHead == 0 {
                let outcome = processTD(at: address, completion: &completion, shortPacket: &shortPacket)
                note(outcome)
                switch outcome {
                case let .inactive(next), let .completed(next), let .retired(next): link = next
                case .waiting: link = dma.readDword(address)
                case .halted: return true
                }
                continue
            }
            // A queue served once per frame: coming back to it is the end of this frame's work.
            for index in 0..<queueHeads where visitedQueueHeads[index] == address { break walk }
            guard queueHeads < UHCI.maximumQueueHeadsPerFrame else { break }
            visitedQueueHeads[queueHeads] = address
            queueHeads += 1

            let head = dma.readDword(address)
            var element = dma.readDword(address &+ 4)
            queue: while element & (Link.terminate | Link.queueHead) == 0 && steps < UHCI.maximumStepsPerFrame {
                steps += 1
                let outcome = processTD(at: element & Link.addressMask, completion: &completion, shortPacket: &shortPacket)
                note(outcome)
                switch outcome {
                case let .completed(next):
                    element = next
                    dma.writeDword(address &+ 4, element)
                    if next & Link.depthFirst == 0 { break queue }
                case .inactive, .waiting, .retired:
                    break queue
                case .halted:
                    return true
                }
            }
            link = head
        }
        return progressed
    }

    /// Runs one TD against the device it addresses and writes its status back.
    private func processTD(at address: UInt32, completion: inout Bool, shortPacket: inout Bool) -> TDOutcome {
        let link = dma.readDword(address)
        var control = dma.readDword(address &+ 4)
        guard control & TDControl.active != 0 else { return .inactive(link: link) }
        let token = dma.readDword(address &+ 8)
        let buffer = dma.readDword(address &+ 12)

        let maximumLength = token >> TDToken.maximumLengthShift
        let length = maximumLength == TDToken.zeroLength ? 0 : Int(maximumLength) + 1
        guard length <= Int(TDToken.longestPacket), let pid = USBToken(rawValue: UInt8(token & TDToken.pidMask)) else {
            Log.write(.guestErrors, "uhci: TD at 0x\(String(address, radix: 16)) has token 0x\(String(token, radix: 16)): halted")
            haltOnProcessError()
            return .halted
        }
        let deviceAddress = UInt8((token >> TDToken.addressShift) & 0x7F)
        let endpoint = Int((token >> TDToken.endpointShift) & 0xF)
        let data = UnsafeMutableRawBufferPointer(rebasing: transferBuffer[0..<length])

        transactions &+= 1
        let handshake: USBHandshake
        if let device = device(at: deviceAddress) {
            if pid != .input && length > 0 { dma.read(buffer, into: data) }
            handshake = device.transaction(pid, endpoint: endpoint, buffer: data)
        } else {
            // Nobody answers: a time-out, which the hardware reports after its retries.
            handshake = .stall
            control |= TDControl.crcTimeout
        }

        control &= ~(TDControl.active | TDControl.actualLengthMask)
        switch handshake {
        case .nak:
            return .waiting
        case .stall:
            if control & TDControl.crcTimeout == 0 { control |= TDControl.stalled }
            control = (control & ~TDControl.errorCounterMask) | TDToken.zeroLength
            dma.writeDword(address &+ 4, control)
            status |= Status.error
            if control & TDControl.interruptOnComplete != 0 { completion = true }
            return .retired(link: link)
        case let .ack(count):
            let moved = min(count, length)
            if pid == .input && moved > 0 {
                dma.write(buffer, UnsafeRawBufferPointer(rebasing: data[0..<moved]))
            }
            control |= moved == 0 ? TDToken.zeroLength : UInt32(moved - 1)
            dma.writeDword(address &+ 4, control)
            if control & TDControl.interruptOnComplete != 0 { completion = true }
            if pid == .input && moved < length && control & TDControl.shortPacketDetect != 0 {
                shortPacket = true
                return .retired(link: link)
            }
            return .completed(link: link)
        }
    }
}
