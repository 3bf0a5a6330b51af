import CPURuntime
import Foundation
import Machine
import Memory

/// What gdb's packets ask of a stopped machine: each packet's reply, or the
/// resumption it asks for. Every read or change of the machine runs on the
/// CPU thread as posted work (which also runs while the guest is stopped).
/// Packets not known here get the empty reply, which tells gdb so.
final class GDBCommands {
    let machine: PCMachine
    /// The one thread gdb is told of: CPU 0, thread id 1.
    static let threadID = "01"
    /// The most memory one `m` reply carries: half the packet size, as hex.
    static let maximumMemoryRead = GDBPacketDecoder.maximumPayload / 2

    /// What the server does after a packet.
    enum Action: Equatable {
        case reply(String)
        /// A reply with binary data (already escaped).
        case binaryReply([UInt8])
        /// Let the guest run on (at `address` if given) until it stops.
        case resume(at: UInt32?)
        /// Execute one instruction, then report the stop.
        case step(at: UInt32?)
        /// Reply OK, then forget the client's breakpoints and let the guest run.
        case detach
        /// End PCEmu.
        case kill
        /// QStartNoAckMode: reply OK, then neither side acknowledges.
        case startNoAck
    }

    init(machine: PCMachine) { self.machine = machine }

    static let errorReply = "E01"
    /// EFAULT's number, as QEMU answers memory it cannot reach.
    static let unreachable = "E14"
    /// EINVAL's: a packet whose arguments make no sense.
    static let invalid = "E22"

    func handle(_ packet: [UInt8]) -> Action {
        guard let first = packet.first else { return .reply("") }
        let body = packet.dropFirst()
        let text = String(decoding: packet, as: UTF8.self)
        switch first {
        case UInt8(ascii: "?"): return .reply(GDBCommands.stopReply(.breakpoint))
        case UInt8(ascii: "g"): return .reply(readAllRegisters())
        case UInt8(ascii: "G"): return .reply(writeAllRegisters(body))
        case UInt8(ascii: "p"): return .reply(readRegister(body))
        case UInt8(ascii: "P"): return .reply(writeRegister(body))
        case UInt8(ascii: "m"): return .reply(readMemory(body))
        case UInt8(ascii: "M"): return .reply(writeMemoryHex(body))
        case UInt8(ascii: "X"): return .reply(writeMemoryBinary(body))
        case UInt8(ascii: "c"), UInt8(ascii: "s"):
            var address: UInt32?
            if !body.isEmpty {
                guard let value = GDBHex.number(body), value <= UInt32.max else { return .reply(GDBCommands.invalid) }
                address = UInt32(value)
            }
            return first == UInt8(ascii: "c") ? .resume(at: address) : .step(at: address)
        case UInt8(ascii: "C"), UInt8(ascii: "S"):
            // With a signal: the signal means nothing to a bare machine.
            return first == UInt8(ascii: "C") ? .resume(at: nil) : .step(at: nil)
        case UInt8(ascii: "Z"), UInt8(ascii: "z"): return .reply(breakpoint(insert: first == UInt8(ascii: "Z"), body))
        case UInt8(ascii: "H"), UInt8(ascii: "T"): return .reply("OK")
        case UInt8(ascii: "D"): return .detach
        case UInt8(ascii: "k"): return .kill
        case UInt8(ascii: "v"): return verbose(text)
        case UInt8(ascii: "q"), UInt8(ascii: "Q"): return query(text)
        default: return .reply("")
        }
    }

    /// `T05thread:01;`, with `watch:`, `rwatch:` or `awatch:` and the
    /// watchpoint's address after a watchpoint; SIGINT (2) after Ctrl-C.
    static func stopReply(_ stop: CPUDebugger.Stop?) -> String {
        guard let stop else { return "T02thread:\(threadID);" }
        if case let .watchpoint(watchpoint) = stop {
            let kind = watchpoint.kind == .write ? "watch" : watchpoint.kind == .read ? "rwatch" : "awatch"
            return "T05thread:\(threadID);\(kind):\(String(watchpoint.address, radix: 16));"
        }
        return "T05thread:\(threadID);"
    }

    // MARK: queries

    private func query(_ text: String) -> Action {
        if text.hasPrefix("qSupported") {
            return .reply("PacketSize=\(String(GDBPacketDecoder.maximumPayload, radix: 16));qXfer:features:read+;QStartNoAckMode+")
        }
        if text == "QStartNoAckMode" { return .startNoAck }
        if text.hasPrefix("qXfer:features:read:") { return targetDescription(text.dropFirst("qXfer:features:read:".count)) }
        switch text {
        case "qAttached": return .reply("1")
        case "qC": return .reply("QC\(GDBCommands.threadID)")
        case "qfThreadInfo": return .reply("m\(GDBCommands.threadID)")
        case "qsThreadInfo": return .reply("l")
        case "qOffsets": return .reply("Text=0;Data=0;Bss=0")
        case "qSymbol::": return .reply("OK")
        default:
            if text.hasPrefix("qThreadExtraInfo,") { return .reply(GDBHex.encode(Array("CPU#0".utf8))) }
            return .reply("")
        }
    }

