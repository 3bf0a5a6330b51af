import Lifecycle
import Memory
import PCEmuSupport
import Storage

/// A CFI parallel flash chip with the Intel/Sharp command set, as QEMU's
/// pflash_cfi01 behaves when its pc machine wires it for -drive if=pflash:
/// a byte-wide bank of one device whose width is not given (QEMU's "legacy"
/// addressing of the ID and query tables), 4 KiB sectors, manufacturer and
/// device IDs of zero, and a 256-byte write buffer.
///
/// In read-array mode the chip is a ROM device: reads come straight from its
/// storage (so translated code runs from it), writes reach `write` as
/// commands. The first command turns the whole chip into registers (MMIO)
/// until a command returns it to read-array mode; each switch remaps the
/// region, which drops every translation made from the old map.
public final class PFlashCFI01: MMIOHandler {
    public static let sectorSize = 4096
    /// 1 << the CFI table's "maximum bytes in a buffered write" (8 for a byte-wide bank).
    public static let writeBufferSize = 256
    /// The host file is written in whole 512-byte blocks, as a block device is.
    static let fileBlock = 512

    /// The commands, written as the low byte of any store into the chip.
    public enum Command {
        /// QEMU's own read-array state (no CFI command 0x00).
        public static let readArrayState: UInt8 = 0x00
        public static let programByte: UInt8 = 0x10
        public static let blockErase: UInt8 = 0x20
        public static let blockEraseAlternate: UInt8 = 0x28
        public static let programByteAlternate: UInt8 = 0x40
        public static let clearStatus: UInt8 = 0x50
        public static let lockSetup: UInt8 = 0x60
        public static let readStatus: UInt8 = 0x70
        public static let readIdentifier: UInt8 = 0x90
        public static let cfiQuery: UInt8 = 0x98
        public static let writeToBuffer: UInt8 = 0xE8
        public static let amdProbe: UInt8 = 0xF0
        public static let readArray: UInt8 = 0xFF
        /// Second cycles: confirm an erase, a buffered write or a lock-bit clear; set a lock bit.
        public static let confirm: UInt8 = 0xD0
        public static let setLockBit: UInt8 = 0x01
    }

    /// Status register bits.
    public enum Status {
        public static let ready: UInt8 = 0x80
        public static let eraseError: UInt8 = 0x20
        public static let programError: UInt8 = 0x10
    }

    public let name: String
    public let size: Int
    /// readonly=on: erases and programs fail with the status error bits, as QEMU's do.
    public let isReadOnly: Bool
    /// The chip's bytes; pinned, never moves while the chip exists.
    public let storage: UnsafeMutableRawPointer
    /// Where programmed bytes go; nil keeps them in memory (-snapshot, read-only).
    private let image: BlockImage?
    private var reportedWriteFailure = false

    // The command state machine, named as QEMU's fields are (saved in snapshots).
    var writeCycle: UInt8 = 0
    var command: UInt8 = Command.readArrayState
    public internal(set) var status: UInt8 = Status.ready
    /// Bytes left in a buffered write, less one.
    var counter: UInt32 = 0
    /// The buffered write's block and its bytes, until confirmed.
    var bufferOffset: Int?
    var buffer = [UInt8](repeating: 0xFF, count: PFlashCFI01.writeBufferSize)

    private var addressSpace: AddressSpace?
    private var base: UInt64 = 0
    private var regionIndex: Int?
    /// True while reads come straight from `storage`.
    public internal(set) var isReadArrayMode = true

    let cfiTable: [UInt8]

    /// A chip holding `contents` (a whole number of sectors).
    public init(name: String, contents: UnsafeRawBufferPointer, readOnly: Bool, image: BlockImage?) {
        precondition(contents.count > 0 && contents.count % PFlashCFI01.sectorSize == 0, "pflash size")
        self.name = name
        size = contents.count
        isReadOnly = readOnly
        self.image = readOnly ? nil : image
        storage = .allocate(byteCount: size, alignment: GuestRAM.pageSize)
        storage.copyMemory(from: contents.baseAddress!, byteCount: size)
        cfiTable = PFlashCFI01.makeQueryTable(size: size)
        super.init()
    }

    deinit { storage.deallocate() }

