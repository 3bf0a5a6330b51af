import PCEmuSupport

/// The command ring: each doorbell 0 runs the commands the guest has
/// queued, each to completion, with a Command Completion Event for each.
/// Slot and endpoint states follow the xHCI specification's state
/// machines; a command in the wrong state completes with Context State Error.
extension XHCI {
    func runCommandRing() {
        commandRingRunning = true
        var budget = XHCI.maximumCommandTRBs
        while commandRingRunning, let trb = nextTRB(&commandRing, budget: &budget) {
            let address = commandRing.dequeue
            commandRing.dequeue &+= 16
            let (code, slot) = runCommand(trb)
            completeCommand(at: address, code: code, slot: slot)
        }
    }

    /// One command: its completion code and the slot ID its event names.
    private func runCommand(_ trb: XHCITRB) -> (XHCICompletion, Int) {
        let slot = trb.slotID
        switch trb.type {
        case XHCITRBType.enableSlot: return enableSlot()
        case XHCITRBType.noOpCommand: return (.success, 0)
        default: break
        }
        guard (1...XHCI.maxSlots).contains(slot) else { return (.trbError, slot) }
        guard slots[slot].enabled else { return (.slotNotEnabled, slot) }
        switch trb.type {
        case XHCITRBType.disableSlot:
            slots[slot] = XHCISlot()
            return (.success, slot)
        case XHCITRBType.addressDevice:
            return (addressDevice(slot, input: trb.parameter & ~0xF, blockSetAddress: trb.has(XHCITRB.commandFlag9)), slot)
        case XHCITRBType.configureEndpoint:
            return (configureEndpoints(slot, input: trb.parameter & ~0xF, deconfigure: trb.has(XHCITRB.commandFlag9)), slot)
        case XHCITRBType.evaluateContext:
            return (evaluateContext(slot, input: trb.parameter & ~0xF), slot)
        case XHCITRBType.resetEndpoint, XHCITRBType.stopEndpoint, XHCITRBType.setDequeuePointer:
            return (endpointCommand(trb, slot: slot), slot)
        case XHCITRBType.resetDevice:
            return (resetDevice(slot), slot)
        default:
            Log.write(.guestErrors, "xhci: command TRB type \(trb.type) not supported")
            return (.trbError, slot)
        }
    }

    private func enableSlot() -> (XHCICompletion, Int) {
        let enabled = max(1, min(Int(configure & 0xFF), XHCI.maxSlots))
        guard let slot = (1...enabled).first(where: { !slots[$0].enabled }) else { return (.noSlotsAvailable, 0) }
        slots[slot] = XHCISlot()
        slots[slot].enabled = true
        return (.success, slot)
    }

