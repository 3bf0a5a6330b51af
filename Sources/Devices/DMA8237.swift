import Memory
import PCEmuSupport

/// The PC/AT's two cascaded 8237A DMA controllers: the 8-bit one (channels
/// 0-3, ports 0x00-0x0F) and the 16-bit one (channels 4-7, ports 0xC0-0xDF,
/// one register every other port), with the page registers at 0x80-0x8F
/// (`DMAPageRegisters`) supplying address bits 16-23.
///
/// Channel 4 is the cascade input of the 8-bit controller: channels 0-3 move
/// data only while channel 4 is unmasked, as every BIOS leaves it (master
/// clear masks it again). Single, demand and block modes differ only in how
/// long the controller holds the bus, which nothing here models: a device
/// moves as many bytes as it asks for in one call.
///
/// How a device uses a channel (the Sound Blaster uses 1 and 5, the floppy
/// controller 2):
///
///     dma.isReady(channel)                  // unmasked, controller enabled
///     dma.readFromMemory(channel: c, into: buffer)  // memory -> device ("read" transfer)
///     dma.writeToMemory(channel: c, from: bytes)    // device -> memory ("write" transfer)
///     dma.setRequest(channel, true/false)   // the DREQ line, seen in the status register
///
/// Both transfer calls move at most the buffer's size and stop at terminal
/// count, returning the bytes moved and whether terminal count was reached.
/// At terminal count the channel's status bit is set and it either reloads its
/// base address and count (auto-initialise) or masks itself, as the 8237 does;
/// a device that keeps streaming (auto-init) simply calls again. A 16-bit
/// channel moves whole words (an odd last byte is left). A channel programmed
/// for verify, or for the opposite direction, advances its address and count
/// without touching memory (the data goes nowhere, as on the bus) and the
/// mismatch is logged under `-d guest_errors`. Memory is reached through the
/// `AddressSpace`: unmapped addresses read 0xFF and swallow writes, ROM
/// ignores writes, and addresses never leave the 16 MiB the ISA bus can reach.
public final class DMA8237 {
    public static let channelCount = 8
    /// The 8-bit controller's ports.
    public static let slaveBase: UInt16 = 0x00
    public static let slavePortCount = 16
    /// The 16-bit controller's ports (register n at 0xC0 + 2n).
    public static let masterBase: UInt16 = 0xC0
    public static let masterPortCount = 32

    /// What one transfer call did.
    public struct Transfer: Equatable {
        public var bytes: Int
        public var terminalCount: Bool
        public init(bytes: Int, terminalCount: Bool) {
            self.bytes = bytes
            self.terminalCount = terminalCount
        }
    }

    private let memory: AddressSpace
    public let pages = DMAPageRegisters()
    /// The 8-bit controller (channels 0-3) and the 16-bit one (4-7).
    public let slave: Controller
    public let master: Controller

    public init(memory: AddressSpace) {
        self.memory = memory
        slave = Controller(name: "dma1", wordAddressed: false)
        master = Controller(name: "dma2", wordAddressed: true)
    }

    /// Attaches both controllers and the page registers.
    public func attach(to bus: IOPortBus) throws {
        try bus.attach(slave, name: "dma1", base: DMA8237.slaveBase, count: DMA8237.slavePortCount)
        try bus.attach(master, name: "dma2", base: DMA8237.masterBase, count: DMA8237.masterPortCount)
        try bus.attach(pages, name: "dma-page", base: DMAPageRegisters.base, count: DMAPageRegisters.portCount)
    }

    /// Power-on: both controllers master-cleared, page registers zero.
    public func reset() {
        slave.masterClear()
        master.masterClear()
        slave.channels = [Channel](repeating: Channel(), count: 4)
        master.channels = [Channel](repeating: Channel(), count: 4)
        pages.reset()
    }

    private func controller(of channel: Int) -> Controller { channel < 4 ? slave : master }

    // MARK: The device side

    /// Whether a transfer on `channel` would move data now.
    public func isReady(_ channel: Int) -> Bool {
        guard (0..<DMA8237.channelCount).contains(channel) else { return false }
        let chip = controller(of: channel)
        guard !chip.isDisabled, chip.mask & (1 << UInt8(channel & 3)) == 0 else { return false }
        if channel < 4 {
            // The 8-bit controller reaches the bus through the 16-bit one's channel 4.
            return !master.isDisabled && master.mask & 1 == 0
        }
        return channel != 4
    }

