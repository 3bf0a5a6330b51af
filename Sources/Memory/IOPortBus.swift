import PCEmuSupport

/// A device's I/O ports. Devices subclass it and see only the offset from the
/// base of the range they were attached at. A class, so a port access is one
/// table load and one vtable call.
open class PortHandler {
    public init() {}
    /// The widths the device decodes itself. The bus splits wider accesses into
    /// bytes at consecutive ports, the way an 8-bit ISA device sees them.
    open var nativeSizes: Set<AccessSize> { [.byte] }
    open func read(offset: UInt16, size: AccessSize) -> UInt32 { size.mask }
    open func write(offset: UInt16, value: UInt32, size: AccessSize) {}
}

/// The 64K I/O port space: a dense table, one 32-bit entry per port holding
/// the handler's index (high half) and the port's offset in its range (low half).
public final class IOPortBus {
    public static let portCount = 0x10000
    /// Entry of a port nothing decodes: reads float high, writes vanish.
    static let unassigned: UInt32 = 0xFFFF_FFFF

    private let table: UnsafeMutablePointer<UInt32>
    private var handlers: [PortHandler] = []
    private var handlerWidths: [UInt8] = []
    private var names: [String] = []

    public init() {
        table = .allocate(capacity: IOPortBus.portCount)
        table.initialize(repeating: IOPortBus.unassigned, count: IOPortBus.portCount)
    }

    deinit { table.deallocate() }

    /// Attaches a handler to `count` ports from `base`. Refuses ports already taken.
    public func attach(_ handler: PortHandler, name: String, base: UInt16, count: Int) throws {
        guard count > 0, Int(base) + count <= IOPortBus.portCount else {
            throw EmulatorError.configuration("ports of \(name) at 0x\(hex(base)) count \(count) do not fit in 64K")
        }
        for port in Int(base)..<Int(base) + count where table[port] != IOPortBus.unassigned {
            throw EmulatorError.configuration("port 0x\(hex(port)) of \(name) is already taken by \(owner(of: UInt16(port)) ?? "?")")
        }
        let index = handlers.firstIndex { $0 === handler } ?? {
            handlers.append(handler)
            handlerWidths.append(handler.nativeSizes.reduce(0) { $0 | UInt8($1.rawValue) })
            names.append(name)
            return handlers.count - 1
        }()
        for offset in 0..<count {
            table[Int(base) + offset] = UInt32(index) << 16 | UInt32(offset)
        }
    }

    /// Releases ports (a PCI BAR moving, a device switched off).
    public func detach(base: UInt16, count: Int) {
        let end = min(Int(base) + count, IOPortBus.portCount)
        for port in Int(base)..<end { table[port] = IOPortBus.unassigned }
    }

    /// The name given to the handler of a port, for diagnostics.
    public func owner(of port: UInt16) -> String? {
        let entry = table[Int(port)]
        return entry == IOPortBus.unassigned ? nil : names[Int(entry >> 16)]
    }

    /// The handlers that decode at least one port now, each with the name it
    /// was attached under (for the machine's check of its device registry).
    public var attachedHandlers: [(name: String, handler: PortHandler)] {
        var seen = Set<Int>()
        for port in 0..<IOPortBus.portCount where table[port] != IOPortBus.unassigned {
            seen.insert(Int(table[port] >> 16))
        }
        return seen.sorted().map { (names[$0], handlers[$0]) }
    }

    public func read(_ port: UInt16, size: AccessSize) -> UInt32 {
        let entry = table[Int(port)]
        guard entry != IOPortBus.unassigned else {
            Log.write(.unimplemented, "in  port 0x\(hex(port)) (\(size.rawValue) bytes): nothing there")
            return size.mask
        }
        let index = Int(entry >> 16)
        let value: UInt32
        if size == .byte || handlerWidths[index] & UInt8(size.rawValue) != 0 {
            value = handlers[index].read(offset: UInt16(truncatingIfNeeded: entry), size: size) & size.mask
        } else {
            value = read(port, size: .byte) | read(port &+ 1, size: .byte) << 8
                | (size == .dword ? (read(port &+ 2, size: .byte) << 16 | read(port &+ 3, size: .byte) << 24) : 0)
        }
        Log.write(.ioport, "in  port 0x\(hex(port)) (\(size.rawValue)) = 0x\(hex(value))")
        return value
    }

    public func write(_ port: UInt16, value: UInt32, size: AccessSize) {
        Log.write(.ioport, "out port 0x\(hex(port)) (\(size.rawValue)) <- 0x\(hex(value & size.mask))")
        let entry = table[Int(port)]
        guard entry != IOPortBus.unassigned else {
            Log.write(.unimplemented, "out port 0x\(hex(port)) (\(size.rawValue) bytes): nothing there")
            return
        }
        let index = Int(entry >> 16)
        if size == .byte || handlerWidths[index] & UInt8(size.rawValue) != 0 {
            handlers[index].write(offset: UInt16(truncatingIfNeeded: entry), value: value & size.mask, size: size)
        } else {
            for i in 0..<UInt16(size.rawValue) {
                write(port &+ i, value: (value >> (8 * UInt32(i))) & 0xFF, size: .byte)
            }
        }
    }
}
