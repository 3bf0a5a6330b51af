/// Bytes a device lends to its saved state instead of copying them: runs of
/// memory the device owns (guest RAM's pages), valid only until the machine
/// runs again or loads a state. A snapshot saves and writes its record in one
/// go on the CPU thread with the guest stopped, so the largest part of a
/// machine's state goes from guest RAM to the file without a copy of its own.
/// Anything that keeps a record longer takes `StateRecord.materialized()`.
/// Encoded exactly as a bytes field of the runs one after another.
public struct BorrowedBytes: @unchecked Sendable, Equatable {
    public let runs: [UnsafeRawBufferPointer]
    public let count: Int

    public init(runs: [UnsafeRawBufferPointer]) {
        self.runs = runs
        count = runs.reduce(0) { $0 + $1.count }
    }

    /// The bytes as an array of their own.
    public func copied() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var offset = 0
            for run in runs where run.count > 0 {
                UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[offset..<offset + run.count]).copyMemory(from: run)
                offset += run.count
            }
            initialized = count
        }
    }

    public static func == (a: BorrowedBytes, b: BorrowedBytes) -> Bool { a.copied() == b.copied() }
}