    /// The CFI query table QEMU's model answers with for one byte-wide device
    /// of `size` bytes in uniform 4 KiB sectors.
    static func makeQueryTable(size: Int) -> [UInt8] {
        var table = [UInt8](repeating: 0, count: 0x52)
        let sectors = size / sectorSize
        let bytes: [(Int, UInt8)] = [
            (0x10, 0x51), (0x11, 0x52), (0x12, 0x59),   // "QRY"
            (0x13, 0x01), (0x14, 0x00),                 // primary command set: Intel/Sharp extended
            (0x15, 0x31), (0x16, 0x00),                 // its extended table ("PRI") at 0x31
            (0x1B, 0x45), (0x1C, 0x55),                 // Vcc 4.5-5.5 V, no Vpp
            (0x1F, 0x07), (0x20, 0x07), (0x21, 0x0A),   // typical timeouts (2^n us / ms)
            (0x23, 0x04), (0x24, 0x04), (0x25, 0x04),   // maximum timeouts (2^n times typical)
            (0x27, UInt8(size.trailingZeroBitCount)),   // device size as a power of two
            (0x28, 0x02), (0x29, 0x00),                 // interface: x8/x16
            (0x2A, UInt8(writeBufferSize.trailingZeroBitCount)), (0x2B, 0x00),
            (0x2C, 0x01),                               // one erase block region:
            (0x2D, UInt8(truncatingIfNeeded: sectors - 1)), (0x2E, UInt8(truncatingIfNeeded: (sectors - 1) >> 8)),
            (0x2F, UInt8(truncatingIfNeeded: sectorSize >> 8)), (0x30, UInt8(truncatingIfNeeded: sectorSize >> 16)),
            (0x31, 0x50), (0x32, 0x52), (0x33, 0x49),   // "PRI"
            (0x34, 0x31), (0x35, 0x30),                 // version "1" "0"
            (0x3F, 0x01),                               // one protection field
        ]
        for (offset, value) in bytes { table[offset] = value }
        return table
    }

    // MARK: Mapping

    /// Maps the chip at `base` in read-array mode.
    public func map(in addressSpace: AddressSpace, at base: UInt64) throws {
        self.addressSpace = addressSpace
        self.base = base
        regionIndex = try addressSpace.map(name, at: base, size: UInt64(size), kind: .romDevice(storage, self))
        isReadArrayMode = true
    }

    /// Read-array mode maps the chip as a ROM device, command mode as registers.
    func setReadArrayMode(_ on: Bool, force: Bool = false) {
        guard on != isReadArrayMode || force else { return }
        isReadArrayMode = on
        guard let addressSpace else { return }
        if let regionIndex { addressSpace.unmap(regionIndex) }
        let kind: RegionKind = on ? .romDevice(storage, self) : .mmio(self)
        do {
            regionIndex = try addressSpace.map(name, at: base, size: UInt64(size), kind: kind)
        } catch {
            // The range was this chip's a moment ago, so this cannot fail.
            regionIndex = nil
            Log.emit("pcemu: \(name): cannot remap: \(error)")
        }
    }

    // MARK: Reads (command mode; read-array mode never calls here through the bus)

    public override func read(offset: UInt32, size access: AccessSize) -> UInt32 {
        let offset = Int(offset)
        switch command {
        case Command.readArrayState:
            return arrayBytes(at: offset, count: access.rawValue)
        case Command.programByte, Command.blockErase, Command.blockEraseAlternate, Command.programByteAlternate,
             Command.clearStatus, Command.lockSetup, Command.readStatus, Command.writeToBuffer:
            // A 32-bit read sees the status twice, as QEMU's two-device legacy layout does.
            return access == .dword ? UInt32(status) | UInt32(status) << 16 : UInt32(status)
        case Command.readIdentifier:
            // Manufacturer (offset 0) and device (1) codes: zero on QEMU's pc; nothing else answers.
            return 0
        case Command.cfiQuery:
            let index = offset & 0xFF
            return index < cfiTable.count ? UInt32(cfiTable[index]) : 0
        default:
            // No other state exists; as QEMU, fall back to reading the array.
            writeCycle = 0
            command = Command.readArrayState
            return arrayBytes(at: offset, count: access.rawValue)
        }
    }

    /// Little-endian bytes of the array; all ones past its end.
    private func arrayBytes(at offset: Int, count: Int) -> UInt32 {
        var value: UInt32 = 0
        for index in 0..<count {
            let byte: UInt8 = offset + index < size ? storage.load(fromByteOffset: offset + index, as: UInt8.self) : 0xFF
            value |= UInt32(byte) << (8 * UInt32(index))
        }
        return value
    }

    // MARK: Writes (commands and data)

