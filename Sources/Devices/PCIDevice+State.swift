import Lifecycle

/// A PCI function whose whole state can be saved: its configuration space
/// (through `PCIDevice`'s helpers below) and whatever it keeps besides. The
/// bus saves and loads its functions, so they are not registered one by one.
public protocol PCIFunctionState: PCIDevice {
    static var functionStateVersion: UInt32 { get }
    func saveFunction(into record: inout StateRecord)
    /// Checks `record` whole, changing nothing; the closure returned applies it.
    func prepareFunctionLoad(_ record: StateRecord) throws -> () -> Void
}

extension PCIDevice {
    /// The configuration space as the guest left it and the function's INTx level.
    struct SavedConfigSpace {
        let config: [UInt8]
        let interruptLevel: Bool
    }

    /// Bytes that say which function this is: another function's record does not fit.
    static let identityOffsets = [0x00, 0x01, 0x02, 0x03, 0x08, 0x09, 0x0A, 0x0B, 0x0E, 0x2C, 0x2D, 0x2E, 0x2F, 0x3D]

    func saveConfigSpace(into record: inout StateRecord) {
        record.put("config", config)
        record.put("interruptLevel", interruptLevel)
    }

    func checkedConfigSpace(_ record: StateRecord) throws -> SavedConfigSpace {
        let saved = try record.bytes("config", count: PCIConfig.size)
        let savedDword = { (offset: Int) in (0..<4).reduce(UInt32(0)) { $0 | UInt32(saved[offset + $1]) << (8 * UInt32($1)) } }
        let fits = PCIDevice.identityOffsets.allSatisfy { saved[$0] == config[$0] }
            && (0..<PCIConfig.barCount).allSatisfy { index in
                let offset = PCIConfig.bar0 + 4 * index
                guard let bar = bars[index] else { return savedDword(offset) == configDword(offset) }
                // Only the address bits the guest can write, and the type bits.
                return savedDword(offset) & ~bar.addressMask == bar.typeBits
            }
        guard fits else { throw StateRecordError.outOfRange(record: record.name, field: "config") }
        return SavedConfigSpace(config: saved, interruptLevel: try record.bool("interruptLevel"))
    }

    /// Takes the saved configuration: BARs move to where it says (through
    /// `barMoved`, so the machine remaps their windows) and INTx follows.
    func apply(_ saved: SavedConfigSpace) {
        config = saved.config
        updateMappings()
        interruptLevel = saved.interruptLevel
        updateInterruptOutput()
    }
}
