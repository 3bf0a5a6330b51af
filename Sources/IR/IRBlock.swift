/// Where a temp lives.
public enum TempKind: Sendable, Equatable {
    /// A field of the CPU state at this byte offset: lives across blocks.
    case global(offset: Int)
    /// Lives only inside the block being translated.
    case local
}

/// A plain value (no reference inside), so copying a block's temps is a
/// memory copy; globals' names are kept apart, for printing.
public struct TempInfo: Sendable {
    public var type: IRType
    public var kind: TempKind
}

/// The CPU-state fields the translator reads and writes as temps: declared
/// once per guest architecture, they are the first temps of every block.
public struct GlobalSet: Sendable {
    public private(set) var globals: [TempInfo] = []
    public private(set) var names: [String] = []
    public init() {}

    /// Declares a global; returns the temp every block uses for it.
    public mutating func declare(_ name: String, _ type: IRType, offset: Int) -> Temp {
        globals.append(TempInfo(type: type, kind: .global(offset: offset)))
        names.append(name)
        return Temp(UInt16(globals.count - 1))
    }
}

/// A helper function generated code may call: the CPU state pointer and up to
/// three arguments in, one value out. A helper that raises a guest exception
/// records it in the CPU state; the caller checks after every call that may fault.
public typealias HelperFunction = @convention(c) (UnsafeMutableRawPointer, UInt64, UInt64, UInt64) -> UInt64

public struct HelperFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// Never raises a guest exception.
    public static let noFault = HelperFlags(rawValue: 1)
    /// Neither reads nor writes CPU state beyond its arguments.
    public static let noState = HelperFlags(rawValue: 2)
    /// Writes nothing (it may read the CPU state): with `noFault`, removable when its result is unused.
    public static let noSideEffects = HelperFlags(rawValue: 4)
    /// No side effects at all and no state read.
    public static let pure: HelperFlags = [.noFault, .noState, .noSideEffects]
}

public struct Helper: Sendable {
    public let name: String
    public let function: HelperFunction
    public let flags: HelperFlags
    public init(_ name: String, _ flags: HelperFlags = [], _ function: HelperFunction) {
        self.name = name
        self.function = function
        self.flags = flags
    }
}

/// The helpers of one CPU, registered once at start-up; a call op names its
/// helper by index here.
public final class HelperTable: @unchecked Sendable {
    public private(set) var helpers: [Helper] = []
    public init() {}

    public func register(_ helper: Helper) -> UInt32 {
        helpers.append(helper)
        return UInt32(helpers.count - 1)
    }

    public subscript(index: UInt64) -> Helper { helpers[Int(index)] }
}

/// One translated block's IR: its temps (globals first) and its ops in order.
/// Built at translation time, so arrays are fine here.
public final class IRBlock {
    public var ops: [IROp] = []
    public private(set) var temps: [TempInfo]
    public let globalCount: Int
    /// The globals' names, by temp index.
    public let globalNames: [String]
    public let helpers: HelperTable
    public private(set) var labelCount: UInt32 = 0
    /// The type `IRBuilder` gives ops and temps when not told one: i32, or
    /// i64 while a translator builds an operation on 64-bit values.
    public var wordType: IRType = .i32

    public init(globals: GlobalSet, helpers: HelperTable) {
        temps = globals.globals
        globalNames = globals.names
        globalCount = globals.globals.count
        self.helpers = helpers
        ops.reserveCapacity(512)
        temps.reserveCapacity(globalCount + 128)
    }

    public func info(_ temp: Temp) -> TempInfo { temps[Int(temp.index)] }

    /// A global's name; nil for a local.
    public func name(of temp: Temp) -> String? {
        Int(temp.index) < globalNames.count ? globalNames[Int(temp.index)] : nil
    }

    public func isGlobal(_ temp: Temp) -> Bool { Int(temp.index) < globalCount }

    public func newTemp(_ type: IRType) -> Temp {
        temps.append(TempInfo(type: type, kind: .local))
        return Temp(UInt16(temps.count - 1))
    }

    public func newLabel() -> Label {
        labelCount += 1
        return Label(id: labelCount - 1)
    }

    public var tempCount: Int { temps.count }
}
