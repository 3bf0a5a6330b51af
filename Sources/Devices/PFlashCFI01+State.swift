import Lifecycle

/// The command state machine and, for a writable chip, its contents (a
/// read-only chip holds what its file holds). Loading writes the contents
/// back to the image, as QEMU does after an incoming migration, and maps the
/// chip for the mode it was in.
extension PFlashCFI01: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "pflash_cfi01"

    static let commands: Set<UInt8> = [
        Command.readArrayState, Command.programByte, Command.blockErase, Command.blockEraseAlternate,
        Command.programByteAlternate, Command.clearStatus, Command.lockSetup, Command.readStatus,
        Command.readIdentifier, Command.cfiQuery, Command.writeToBuffer,
    ]

    public func save(into record: inout StateRecord) {
        record.put("read-array", isReadArrayMode)
        record.put("wcycle", writeCycle)
        record.put("cmd", command)
        record.put("status", status)
        record.put("counter", counter)
        record.put("buffer-offset", bufferOffset ?? -1)
        record.put("buffer", buffer)
        record.put("size", UInt64(size))
        if !isReadOnly {
            record.put("contents", [UInt8](UnsafeRawBufferPointer(start: storage, count: size)))
        }
    }

    public func load(from record: StateRecord) throws {
        let savedSize: UInt64 = try record.unsigned("size")
        guard savedSize == UInt64(size) else {
            throw StateRecordError.configurationMismatch(record: Self.stateName, reason: "\(name) holds \(size) bytes, the state \(savedSize)")
        }
        let cycle: UInt8 = try record.unsigned("wcycle")
        let savedCommand: UInt8 = try record.unsigned("cmd")
        guard cycle <= 3 else { throw StateRecordError.outOfRange(record: Self.stateName, field: "wcycle") }
        guard PFlashCFI01.commands.contains(savedCommand) else { throw StateRecordError.outOfRange(record: Self.stateName, field: "cmd") }
        let offset = try record.int("buffer-offset", in: -1...(size - 1))
        guard offset < 0 || offset % PFlashCFI01.writeBufferSize == 0 else {
            throw StateRecordError.outOfRange(record: Self.stateName, field: "buffer-offset")
        }
        let savedBuffer = try record.bytes("buffer", count: PFlashCFI01.writeBufferSize)
        let contents = isReadOnly ? nil : try record.bytes("contents", count: size)
        let readArray = try record.bool("read-array")
        status = try record.unsigned("status")
        counter = UInt32(try record.unsigned("counter", as: UInt8.self))
        writeCycle = cycle
        command = savedCommand
        bufferOffset = offset < 0 ? nil : offset
        buffer = savedBuffer
        if let contents {
            contents.withUnsafeBytes { storage.copyMemory(from: $0.baseAddress!, byteCount: size) }
            persist(offset: 0, count: size)
        }
        // Remapped even in the same mode: the map change drops code translated from the old bytes.
        setReadArrayMode(readArray, force: true)
    }
}
