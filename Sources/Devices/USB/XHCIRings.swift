import Memory
import PCEmuSupport

/// A transfer request block: 16 bytes of a ring.
struct XHCITRB {
    var parameter: UInt64
    var status: UInt32
    var control: UInt32

    init(parameter: UInt64 = 0, status: UInt32 = 0, control: UInt32 = 0) {
        self.parameter = parameter
        self.status = status
        self.control = control
    }

    var type: UInt32 { (control >> 10) & 0x3F }
    var cycle: Bool { control & XHCITRB.cycleBit != 0 }
    func has(_ flag: UInt32) -> Bool { control & flag != 0 }
    /// A command's or transfer's slot ID (bits 31:24).
    var slotID: Int { Int(control >> 24) }
    /// A command's endpoint (bits 20:16), a device context index.
    var endpointID: Int { Int((control >> 16) & 0x1F) }
    /// A transfer TRB's length (bits 16:0).
    var transferLength: Int { Int(status & 0x1_FFFF) }
    /// The interrupter a transfer TRB's event goes to (bits 31:22).
    var interrupterTarget: Int { Int(status >> 22) }

    static let cycleBit: UInt32 = 1 << 0
    /// Link TRB: toggle cycle.
    static let toggleCycle: UInt32 = 1 << 1
    /// Transfer TRBs: evaluate next TRB, interrupt on short packet, no snoop, chain, interrupt on completion, immediate data.
    static let interruptOnShortPacket: UInt32 = 1 << 2
    static let chain: UInt32 = 1 << 4
    static let interruptOnCompletion: UInt32 = 1 << 5
    static let immediateData: UInt32 = 1 << 6
    /// Block event interrupt: the event is written but asserts nothing.
    static let blockEventInterrupt: UInt32 = 1 << 9
    /// Data and Status Stage TRBs: the direction is IN.
    static let directionIn: UInt32 = 1 << 16
    /// Address Device: block SET_ADDRESS; Configure Endpoint: deconfigure.
    static let commandFlag9: UInt32 = 1 << 9
    /// Transfer events: the parameter is an Event Data TRB's data.
    static let eventData: UInt32 = 1 << 2
}

enum XHCITRBType {
    static let normal: UInt32 = 1
    static let setupStage: UInt32 = 2
    static let dataStage: UInt32 = 3
    static let statusStage: UInt32 = 4
    static let isochronous: UInt32 = 5
    static let link: UInt32 = 6
    static let eventData: UInt32 = 7
    static let noOp: UInt32 = 8
    static let enableSlot: UInt32 = 9
    static let disableSlot: UInt32 = 10
    static let addressDevice: UInt32 = 11
    static let configureEndpoint: UInt32 = 12
    static let evaluateContext: UInt32 = 13
    static let resetEndpoint: UInt32 = 14
    static let stopEndpoint: UInt32 = 15
    static let setDequeuePointer: UInt32 = 16
    static let resetDevice: UInt32 = 17
    static let noOpCommand: UInt32 = 23
    static let transferEvent: UInt32 = 32
    static let commandCompletionEvent: UInt32 = 33
    static let portStatusChangeEvent: UInt32 = 34
}

/// Completion codes in events.
enum XHCICompletion: UInt32 {
    case success = 1
    case dataBufferError = 2
    case transactionError = 4
    case trbError = 5
    case stallError = 6
    case noSlotsAvailable = 9
    case slotNotEnabled = 11
    case endpointNotEnabled = 12
    case shortPacket = 13
    case parameterError = 17
    case contextStateError = 19
    case commandRingStopped = 24
}

/// A consumer's place on a ring: the dequeue pointer and its cycle state.
struct XHCIRingCursor {
    var dequeue: UInt64 = 0
    var cycle = true
}

/// One interrupter: its registers and the producer's place on its event ring.
struct XHCIInterrupter {
    static let nanosecondsPerModerationUnit: Int64 = 250

    var management: UInt32 = 0
    /// IMOD: the interval in 250 ns units (bits 15:0); 4000 (1 ms) after reset.
    var moderation: UInt32 = 4000
    var tableSize: UInt32 = 0
    var tableBase: UInt64 = 0
    var dequeue: UInt64 = 0

    /// The event ring as the controller fills it; nil until ERSTBA is written with a table.
    var ringReady = false
    var segment: UInt32 = 0
    var segmentBase: UInt64 = 0
    var segmentTRBs: UInt32 = 0
    var indexInSegment: UInt32 = 0
    var enqueue: UInt64 = 0
    var cycle = true
    /// Events written since the interrupt was last asserted.
    var eventsPending = false
    /// No interrupt before this time (IMOD's counter).
    var moderationEnd: Int64 = 0
}

/// Guest memory through 64-bit addresses: anything past the physical
/// address space is outside this machine and refused; the rest, RAM above
/// 4 GiB included, goes through `GuestMemoryDMA`.
extension XHCI {
    static func guestAddress(_ address: UInt64, count: Int) -> PhysicalAddress? {
        guard address < AddressSpace.physicalLimit, UInt64(count) <= AddressSpace.physicalLimit - address else { return nil }
        return address
    }