    /// Address Device: binds the slot to the root port its input slot
    /// context names, sends SET_ADDRESS (the slot ID as the address) unless
    /// BSR asks not to, and starts the default control endpoint.
    private func addressDevice(_ slot: Int, input: UInt64, blockSetAddress: Bool) -> XHCICompletion {
        guard let control = inputControl(input), let slotContext = inputContext(input, 0),
              let endpoint0 = inputContext(input, 1) else { return .trbError }
        guard control.drop == 0, control.add == 3 else { return .trbError }
        let state = slots[slot].state
        if state == XHCIContext.slotAddressed || state == XHCIContext.slotConfigured || (state == XHCIContext.slotDefault && blockSetAddress) {
            return .contextStateError
        }
        let port = Int((slotContext[1] >> 16) & 0xFF) - 1
        guard (0..<XHCI.portCount).contains(port), portStatus[port] & PortStatus.enabled != 0, let device = devices[port] else {
            return .transactionError
        }
        guard let output = readQword(deviceContextBaseArray &+ UInt64(slot) * 8).map({ $0 & ~0x3F }), output != 0,
              XHCI.guestAddress(output, count: Int(XHCIContext.bytes) * XHCISlot.endpointCount) != nil else {
            return .trbError
        }
        var address: UInt8 = 0
        if !blockSetAddress {
            address = UInt8(slot)
            let setAddress: [UInt8] = [0x00, USBRequest.setAddress, address, 0, 0, 0, 0, 0]
            let sent = setAddress.withUnsafeBytes { bytes in
                transferBuffer.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: 8)
                return device.transaction(.setup, endpoint: 0, buffer: UnsafeMutableRawBufferPointer(rebasing: transferBuffer[0..<8]))
            }
            let status = device.transaction(.input, endpoint: 0, buffer: UnsafeMutableRawBufferPointer(rebasing: transferBuffer[0..<0]))
            guard sent == .ack(8), status == .ack(0) else { return .transactionError }
        }
        slots[slot].port = port
        slots[slot].context = output
        slots[slot].state = blockSetAddress ? XHCIContext.slotDefault : XHCIContext.slotAddressed
        var outputSlot = slotContext
        outputSlot[3] = slots[slot].state << 27 | UInt32(address)
        writeContext(output, 0, outputSlot)
        enableEndpoint(slot: slot, dci: 1, from: endpoint0)
        slots[slot].endpoints[1].type = XHCIContext.endpointTypeControl
        return .success
    }

    /// Configure Endpoint: drops and adds endpoints as the input control
    /// context's flags say (or, with DC, drops every one but endpoint 0).
    private func configureEndpoints(_ slot: Int, input: UInt64, deconfigure: Bool) -> XHCICompletion {
        let state = slots[slot].state
        guard state == XHCIContext.slotAddressed || state == XHCIContext.slotConfigured else { return .contextStateError }
        let address = UInt8(slot)
        if deconfigure {
            for dci in 2..<XHCISlot.endpointCount where slots[slot].endpoints[dci].state != XHCIContext.endpointDisabled {
                disableEndpoint(slot: slot, dci: dci)
            }
            slots[slot].state = XHCIContext.slotAddressed
            publishSlotState(slot: slot, address: address)
            return .success
        }
        guard let control = inputControl(input) else { return .trbError }
        guard control.drop & 3 == 0, control.add & 2 == 0 else { return .parameterError }
        // Check every added context before changing anything.
        var added: [(Int, [UInt32])] = []
        for dci in 2..<XHCISlot.endpointCount where control.add & (1 << UInt32(dci)) != 0 {
            guard let context = inputContext(input, dci) else { return .trbError }
            guard (context[1] >> 3) & 7 != 0 else { return .parameterError }
            added.append((dci, context))
        }
        for dci in 2..<XHCISlot.endpointCount where control.drop & (1 << UInt32(dci)) != 0 {
            disableEndpoint(slot: slot, dci: dci)
        }
        for (dci, context) in added { enableEndpoint(slot: slot, dci: dci, from: context) }
        if control.add & 1 != 0, let slotContext = inputContext(input, 0), var outputSlot = readContext(slots[slot].context, 0) {
            // The context entries and the rest of dword 0 come from the input.
            outputSlot[0] = slotContext[0]
            writeContext(slots[slot].context, 0, outputSlot)
        }
        let anyEndpoint = (2..<XHCISlot.endpointCount).contains { slots[slot].endpoints[$0].state != XHCIContext.endpointDisabled }
        slots[slot].state = anyEndpoint ? XHCIContext.slotConfigured : XHCIContext.slotAddressed
        publishSlotState(slot: slot, address: address)
        return .success
    }

    /// Evaluate Context: the slot's exit latency and interrupter target,
    /// endpoint 0's maximum packet size.
    private func evaluateContext(_ slot: Int, input: UInt64) -> XHCICompletion {
        guard slots[slot].state != XHCIContext.slotDisabled else { return .contextStateError }
        guard let control = inputControl(input) else { return .trbError }
        let base = slots[slot].context
        if control.add & 1 != 0 {
            guard let slotContext = inputContext(input, 0), var outputSlot = readContext(base, 0) else { return .trbError }
            outputSlot[1] = outputSlot[1] & ~0xFFFF | slotContext[1] & 0xFFFF
            outputSlot[2] = outputSlot[2] & 0x003F_FFFF | slotContext[2] & 0xFFC0_0000
            writeContext(base, 0, outputSlot)
        }
        if control.add & 2 != 0 {
            guard let endpoint0 = inputContext(input, 1), var output = readContext(base, 1) else { return .trbError }
            output[1] = output[1] & 0xFFFF | endpoint0[1] & 0xFFFF_0000
            writeContext(base, 1, output)
            slots[slot].endpoints[1].maxPacket = Int(endpoint0[1] >> 16)
        }
        return .success
    }

    /// Reset Endpoint (halted to stopped), Stop Endpoint (running to
    /// stopped, the dequeue pointer published), Set TR Dequeue Pointer (on a stopped endpoint).
    private func endpointCommand(_ trb: XHCITRB, slot: Int) -> XHCICompletion {
        let dci = trb.endpointID
        guard dci >= 1, slots[slot].endpoints[dci].state != XHCIContext.endpointDisabled else { return .endpointNotEnabled }
        let state = slots[slot].endpoints[dci].state
        switch trb.type {
        case XHCITRBType.resetEndpoint:
            guard state == XHCIContext.endpointHalted else { return .contextStateError }
        case XHCITRBType.stopEndpoint:
            guard state == XHCIContext.endpointRunning else { return .contextStateError }
        default:
            guard state == XHCIContext.endpointStopped else { return .contextStateError }
            slots[slot].endpoints[dci].ring = XHCIRingCursor(dequeue: trb.parameter & ~0xF, cycle: trb.parameter & 1 != 0)
            slots[slot].endpoints[dci].skippingToEndOfTD = false
            slots[slot].endpoints[dci].transferred = 0
        }
        slots[slot].endpoints[dci].state = XHCIContext.endpointStopped
        slots[slot].endpoints[dci].waitingForData = false
        publishEndpoint(slot: slot, dci: dci)
        return .success
    }

    /// Reset Device: back to the default state at address 0 with only endpoint 0.
    private func resetDevice(_ slot: Int) -> XHCICompletion {
        let state = slots[slot].state
        guard state == XHCIContext.slotAddressed || state == XHCIContext.slotConfigured else { return .contextStateError }
        for dci in 2..<XHCISlot.endpointCount where slots[slot].endpoints[dci].state != XHCIContext.endpointDisabled {
            disableEndpoint(slot: slot, dci: dci)
        }
        slots[slot].state = XHCIContext.slotDefault
        publishSlotState(slot: slot, address: 0)
        return .success
    }
}