    public override func write(offset: UInt32, value: UInt32, size access: AccessSize) {
        let offset = Int(offset)
        let byte = UInt8(truncatingIfNeeded: value)
        switch writeCycle {
        case 0:
            // QEMU leaves ROM mode on every first cycle; a command that goes
            // straight back to read array is spared the two remaps here.
            switch byte {
            case Command.readArrayState, Command.readArray, Command.amdProbe:
                return enterReadArray()
            case Command.programByte, Command.programByteAlternate, Command.lockSetup, Command.cfiQuery:
                break
            case Command.blockErase:
                eraseSector(containing: offset)
                status |= Status.ready
            case Command.clearStatus:
                status = 0
                return enterReadArray()
            case Command.readStatus, Command.readIdentifier:
                setReadArrayMode(false)
                command = byte
                return
            case Command.writeToBuffer:
                status |= Status.ready
            default:
                return enterReadArray()
            }
            setReadArrayMode(false)
            writeCycle = 1
            command = byte
        case 1:
            switch command {
            case Command.programByte, Command.programByteAlternate:
                if isReadOnly {
                    status |= Status.programError
                } else {
                    storeData(value, at: offset, count: access.rawValue)
                    persist(offset: offset, count: access.rawValue)
                }
                status |= Status.ready
                writeCycle = 0
            case Command.blockErase, Command.blockEraseAlternate:
                // The erase happened with the first cycle; the confirm only completes it.
                guard byte == Command.confirm else { return enterReadArray() }
                writeCycle = 0
                status |= Status.ready
            case Command.writeToBuffer:
                counter = UInt32(byte)
                writeCycle = 2
            case Command.lockSetup:
                // Lock bits are not kept: setting or clearing one just completes.
                guard byte == Command.confirm || byte == Command.setLockBit else { return enterReadArray() }
                writeCycle = 0
                status |= Status.ready
            case Command.cfiQuery:
                // Only read array leaves query mode; other writes are ignored.
                if byte == Command.readArray { enterReadArray() }
            default:
                enterReadArray()
            }
        case 2:
            guard command == Command.writeToBuffer else { return enterReadArray() }
            if bufferOffset == nil, counter != 0 {
                let start = offset & ~(PFlashCFI01.writeBufferSize - 1)
                for index in 0..<PFlashCFI01.writeBufferSize {
                    buffer[index] = start + index < size ? storage.load(fromByteOffset: start + index, as: UInt8.self) : 0xFF
                }
                bufferOffset = start
            }
            if !isReadOnly, let start = bufferOffset {
                if offset < start || offset + access.rawValue > start + PFlashCFI01.writeBufferSize {
                    status |= Status.programError
                } else {
                    for index in 0..<access.rawValue {
                        buffer[offset - start + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index)))
                    }
                }
            } else {
                status |= Status.programError
            }
            status |= Status.ready
            if counter == 0 {
                writeCycle = 3
            } else {
                counter -= 1
            }
        default:
            guard command == Command.writeToBuffer, byte == Command.confirm, status & Status.programError == 0,
                  let start = bufferOffset else {
                bufferOffset = nil
                return enterReadArray()
            }
            let count = min(PFlashCFI01.writeBufferSize, size - start)
            buffer.withUnsafeBytes { (storage + start).copyMemory(from: $0.baseAddress!, byteCount: count) }
            persist(offset: start, count: count)
            bufferOffset = nil
            writeCycle = 0
            status |= Status.ready
        }
    }

    private func enterReadArray() {
        setReadArrayMode(true)
        writeCycle = 0
        command = Command.readArrayState
    }

    private func eraseSector(containing offset: Int) {
        guard !isReadOnly else {
            status |= Status.eraseError
            return
        }
        let start = offset & ~(PFlashCFI01.sectorSize - 1)
        guard start < size else { return }
        (storage + start).initializeMemory(as: UInt8.self, repeating: 0xFF, count: PFlashCFI01.sectorSize)
        persist(offset: start, count: PFlashCFI01.sectorSize)
    }

    /// A programmed value, little-endian; bytes past the end are dropped.
    private func storeData(_ value: UInt32, at offset: Int, count: Int) {
        for index in 0..<count where offset + index < size {
            storage.storeBytes(of: UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))), toByteOffset: offset + index, as: UInt8.self)
        }
    }

    /// Writes the 512-byte blocks holding [offset, offset + count) to the image file.
    func persist(offset: Int, count: Int) {
        guard let image, count > 0, offset < size else { return }
        let block = PFlashCFI01.fileBlock
        let start = offset / block * block
        let end = min(size, (offset + count + block - 1) / block * block)
        do {
            try image.write(UnsafeRawBufferPointer(start: storage + start, count: end - start), at: UInt64(start))
        } catch {
            // As QEMU, the guest is not told; the user is, once.
            if !reportedWriteFailure { Log.emit("pcemu: \(name): cannot update \(image.path): \(error)") }
            reportedWriteFailure = true
        }
    }

    /// Everything programmed reaches the disk (fsync).
    public func flush() {
        guard let image else { return }
        do { try image.flush() } catch { Log.emit("pcemu: \(name): \(error)") }
    }
}

extension PFlashCFI01: MachineDevice {
    /// Power-on: read-array mode, status ready, no buffered write. The contents stay.
    public func reset() {
        writeCycle = 0
        command = Command.readArrayState
        status = Status.ready
        counter = 0
        bufferOffset = nil
        setReadArrayMode(true)
    }
}