    func readTRB(_ address: UInt64) -> XHCITRB? {
        guard let at = XHCI.guestAddress(address, count: 16) else { return nil }
        let low = UInt64(dma.readDword(at)), high = UInt64(dma.readDword(at &+ 4))
        return XHCITRB(parameter: low | high << 32, status: dma.readDword(at &+ 8), control: dma.readDword(at &+ 12))
    }

    func writeTRB(_ trb: XHCITRB, at address: UInt64) {
        guard let at = XHCI.guestAddress(address, count: 16) else { return }
        var bytes = (trb.parameter.littleEndian, trb.status.littleEndian, trb.control.littleEndian)
        withUnsafeBytes(of: &bytes) { dma.write(at, UnsafeRawBufferPointer(rebasing: $0.prefix(16))) }
    }

    func readQword(_ address: UInt64) -> UInt64? {
        guard let at = XHCI.guestAddress(address, count: 8) else { return nil }
        return UInt64(dma.readDword(at)) | UInt64(dma.readDword(at &+ 4)) << 32
    }

    /// The next TRB the producer has handed over on `ring`, following Link
    /// TRBs; nil when the ring is empty, leaves guest memory, or `budget`
    /// (TRBs looked at, links included) runs out.
    func nextTRB(_ ring: inout XHCIRingCursor, budget: inout Int) -> XHCITRB? {
        while budget > 0 {
            budget -= 1
            guard let trb = readTRB(ring.dequeue), trb.cycle == ring.cycle else { return nil }
            trbsProcessed += 1
            guard trb.type == XHCITRBType.link else { return trb }
            ring.dequeue = trb.parameter & ~0xF
            if trb.has(XHCITRB.toggleCycle) { ring.cycle.toggle() }
        }
        return nil
    }

    // MARK: Event rings

    /// ERSTBA written: the ring restarts at the first segment with cycle one.
    func startEventRing(_ index: Int) {
        interrupters[index].ringReady = false
        guard interrupters[index].tableSize > 0 else { return }
        interrupters[index].cycle = true
        loadSegment(index, 0)
    }

    /// Makes segment `segment` of the table the one being filled.
    private func loadSegment(_ index: Int, _ segment: UInt32) {
        let entry = interrupters[index].tableBase &+ UInt64(segment) * 16
        guard let base = readQword(entry), let sizeWord = readQword(entry &+ 8) else {
            Log.write(.guestErrors, "xhci: event ring segment table at 0x\(String(entry, radix: 16)) is outside memory")
            interrupters[index].ringReady = false
            return
        }
        // A segment holds 16 to 4096 TRBs; anything else is the guest's error, clamped.
        let size = min(max(UInt32(truncatingIfNeeded: sizeWord & 0xFFFF), 16), 4096)
        interrupters[index].segment = segment
        interrupters[index].segmentBase = base & ~0x3F
        interrupters[index].segmentTRBs = size
        interrupters[index].indexInSegment = 0
        interrupters[index].enqueue = base & ~0x3F
        interrupters[index].ringReady = true
    }

    /// Writes an event on interrupter `target`'s ring (0 when the target
    /// does not exist) and asserts its interrupt unless `blockInterrupt`.
    /// A full ring, one whose next place is the guest's dequeue pointer, drops the event.
    func postEvent(_ event: XHCITRB, target: Int = 0, blockInterrupt: Bool = false) {
        let index = target < XHCI.interrupterCount ? target : 0
        guard interrupters[index].ringReady else {
            eventsLost += 1
            return
        }
        var next = interrupters[index]
        next.indexInSegment += 1
        var nextAddress = next.enqueue &+ 16
        var nextSegment = next.segment
        if next.indexInSegment == next.segmentTRBs {
            nextSegment = (next.segment + 1) % max(next.tableSize, 1)
            let entry = next.tableBase &+ UInt64(nextSegment) * 16
            nextAddress = (readQword(entry) ?? 0) & ~0x3F
        }
        if nextAddress == next.dequeue & EventRingDequeue.pointerMask {
            Log.write(.guestErrors, "xhci: event ring \(index) full, an event is lost")
            eventsLost += 1
            return
        }
        var written = event
        written.control = written.control & ~XHCITRB.cycleBit | (next.cycle ? XHCITRB.cycleBit : 0)
        writeTRB(written, at: next.enqueue)
        eventsPosted += 1
        if next.indexInSegment == next.segmentTRBs {
            if nextSegment == 0 { interrupters[index].cycle.toggle() }
            loadSegment(index, nextSegment)
        } else {
            interrupters[index].indexInSegment = next.indexInSegment
            interrupters[index].enqueue = nextAddress
        }
        if !blockInterrupt {
            interrupters[index].eventsPending = true
            interrupt(index)
        }
    }

    func completeCommand(at address: UInt64, code: XHCICompletion, slot: Int = 0) {
        postEvent(XHCITRB(parameter: address, status: code.rawValue << 24,
                          control: XHCITRBType.commandCompletionEvent << 10 | UInt32(slot) << 24))
    }
}