    /// The channel's DREQ input: shown in status bits 4-7.
    public func setRequest(_ channel: Int, _ active: Bool) {
        guard (0..<DMA8237.channelCount).contains(channel) else { return }
        let bit = UInt8(0x10) << UInt8(channel & 3)
        let chip = controller(of: channel)
        if active { chip.status |= bit } else { chip.status &= ~bit }
    }

    /// Bytes left before terminal count on `channel`.
    public func remainingBytes(_ channel: Int) -> Int {
        guard (0..<DMA8237.channelCount).contains(channel) else { return 0 }
        let units = Int(controller(of: channel).channels[channel & 3].currentCount) + 1
        return channel < 4 ? units : units * 2
    }

    /// A "read" transfer: guest memory into `buffer`. Returns what moved.
    public func readFromMemory(channel: Int, into buffer: UnsafeMutableRawBufferPointer) -> Transfer {
        transfer(channel: channel, maxBytes: buffer.count, toMemory: false) { index, address in
            buffer[index] = UInt8(truncatingIfNeeded: memory.read(PhysicalAddress(address), size: .byte))
        }
    }

    /// A "write" transfer: `bytes` into guest memory. Returns what moved.
    public func writeToMemory(channel: Int, from bytes: UnsafeRawBufferPointer) -> Transfer {
        transfer(channel: channel, maxBytes: bytes.count, toMemory: true) { index, address in
            memory.write(PhysicalAddress(address), value: UInt32(bytes[index]), size: .byte)
        }
    }

    private func transfer(channel: Int, maxBytes: Int, toMemory: Bool,
                          move: (_ index: Int, _ address: UInt32) -> Void) -> Transfer {
        guard isReady(channel), maxBytes > 0 else { return Transfer(bytes: 0, terminalCount: false) }
        let chip = controller(of: channel)
        let index = channel & 3
        var state = chip.channels[index]
        let type = state.mode & Mode.typeMask
        let wanted = toMemory ? Mode.typeWrite : Mode.typeRead
        let touchesMemory = type == wanted
        if !touchesMemory && type != Mode.typeVerify {
            Log.write(.guestErrors, "dma: channel \(channel) programmed for the other direction; no memory moved")
        }
        let unitBytes = channel < 4 ? 1 : 2
        let page = UInt32(pages.page(ofChannel: channel))
        var moved = 0
        var terminalCount = false
        while moved + unitBytes <= maxBytes {
            if touchesMemory {
                // 8-bit: the address wraps inside its 64 KiB page; 16-bit: inside 128 KiB.
                let physical = channel < 4
                    ? page << 16 | UInt32(state.currentAddress)
                    : (page & 0xFE) << 16 | UInt32(state.currentAddress) << 1
                for byte in 0..<unitBytes { move(moved + byte, physical + UInt32(byte)) }
            }
            moved += unitBytes
            state.currentAddress = state.mode & Mode.decrement != 0 ? state.currentAddress &- 1 : state.currentAddress &+ 1
            state.currentCount &-= 1
            if state.currentCount == 0xFFFF {
                terminalCount = true
                break
            }
        }
        if terminalCount {
            chip.status |= 1 << UInt8(index)
            if state.mode & Mode.autoInitialize != 0 {
                state.currentAddress = state.baseAddress
                state.currentCount = state.baseCount
            } else {
                chip.mask |= 1 << UInt8(index)
            }
        }
        chip.channels[index] = state
        return Transfer(bytes: moved, terminalCount: terminalCount)
    }

    // MARK: One 8237

    enum Register {
        // Offsets 0-7: address (even) and count (odd) of channels 0-3.
        static let commandStatus: UInt16 = 8
        static let request: UInt16 = 9
        static let singleMask: UInt16 = 10
        static let mode: UInt16 = 11
        static let clearFlipFlop: UInt16 = 12
        /// Write: master clear; read: the temporary register.
        static let masterClear: UInt16 = 13
        static let clearMask: UInt16 = 14
        /// Write: all four mask bits; read: the mask register (as on the PIIX).
        static let allMask: UInt16 = 15
    }

