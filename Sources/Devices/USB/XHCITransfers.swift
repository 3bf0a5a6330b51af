import Memory
import PCEmuSupport

/// Transfer rings: a doorbell (or a device with new data) runs an
/// endpoint's TRBs in order. Control transfers are a Setup Stage TRB,
/// Data Stage TRBs and a Status Stage TRB on endpoint 0; other endpoints
/// take Normal TRBs. Each TRB becomes USB transactions of at most the
/// endpoint's packet size; a NAK leaves the TRB at the dequeue pointer
/// until the device has data, a STALL halts the endpoint, a short packet
/// ends its TD. Events follow IOC and ISP; Event Data TRBs report the TD's length.
extension XHCI {
    /// What became of one TRB.
    private enum Outcome {
        /// Done: the ring moves on.
        case next
        /// The device NAKed: the TRB is tried again when it has data.
        case wait
        /// The endpoint halted with this completion code, the event written.
        case halted
    }

    func serviceEndpoint(slot: Int, dci: Int) {
        guard slots[slot].endpoints[dci].state == XHCIContext.endpointRunning else { return }
        slots[slot].endpoints[dci].waitingForData = false
        var ring = slots[slot].endpoints[dci].ring
        var budget = XHCI.maximumTransferTRBs
        while let trb = nextTRB(&ring, budget: &budget) {
            slots[slot].endpoints[dci].ring.dequeue = ring.dequeue
            slots[slot].endpoints[dci].ring.cycle = ring.cycle
            let outcome = runTransfer(trb, at: ring.dequeue, slot: slot, dci: dci)
            guard slots[slot].endpoints[dci].state == XHCIContext.endpointRunning else { return }
            switch outcome {
            case .next:
                ring.dequeue &+= 16
                slots[slot].endpoints[dci].ring.dequeue = ring.dequeue
            case .wait:
                slots[slot].endpoints[dci].waitingForData = true
                return
            case .halted:
                return
            }
        }
        // Link TRBs followed without a transfer still move the dequeue pointer.
        slots[slot].endpoints[dci].ring = ring
    }

    private func runTransfer(_ trb: XHCITRB, at address: UInt64, slot: Int, dci: Int) -> Outcome {
        if slots[slot].endpoints[dci].skippingToEndOfTD {
            // After a short packet the TD's remaining TRBs move nothing; an Event Data TRB still reports.
            if trb.type == XHCITRBType.eventData { eventData(trb, slot: slot, dci: dci) }
            if !trb.has(XHCITRB.chain) { endTD(slot: slot, dci: dci) }
            return .next
        }
        guard let device = device(slot: slot) else {
            return halt(slot: slot, dci: dci, trb: trb, at: address, code: .transactionError, residual: trb.transferLength)
        }
        switch trb.type {
        case XHCITRBType.setupStage:
            return setupStage(trb, at: address, device: device, slot: slot, dci: dci)
        case XHCITRBType.dataStage, XHCITRBType.normal:
            let input: Bool
            if dci == 1 {
                if trb.type == XHCITRBType.dataStage { slots[slot].endpoints[dci].controlIn = trb.has(XHCITRB.directionIn) }
                input = slots[slot].endpoints[dci].controlIn
            } else {
                // Odd device context indexes are IN endpoints.
                input = dci & 1 == 1
            }
            return dataTransfer(trb, at: address, input: input, device: device, slot: slot, dci: dci)
        case XHCITRBType.statusStage:
            guard dci == 1 else { break }
            let empty = UnsafeMutableRawBufferPointer(rebasing: transferBuffer[0..<0])
            switch device.transaction(trb.has(XHCITRB.directionIn) ? .input : .output, endpoint: 0, buffer: empty) {
            case .nak: return .wait
            case .stall: return halt(slot: slot, dci: dci, trb: trb, at: address, code: .stallError, residual: 0)
            case .ack: return complete(trb, at: address, slot: slot, dci: dci, moved: 0)
            }
        case XHCITRBType.eventData:
            eventData(trb, slot: slot, dci: dci)
            if !trb.has(XHCITRB.chain) { endTD(slot: slot, dci: dci) }
            return .next
        case XHCITRBType.noOp:
            return complete(trb, at: address, slot: slot, dci: dci, moved: 0)
        default:
            break
        }
        Log.write(.guestErrors, "xhci: TRB type \(trb.type) on slot \(slot) endpoint \(dci)")
        return halt(slot: slot, dci: dci, trb: trb, at: address, code: .trbError, residual: trb.transferLength)
    }

