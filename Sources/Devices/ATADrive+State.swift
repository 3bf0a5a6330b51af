import Lifecycle

/// The disk's registers and settings (the geometry INITIALIZE DEVICE
/// PARAMETERS set, READ/WRITE MULTIPLE's block, write cache, DMA modes) and
/// the transfer under way: where it stands and how much is left. The
/// sectors themselves are the block image's; its size is saved to refuse
/// another disk.
extension ATADrive: IDEDeviceState {
    var stateName: String { "ata-disk" }

    func save() -> StateRecord {
        var record = StateRecord(name: stateName, version: 1)
        saveCommon(into: &record)
        record.put("sectorCount", sectorCount)
        record.put("logicalHeads", logicalHeads)
        record.put("logicalSectorsPerTrack", logicalSectorsPerTrack)
        record.put("multipleSectors", multipleSectors)
        record.put("writeCacheEnabled", writeCacheEnabled)
        record.put("multiwordDMAMode", multiwordDMAMode ?? -1)
        record.put("ultraDMAMode", ultraDMAMode ?? -1)
        record.put("transferLBA", transfer.lba)
        record.put("transferRemaining", transfer.remaining)
        record.put("transferBlockSectors", transfer.blockSectors)
        record.put("transferIsWrite", transfer.isWrite)
        record.put("transferLBA48", transfer.lba48)
        return record
    }

    func prepareLoad(_ record: StateRecord) throws -> () -> Void {
        try record.expect(stateName, version: 1)
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: record.name, field: field) }
        let common = try checkedCommon(record)
        let savedSectors: UInt64 = try record.unsigned("sectorCount")
        guard savedSectors == sectorCount else {
            throw StateRecordError.configurationMismatch(record: record.name, reason: "a disk of \(savedSectors) sectors, this one has \(sectorCount)")
        }
        let heads = try record.int("logicalHeads", in: 1...16)
        let sectors = try record.int("logicalSectorsPerTrack", in: 0...255)
        let multiple = try record.int("multipleSectors", in: 0...ATADrive.maximumMultiple)
        guard multiple & (multiple - 1) == 0 else { throw refuse("multipleSectors") }
        let cache = try record.bool("writeCacheEnabled")
        let multiword = try IDEDevice.checkedMode(record, "multiwordDMAMode")
        let ultra = try IDEDevice.checkedMode(record, "ultraDMAMode")
        var loaded = Transfer()
        loaded.lba = try record.unsigned("transferLBA")
        // At most 65536 sectors (LBA48), all inside the disk.
        loaded.remaining = try record.int("transferRemaining", in: 0...65536)
        guard loaded.lba <= sectorCount, UInt64(loaded.remaining) <= sectorCount - loaded.lba else { throw refuse("transferLBA") }
        loaded.blockSectors = try record.int("transferBlockSectors", in: 1...ATADrive.maximumMultiple)
        loaded.isWrite = try record.bool("transferIsWrite")
        loaded.lba48 = try record.bool("transferLBA48")
        return { [unowned self] in
            restore(common)
            logicalHeads = heads
            logicalSectorsPerTrack = sectors
            multipleSectors = multiple
            writeCacheEnabled = cache
            multiwordDMAMode = multiword
            ultraDMAMode = ultra
            transfer = loaded
        }
    }
}