    enum Mode {
        static let channelMask: UInt8 = 0x03
        static let typeMask: UInt8 = 0x0C
        static let typeVerify: UInt8 = 0x00
        static let typeWrite: UInt8 = 0x04
        static let typeRead: UInt8 = 0x08
        static let autoInitialize: UInt8 = 0x10
        static let decrement: UInt8 = 0x20
        static let modeMask: UInt8 = 0xC0
        static let cascade: UInt8 = 0xC0
    }

    enum Command {
        static let controllerDisable: UInt8 = 0x04
    }

    enum MaskBit {
        static let set: UInt8 = 0x04
        static let channelMask: UInt8 = 0x03
    }

    struct Channel {
        var baseAddress: UInt16 = 0
        var baseCount: UInt16 = 0
        var currentAddress: UInt16 = 0
        var currentCount: UInt16 = 0
        var mode: UInt8 = 0
    }

    /// One 8237A: four channels, the byte-pointer flip-flop, command, status,
    /// request and mask registers. The 16-bit one sits on every other port.
    public final class Controller: PortHandler {
        let name: String
        let wordAddressed: Bool
        var channels = [Channel](repeating: Channel(), count: 4)
        var command: UInt8 = 0
        /// Bits 0-3 terminal count reached (cleared by reading), 4-7 requests.
        var status: UInt8 = 0
        var request: UInt8 = 0
        var mask: UInt8 = 0x0F
        var temporary: UInt8 = 0
        /// Low byte next when false.
        var flipFlop = false

        init(name: String, wordAddressed: Bool) {
            self.name = name
            self.wordAddressed = wordAddressed
        }

        var isDisabled: Bool { command & Command.controllerDisable != 0 }

        func masterClear() {
            command = 0
            status = 0
            request = 0
            temporary = 0
            flipFlop = false
            mask = 0x0F
        }

        private func register(of offset: UInt16) -> UInt16 {
            wordAddressed ? (offset >> 1) & 0x0F : offset & 0x0F
        }

        /// Reads or writes the byte of a 16-bit register the flip-flop selects, and toggles it.
        private func nextByteIsHigh() -> Bool {
            defer { flipFlop.toggle() }
            return flipFlop
        }

        public override func read(offset: UInt16, size: AccessSize) -> UInt32 {
            let register = register(of: offset)
            switch register {
            case 0..<8:
                let channel = channels[Int(register >> 1)]
                let value = register & 1 == 0 ? channel.currentAddress : channel.currentCount
                return UInt32(nextByteIsHigh() ? value >> 8 : value & 0xFF)
            case Register.commandStatus:
                let value = status | (request & 0x0F) << 4
                status &= 0xF0
                return UInt32(value)
            case Register.masterClear:
                return UInt32(temporary)
            case Register.allMask:
                return UInt32(mask | 0xF0)
            default:
                Log.write(.guestErrors, "\(name): read of write-only register \(register)")
                return 0xFF
            }
        }

        public override func write(offset: UInt16, value: UInt32, size: AccessSize) {
            let register = register(of: offset)
            let byte = UInt8(truncatingIfNeeded: value)
            switch register {
            case 0..<8:
                let index = Int(register >> 1)
                let high = nextByteIsHigh()
                func merged(_ old: UInt16) -> UInt16 {
                    high ? (old & 0x00FF) | UInt16(byte) << 8 : (old & 0xFF00) | UInt16(byte)
                }
                // Writing programs the base and the current register together.
                if register & 1 == 0 {
                    channels[index].baseAddress = merged(channels[index].baseAddress)
                    channels[index].currentAddress = channels[index].baseAddress
                } else {
                    channels[index].baseCount = merged(channels[index].baseCount)
                    channels[index].currentCount = channels[index].baseCount
                }
            case Register.commandStatus:
                command = byte
            case Register.request:
                let bit = UInt8(1) << (byte & MaskBit.channelMask)
                if byte & MaskBit.set != 0 { request |= bit } else { request &= ~bit }
            case Register.singleMask:
                let bit = UInt8(1) << (byte & MaskBit.channelMask)
                if byte & MaskBit.set != 0 { mask |= bit } else { mask &= ~bit }
            case Register.mode:
                channels[Int(byte & Mode.channelMask)].mode = byte
            case Register.clearFlipFlop:
                flipFlop = false
            case Register.masterClear:
                masterClear()
            case Register.clearMask:
                mask = 0
            case Register.allMask:
                mask = byte & 0x0F
            default:
                break
            }
        }
    }
}