    private func setupStage(_ trb: XHCITRB, at address: UInt64, device: USBDevice, slot: Int, dci: Int) -> Outcome {
        guard dci == 1, trb.has(XHCITRB.immediateData), trb.transferLength == 8 else {
            return halt(slot: slot, dci: dci, trb: trb, at: address, code: .trbError, residual: trb.transferLength)
        }
        var setup = trb.parameter.littleEndian
        withUnsafeBytes(of: &setup) { transferBuffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: 8) }
        slots[slot].endpoints[dci].controlIn = trb.parameter & 0x80 != 0
        slots[slot].endpoints[dci].transferred = 0
        switch device.transaction(.setup, endpoint: 0, buffer: UnsafeMutableRawBufferPointer(rebasing: transferBuffer[0..<8])) {
        case .ack: return complete(trb, at: address, slot: slot, dci: dci, moved: 0)
        case .nak: return .wait
        case .stall: return halt(slot: slot, dci: dci, trb: trb, at: address, code: .stallError, residual: 8)
        }
    }

    /// A Data Stage or Normal TRB: packets until the length is moved or a short packet.
    private func dataTransfer(_ trb: XHCITRB, at address: UInt64, input: Bool, device: USBDevice, slot: Int, dci: Int) -> Outcome {
        let length = trb.transferLength
        let packet = max(1, min(slots[slot].endpoints[dci].maxPacket, 1024))
        let immediate = trb.has(XHCITRB.immediateData) && !input
        if !immediate && length > 0 && XHCI.guestAddress(trb.parameter, count: length) == nil {
            return halt(slot: slot, dci: dci, trb: trb, at: address, code: .dataBufferError, residual: length)
        }
        let buffer: PhysicalAddress = trb.parameter
        let endpoint = dci / 2
        var moved = 0
        if input {
            repeat {
                let chunk = min(packet, length - moved)
                let part = UnsafeMutableRawBufferPointer(rebasing: transferBuffer[moved..<moved + chunk])
                switch device.transaction(.input, endpoint: endpoint, buffer: part) {
                case .nak:
                    // Nothing yet: wait; part of a transfer already in is delivered as it is.
                    if moved == 0 && length > 0 { return .wait }
                case .stall:
                    if moved > 0 { dma.write(buffer, UnsafeRawBufferPointer(rebasing: transferBuffer[0..<moved])) }
                    return halt(slot: slot, dci: dci, trb: trb, at: address, code: .stallError, residual: length - moved)
                case let .ack(count):
                    moved += min(count, chunk)
                    if count == chunk && moved < length { continue }
                }
                break
            } while true
            if moved > 0 { dma.write(buffer, UnsafeRawBufferPointer(rebasing: transferBuffer[0..<moved])) }
        } else {
            let data = UnsafeMutableRawBufferPointer(rebasing: transferBuffer[0..<length])
            if immediate {
                var bytes = trb.parameter.littleEndian
                withUnsafeBytes(of: &bytes) { data.baseAddress?.copyMemory(from: $0.baseAddress!, byteCount: min(length, 8)) }
            } else if length > 0 {
                dma.read(buffer, into: data)
            }
            repeat {
                let chunk = min(packet, length - moved)
                let part = UnsafeMutableRawBufferPointer(rebasing: transferBuffer[moved..<moved + chunk])
                switch device.transaction(.output, endpoint: endpoint, buffer: part) {
                case .nak:
                    if moved == 0 { return .wait }
                case .stall:
                    return halt(slot: slot, dci: dci, trb: trb, at: address, code: .stallError, residual: length - moved)
                case .ack:
                    moved += chunk
                    if moved < length { continue }
                }
                break
            } while true
        }
        slots[slot].endpoints[dci].transferred += moved
        guard moved < length else { return complete(trb, at: address, slot: slot, dci: dci, moved: moved) }
        // A short packet: the event if ISP or IOC asks for it, and the rest of the TD passed over.
        if trb.has(XHCITRB.interruptOnShortPacket) || trb.has(XHCITRB.interruptOnCompletion) {
            transferEvent(trb, at: address, slot: slot, dci: dci, code: .shortPacket, residual: length - moved)
        }
        if trb.has(XHCITRB.chain) { slots[slot].endpoints[dci].skippingToEndOfTD = true } else { endTD(slot: slot, dci: dci) }
        return .next
    }

    /// A TRB done in full: its event if IOC; the TD ends unless it chains on.
    private func complete(_ trb: XHCITRB, at address: UInt64, slot: Int, dci: Int, moved: Int) -> Outcome {
        if trb.has(XHCITRB.interruptOnCompletion) {
            transferEvent(trb, at: address, slot: slot, dci: dci, code: .success, residual: 0)
        }
        if !trb.has(XHCITRB.chain) { endTD(slot: slot, dci: dci) }
        return .next
    }

    private func endTD(slot: Int, dci: Int) {
        slots[slot].endpoints[dci].transferred = 0
        slots[slot].endpoints[dci].skippingToEndOfTD = false
    }

    private func eventData(_ trb: XHCITRB, slot: Int, dci: Int) {
        guard trb.has(XHCITRB.interruptOnCompletion) else { return }
        let length = UInt32(min(slots[slot].endpoints[dci].transferred, 0xFF_FFFF))
        postEvent(XHCITRB(parameter: trb.parameter, status: XHCICompletion.success.rawValue << 24 | length,
                          control: XHCITRBType.transferEvent << 10 | XHCITRB.eventData | UInt32(dci) << 16 | UInt32(slot) << 24),
                  target: trb.interrupterTarget, blockInterrupt: trb.has(XHCITRB.blockEventInterrupt))
    }

    private func transferEvent(_ trb: XHCITRB, at address: UInt64, slot: Int, dci: Int, code: XHCICompletion, residual: Int) {
        postEvent(XHCITRB(parameter: address, status: code.rawValue << 24 | UInt32(min(residual, 0xFF_FFFF)),
                          control: XHCITRBType.transferEvent << 10 | UInt32(dci) << 16 | UInt32(slot) << 24),
                  target: trb.interrupterTarget, blockInterrupt: trb.has(XHCITRB.blockEventInterrupt))
    }

    /// The endpoint halts on this TRB (the dequeue pointer stays on it) and the event says why.
    private func halt(slot: Int, dci: Int, trb: XHCITRB, at address: UInt64, code: XHCICompletion, residual: Int) -> Outcome {
        slots[slot].endpoints[dci].state = XHCIContext.endpointHalted
        endTD(slot: slot, dci: dci)
        publishEndpoint(slot: slot, dci: dci)
        transferEvent(trb, at: address, slot: slot, dci: dci, code: code, residual: residual)
        return .halted
    }
}