    /// `annex:offset,length` of the target description; only target.xml exists.
    private func targetDescription(_ request: Substring) -> Action {
        let parts = request.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .reply(GDBCommands.invalid) }
        guard parts[0] == "target.xml" else { return .reply("E00") }
        let numbers = parts[1].split(separator: ",", omittingEmptySubsequences: false)
        guard numbers.count == 2, let offset = GDBHex.number(numbers[0].utf8), let length = GDBHex.number(numbers[1].utf8) else {
            return .reply(GDBCommands.invalid)
        }
        let document = Array(GDBRegisters.targetDescription.utf8)
        guard offset <= UInt64(document.count) else { return .reply(GDBCommands.invalid) }
        let start = Int(offset)
        let end = start + Int(min(length, UInt64(document.count - start), UInt64(GDBCommands.maximumMemoryRead)))
        let marker = end == document.count ? UInt8(ascii: "l") : UInt8(ascii: "m")
        return .binaryReply([marker] + GDBPacketEncoder.escape(document[start..<end]))
    }

    private func verbose(_ text: String) -> Action {
        if text == "vCont?" { return .reply("vCont;c;C;s;S") }
        if text.hasPrefix("vCont;") {
            // The first action naming thread 1, all threads (-1) or none is ours.
            for action in text.dropFirst("vCont;".count).split(separator: ";") {
                let pieces = action.split(separator: ":", maxSplits: 1)
                guard let verb = pieces.first?.first else { continue }
                if pieces.count == 2 {
                    let thread = pieces[1]
                    guard thread == "-1" || Int(thread, radix: 16) == 1 || thread == "p1.1" || thread == "p1.-1" else { continue }
                }
                switch verb {
                case "c", "C": return .resume(at: nil)
                case "s", "S": return .step(at: nil)
                default: return .reply(GDBCommands.invalid)
                }
            }
            return .reply(GDBCommands.invalid)
        }
        if text.hasPrefix("vKill") { return .kill }
        return .reply("")
    }

    // MARK: registers

    private func readAllRegisters() -> String {
        onCPUThread { cpu in
            var bytes: [UInt8] = []
            for number in 0..<GDBRegisters.count { bytes += GDBRegisters.read(number, of: cpu) ?? [] }
            return GDBHex.encode(bytes)
        } ?? GDBCommands.errorReply
    }

    private func writeAllRegisters(_ body: ArraySlice<UInt8>) -> String {
        guard let bytes = GDBHex.decode(body), bytes.count == GDBRegisters.totalBytes else { return GDBCommands.invalid }
        return onCPUThread { cpu in
            var offset = 0
            var allWritten = true
            for number in 0..<GDBRegisters.count {
                let size = GDBRegisters.size(number)
                allWritten = GDBRegisters.write(number, bytes[offset..<offset + size], to: cpu) && allWritten
                offset += size
            }
            return allWritten ? "OK" : GDBCommands.errorReply
        } ?? GDBCommands.errorReply
    }

    private func readRegister(_ body: ArraySlice<UInt8>) -> String {
        guard let number = GDBHex.number(body), number < UInt64(GDBRegisters.count) else { return GDBCommands.errorReply }
        return onCPUThread { cpu in GDBRegisters.read(Int(number), of: cpu).map { GDBHex.encode($0) } ?? GDBCommands.errorReply }
            ?? GDBCommands.errorReply
    }

    private func writeRegister(_ body: ArraySlice<UInt8>) -> String {
        guard let equals = body.firstIndex(of: UInt8(ascii: "=")), let number = GDBHex.number(body[..<equals]),
              number < UInt64(GDBRegisters.count), let bytes = GDBHex.decode(body[(equals + 1)...]) else { return GDBCommands.invalid }
        return onCPUThread { cpu in
            GDBRegisters.write(Int(number), bytes[...], to: cpu) ? "OK" : GDBCommands.errorReply
        } ?? GDBCommands.errorReply
    }

    // MARK: memory

    /// `addr,length` followed by `:` or nothing; nil when malformed or past 4 GiB.
    private static func range(_ text: ArraySlice<UInt8>) -> (address: UInt32, length: Int)? {
        guard let comma = text.firstIndex(of: UInt8(ascii: ",")), let address = GDBHex.number(text[..<comma]),
              let length = GDBHex.number(text[(comma + 1)...]), address <= UInt32.max,
              length <= UInt64(GDBPacketDecoder.maximumPayload) else { return nil }
        return (UInt32(address), Int(length))
    }

    private func readMemory(_ body: ArraySlice<UInt8>) -> String {
        guard let (address, length) = GDBCommands.range(body), length <= GDBCommands.maximumMemoryRead else {
            return GDBCommands.invalid
        }
        guard length > 0 else { return "" }
        return onCPUThread { cpu in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(length)
            for index in 0..<length {
                // Linear addresses wrap at 4 GiB, as the CPU's do.
                guard let physical = self.physical(address &+ UInt32(index), cpu) else { break }
                bytes.append(UInt8(truncatingIfNeeded: self.machine.addressSpace.read(physical, size: .byte)))
            }
            // What could be read (gdb takes a short reply), or E14 when nothing could.
            return bytes.isEmpty ? GDBCommands.unreachable : GDBHex.encode(bytes)
        } ?? GDBCommands.errorReply
    }

    private func writeMemoryHex(_ body: ArraySlice<UInt8>) -> String {
        guard let colon = body.firstIndex(of: UInt8(ascii: ":")), let (address, length) = GDBCommands.range(body[..<colon]),
              let data = GDBHex.decode(body[(colon + 1)...]), data.count == length else { return GDBCommands.invalid }
        return writeMemory(address, data)
    }

    private func writeMemoryBinary(_ body: ArraySlice<UInt8>) -> String {
        guard let colon = body.firstIndex(of: UInt8(ascii: ":")), let (address, length) = GDBCommands.range(body[..<colon]),
              let data = GDBPacketEncoder.unescape(body[(colon + 1)...]), data.count == length else { return GDBCommands.invalid }
        return writeMemory(address, data)
    }

    /// Every byte's page must be mapped before any is written.
    private func writeMemory(_ address: UInt32, _ data: [UInt8]) -> String {
        guard !data.isEmpty else { return "OK" }
        return onCPUThread { cpu in
            var physicals: [PhysicalAddress] = []
            physicals.reserveCapacity(data.count)
            for index in 0..<data.count {
                guard let physical = self.physical(address &+ UInt32(index), cpu) else { return GDBCommands.unreachable }
                physicals.append(physical)
            }
            for (physical, byte) in zip(physicals, data) {
                self.machine.addressSpace.write(physical, value: UInt32(byte), size: .byte)
                // Translated code from those bytes is stale, as after a DMA write.
                cpu.physicalMemoryWritten(at: physical, length: 1)
            }
            return "OK"
        } ?? GDBCommands.errorReply
    }

    /// A linear address through the guest's page tables as they are (no
    /// accessed or dirty bit set), RAM above 4 GiB included; nil where
    /// nothing is mapped or past the physical address space.
    private func physical(_ linear: UInt32, _ cpu: X86CPU) -> PhysicalAddress? {
        guard let physical = cpu.physicalAddress(ofLinear: UInt64(linear)), physical < AddressSpace.physicalLimit else { return nil }
        return physical
    }

    // MARK: breakpoints and watchpoints

    /// `Ztype,addr,kind`: 0 and 1 are breakpoints (both kept by the
    /// translator: there are no debug registers to run out of), 2-4 watchpoints.
    private func breakpoint(insert: Bool, _ body: ArraySlice<UInt8>) -> String {
        let fields = body.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard fields.count >= 3, let type = GDBHex.number(fields[0]), let address = GDBHex.number(fields[1]),
              address <= UInt32.max, let kind = GDBHex.number(fields[2].prefix { $0 != UInt8(ascii: ";") }) else {
            return GDBCommands.invalid
        }
        let linear = UInt32(address)
        switch type {
        case 0, 1:
            return onCPUThread { cpu in
                if insert { return cpu.insertBreakpoint(linear: linear) ? "OK" : GDBCommands.errorReply }
                cpu.removeBreakpoint(linear: linear)
                return "OK"
            } ?? GDBCommands.errorReply
        case 2, 3, 4:
            // A watched range as long as gdb asks (x86's debug registers take 1, 2, 4 or 8 bytes; gdb splits larger ones).
            guard kind >= 1, kind <= 4096, let watchKind = CPUDebugger.WatchKind(rawValue: Int(type)) else { return GDBCommands.invalid }
            let watchpoint = CPUDebugger.Watchpoint(address: linear, length: UInt32(kind), kind: watchKind)
            return onCPUThread { cpu in
                if insert { return cpu.insertWatchpoint(watchpoint) ? "OK" : GDBCommands.errorReply }
                cpu.removeWatchpoint(watchpoint)
                return "OK"
            } ?? GDBCommands.errorReply
        default:
            return ""
        }
    }

    // MARK: the CPU thread

    /// Runs `body` with the CPU on the CPU thread and waits for it (10 s at
    /// most: the thread may have ended with the machine).
    func onCPUThread<Result>(_ body: @escaping (X86CPU) -> Result) -> Result? {
        let done = DispatchSemaphore(value: 0)
        let box = GDBResultBox<Result>()
        let cpu = machine.cpu
        machine.loop.post {
            box.value = body(cpu)
            done.signal()
        }
        guard done.wait(timeout: .now() + 10) == .success else { return nil }
        return box.value
    }
}

/// Carries a result from the CPU thread back to the stub's (the semaphore
/// orders the write before the read).
final class GDBResultBox<Value>: @unchecked Sendable {
    var value: Value?
}
