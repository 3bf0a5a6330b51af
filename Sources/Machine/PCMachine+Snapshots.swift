import Devices
import Foundation
import Lifecycle
import PCEmuSupport
import Storage

/// One snapshot as `info snapshots` shows it.
public struct SnapshotInfo: Equatable, Sendable {
    public let id: String
    public let tag: String
    public let vmStateSize: UInt64
    public let date: Date
    public let vmClockNanoseconds: UInt64
}

/// Snapshots and migration, as QEMU's savevm/loadvm/delvm and migrate do
/// them. Every function here runs on the CPU thread (the monitor posts it),
/// between guest instructions.
///
/// A snapshot is one internal snapshot of the same tag in every writable
/// disk image; the machine's state (`DeviceRegistry.save`, in
/// `StateRecordCodec`'s byte form) goes with the first one's. Every
/// writable image must be qcow2, as in QEMU: a raw disk could not be
/// brought back with the machine.
extension PCMachine {
    /// The drives whose images can change, by QEMU's names.
    var writableImages: [(name: String, image: BlockImage)] {
        var list: [(String, BlockImage)] = []
        for (place, device) in ideDrives.devices.enumerated() {
            guard let disk = device as? ATADrive, !disk.image.isReadOnly else { continue }
            list.append(("ide\(place / 2)-hd\(place % 2)", disk.image))
        }
        for (index, drive) in floppyDrives.drives.enumerated() {
            guard let image = drive.image, !image.isReadOnly else { continue }
            list.append(("floppy\(index)", image))
        }
        return list
    }

    /// The images a snapshot goes into, the VM state's first.
    func snapshotImages() throws -> [QCOW2Image] {
        let writable = writableImages
        if let refused = writable.first(where: { !($0.image is QCOW2Image) }) {
            throw EmulatorError.badOption(refused.name, "writable, but its image (\(refused.image.path)) is raw and cannot hold snapshots")
        }
        let images = writable.compactMap { $0.image as? QCOW2Image }
        guard !images.isEmpty else { throw EmulatorError.badOption("savevm", "no writable qcow2 disk can hold snapshots") }
        return images
    }

    // MARK: The machine's state

    /// The whole machine's state, ready to be written, taken with the clock
    /// held so every timer is saved against the same instant. It borrows
    /// guest RAM (see `BorrowedBytes`): write it before the guest runs again.
    func machineStateEncoding() throws -> StateEncoding {
        let wasPaused = clock.isPaused
        clock.pause()
        defer { if !wasPaused { clock.resume() } }
        return StateEncoding(try devices.save())
    }

    /// The whole machine's state in its byte form (`StateRecordCodec`).
    public func savedMachineState() throws -> [UInt8] { try machineStateEncoding().bytes }

    /// Loads a state saved by `savedMachineState`; a damaged one, or one
    /// saved by another configuration, is refused and changes nothing.
    public func loadMachineState(_ bytes: [UInt8]) throws {
        let record: StateRecord
        do { record = try StateRecordCodec.decode(bytes) } catch { throw EmulatorError.badOption("loadvm", "the saved state is damaged: \(error)") }
        let wasPaused = clock.isPaused
        clock.pause()
        defer { if !wasPaused { clock.resume() } }
        do { try devices.load(record) } catch { throw EmulatorError.badOption("loadvm", "the saved state does not fit this machine: \(error)") }
        afterStateLoad()
    }

    /// The clock jumped to the saved time: timers that belong to no device
    /// (the screen's refresh, the console's input retry) are armed afresh,
    /// or they would wait for the time they were armed for.
    private func afterStateLoad() {
        displayRefresh?.start()
        stdioConsole?.clockWasSet()
    }

    // MARK: savevm, loadvm, delvm

    /// `savevm TAG`: a snapshot of every writable disk and the machine. A
    /// snapshot of the same tag is replaced, as in QEMU.
    public func saveSnapshot(tag: String) throws {
        let images = try snapshotImages()
        for image in images { try image.flush() }
        let state = try machineStateEncoding()
        let vmClock = UInt64(max(0, clock.now))
        for (index, image) in images.enumerated() {
            if image.snapshot(tag) != nil { try image.deleteSnapshot(tag) }
            if index == 0 {
                try image.createSnapshot(name: tag, vmStateSize: state.count, vmClockNanoseconds: vmClock) { try state.write(at: $0) }
            } else {
                try image.createSnapshot(name: tag, vmState: [], vmClockNanoseconds: vmClock)
            }
        }
    }

    /// `loadvm TAG`: the machine and every writable disk as the snapshot
    /// saved them. Everything is checked first: a snapshot missing from a
    /// disk, without machine state, or saved by another configuration
    /// changes nothing.
    public func loadSnapshot(tag: String) throws {
        let images = try snapshotImages()
        for image in images where image.snapshot(tag) == nil {
            throw EmulatorError.badOption(tag, "no snapshot of that name on \(image.path)")
        }
        let state = try images[0].vmState(of: tag)
        guard !state.isEmpty else { throw EmulatorError.badOption(tag, "the snapshot holds no machine state (a disk-only snapshot)") }
        try loadMachineState(state)
        for image in images { try image.revert(to: tag) }
    }

    /// `delvm TAG`: the snapshot leaves every disk that has it.
    public func deleteSnapshot(tag: String) throws {
        let images = try snapshotImages().filter { $0.snapshot(tag) != nil }
        guard !images.isEmpty else { throw EmulatorError.badOption(tag, "no snapshot of that name") }
        for image in images { try image.deleteSnapshot(tag) }
    }

    /// `info snapshots`: those holding machine state in the first disk and
    /// present in every writable disk, as QEMU lists them.
    public func snapshotList() throws -> [SnapshotInfo] {
        let images = try snapshotImages()
        return images[0].snapshots.filter { snapshot in
            snapshot.vmStateSize > 0 && images.dropFirst().allSatisfy { $0.snapshot(snapshot.name) != nil }
        }.map {
            SnapshotInfo(id: $0.id, tag: $0.name, vmStateSize: $0.vmStateSize,
                         date: Date(timeIntervalSince1970: Double($0.dateSeconds) + Double($0.dateNanoseconds) / 1e9),
                         vmClockNanoseconds: $0.vmClockNanoseconds)
        }
    }
}
