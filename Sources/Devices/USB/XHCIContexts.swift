import PCEmuSupport

/// What the controller keeps of an endpoint: its state, the place on its
/// transfer ring, and the transfer in progress. The guest's copy is the
/// endpoint context in the output device context, written whenever these change.
struct XHCIEndpoint {
    var state: UInt32 = XHCIContext.endpointDisabled
    var type: UInt32 = 0
    var maxPacket = 0
    var ring = XHCIRingCursor()
    /// The device NAKed the TRB at the dequeue pointer: it is tried again when the device has data.
    var waitingForData = false
    /// A control transfer's data stage direction, from its SETUP.
    var controlIn = false
    /// Bytes moved so far in the current TD (Event Data TRBs report them).
    var transferred = 0
    /// A short packet ended the TD: its remaining TRBs are passed over.
    var skippingToEndOfTD = false
}

/// A device slot: enabled by Enable Slot, bound to a root port by Address Device.
struct XHCISlot {
    static let endpointCount = 32

    var enabled = false
    var state: UInt32 = XHCIContext.slotDisabled
    /// The root port (0-based), or -1.
    var port = -1
    /// The output device context, from the DCBAA when the device was addressed.
    var context: UInt64 = 0
    var endpoints = [XHCIEndpoint](repeating: XHCIEndpoint(), count: XHCISlot.endpointCount)
}

/// Device and input contexts in guest memory: 32-byte contexts (CSZ is
/// zero), the slot context first and the endpoint contexts by device
/// context index; an input context has its control context before them.
enum XHCIContext {
    static let bytes: UInt64 = 32
    static let slotDisabled: UInt32 = 0
    static let slotDefault: UInt32 = 1
    static let slotAddressed: UInt32 = 2
    static let slotConfigured: UInt32 = 3
    static let endpointDisabled: UInt32 = 0
    static let endpointRunning: UInt32 = 1
    static let endpointHalted: UInt32 = 2
    static let endpointStopped: UInt32 = 3
    static let endpointTypeControl: UInt32 = 4
}

extension XHCI {
    /// Reads context `index` (0 the slot, then endpoints by DCI) of the context at `base`; nil outside memory.
    func readContext(_ base: UInt64, _ index: Int) -> [UInt32]? {
        let address = base &+ UInt64(index) * XHCIContext.bytes
        guard let at = XHCI.guestAddress(address, count: Int(XHCIContext.bytes)) else { return nil }
        return (0..<8).map { dma.readDword(at &+ UInt64($0) * 4) }
    }

    func writeContext(_ base: UInt64, _ index: Int, _ dwords: [UInt32]) {
        let address = base &+ UInt64(index) * XHCIContext.bytes
        guard let at = XHCI.guestAddress(address, count: Int(XHCIContext.bytes)) else { return }
        var bytes = [UInt8](repeating: 0, count: Int(XHCIContext.bytes))
        for (i, dword) in dwords.prefix(8).enumerated() {
            for b in 0..<4 { bytes[4 * i + b] = UInt8(truncatingIfNeeded: dword >> (8 * UInt32(b))) }
        }
        dma.write(at, bytes)
    }

    /// An input context's control context (drop flags, add flags), slot context and endpoint `dci`'s.
    func inputControl(_ input: UInt64) -> (drop: UInt32, add: UInt32)? {
        readContext(input, 0).map { ($0[0], $0[1]) }
    }

    func inputContext(_ input: UInt64, _ index: Int) -> [UInt32]? { readContext(input, index + 1) }

    /// Writes the controller's view of endpoint `dci` (state and dequeue
    /// pointer) into the output context, keeping the rest as the guest gave it.
    func publishEndpoint(slot: Int, dci: Int) {
        let base = slots[slot].context
        guard var dwords = readContext(base, dci) else { return }
        let endpoint = slots[slot].endpoints[dci]
        dwords[0] = dwords[0] & ~7 | endpoint.state
        dwords[2] = UInt32(truncatingIfNeeded: endpoint.ring.dequeue) & ~0xF | (endpoint.ring.cycle ? 1 : 0)
        dwords[3] = UInt32(truncatingIfNeeded: endpoint.ring.dequeue >> 32)
        writeContext(base, dci, dwords)
    }

    /// Writes the slot's state and USB address into its output slot context.
    func publishSlotState(slot: Int, address: UInt8) {
        let base = slots[slot].context
        guard var dwords = readContext(base, 0) else { return }
        dwords[3] = slots[slot].state << 27 | UInt32(address)
        writeContext(base, 0, dwords)
    }

    /// Endpoint `dci` starts running as input context `dwords` describes it.
    func enableEndpoint(slot: Int, dci: Int, from dwords: [UInt32]) {
        var endpoint = XHCIEndpoint()
        endpoint.state = XHCIContext.endpointRunning
        endpoint.type = (dwords[1] >> 3) & 7
        endpoint.maxPacket = Int(dwords[1] >> 16)
        endpoint.ring.dequeue = (UInt64(dwords[3]) << 32 | UInt64(dwords[2])) & ~0xF
        endpoint.ring.cycle = dwords[2] & 1 != 0
        slots[slot].endpoints[dci] = endpoint
        var output = dwords
        output[0] = output[0] & ~7 | XHCIContext.endpointRunning
        writeContext(slots[slot].context, dci, output)
    }

    func disableEndpoint(slot: Int, dci: Int) {
        slots[slot].endpoints[dci] = XHCIEndpoint()
        let base = slots[slot].context
        guard var dwords = readContext(base, dci) else { return }
        dwords[0] &= ~7
        writeContext(base, dci, dwords)
    }

    /// The device behind slot `slot`'s root port, while the port is enabled.
    func device(slot: Int) -> USBDevice? {
        let port = slots[slot].port
        guard (0..<XHCI.portCount).contains(port), portStatus[port] & PortStatus.enabled != 0 else { return nil }
        return devices[port]
    }
}
