/// What the translator has done since the CPU was made, for the monitor's
/// `info jit`: counted once per block translated or dropped, never per
/// guest instruction run.
public struct TranslationStatistics: Sendable {
    /// Blocks translated, and the guest instructions and host code bytes they held.
    public var blocksTranslated = 0
    public var guestInstructionsTranslated = 0
    public var hostBytesGenerated = 0
    /// Blocks dropped because the guest wrote to the memory they came from.
    public var blocksInvalidated = 0
    /// The code cache filled and was emptied whole.
    public var fullCacheFlushes = 0
    /// Every translation was dropped because the physical memory map changed
    /// (a region mapped or unmapped: PAM shadowing, a BAR moved) or at reset.
    public var memoryMapFlushes = 0
    /// Filled in when the statistics are read: blocks alive now, and the code cache.
    public var liveBlocks = 0
    public var codeCacheUsed = 0
    public var codeCacheCapacity = 0

    /// QEMU's `info jit` layout, with PCEmu's own counters.
    public var report: String {
        func average(_ total: Int, _ count: Int) -> String {
            guard count > 0 else { return "0" }
            let tenths = (total * 10 + count / 2) / count
            return "\(tenths / 10).\(tenths % 10)"
        }
        return """
            Translation buffer state:
            gen code size       \(codeCacheUsed)/\(codeCacheCapacity)
            TB count            \(liveBlocks)
            TB avg target size  \(average(guestInstructionsTranslated, blocksTranslated)) instructions
            TB avg host size    \(average(hostBytesGenerated, blocksTranslated)) bytes
            TB translated       \(blocksTranslated) (\(guestInstructionsTranslated) instructions, \(hostBytesGenerated) host bytes)

            Statistics:
            TB flush count      \(fullCacheFlushes)
            TB invalidate count \(blocksInvalidated)
            memory map flushes  \(memoryMapFlushes)
            """
    }
}
