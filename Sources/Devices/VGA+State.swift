import Lifecycle

/// Every register file (sequencer, graphics, attribute with its flip-flop,
/// CRTC, misc output, feature control), the DAC (palette, mask, indices and
/// the component reached), the planar latches, and the 16 MiB of video
/// memory as one bytes field. A load redraws the whole screen.
extension VGA: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "vga"

    public func save(into record: inout StateRecord) {
        record.put("sequencer", sequencer)
        record.put("sequencerIndex", sequencerIndex)
        record.put("graphics", graphics)
        record.put("graphicsIndex", graphicsIndex)
        record.put("attribute", attribute)
        record.put("attributeIndex", attributeIndex)
        record.put("attributeExpectsData", attributeExpectsData)
        record.put("crtc", crtc)
        record.put("crtcIndex", crtcIndex)
        record.put("miscOutput", miscOutput)
        record.put("featureControl", featureControl)
        record.put("palette", palette)
        record.put("dacMask", dacMask)
        record.put("dacReadIndex", dacReadIndex)
        record.put("dacWriteIndex", dacWriteIndex)
        record.put("dacComponent", dacComponent)
        record.put("dacWriteTriple", [dacWriteTriple.0, dacWriteTriple.1, dacWriteTriple.2])
        record.put("dacState", dacState)
        record.put("latch", latch)
        record.put("vram", .borrowed(BorrowedBytes(runs: [UnsafeRawBufferPointer(start: memory.base, count: VideoMemory.size)])))
    }

    public func load(from record: StateRecord) throws {
        let newSequencer = try record.bytes("sequencer", count: SequencerIndex.count)
        let newGraphics = try record.bytes("graphics", count: GraphicsIndex.count)
        let newAttribute = try record.bytes("attribute", count: AttributeIndex.count)
        let newCRTC = try record.bytes("crtc", count: CRTCIndex.count)
        let newPalette = try record.bytes("palette", count: 256 * 3)
        let triple = try record.bytes("dacWriteTriple", count: 3)
        let component = try record.int("dacComponent", in: 0...2)
        let indices: [UInt8] = try ["sequencerIndex", "graphicsIndex", "attributeIndex", "crtcIndex", "miscOutput", "featureControl",
                                    "dacMask", "dacReadIndex", "dacWriteIndex", "dacState"].map { try record.unsigned($0) }
        let expectsData = try record.bool("attributeExpectsData")
        let newLatch: UInt32 = try record.unsigned("latch")
        let vram = try record.bytes("vram", count: VideoMemory.size)
        (sequencer, graphics, attribute, crtc, palette) = (newSequencer, newGraphics, newAttribute, newCRTC, newPalette)
        (sequencerIndex, graphicsIndex, attributeIndex, crtcIndex) = (indices[0], indices[1], indices[2], indices[3])
        (miscOutput, featureControl, dacMask, dacReadIndex, dacWriteIndex, dacState) =
            (indices[4], indices[5], indices[6], indices[7], indices[8], indices[9])
        attributeExpectsData = expectsData
        dacComponent = component
        dacWriteTriple = (triple[0], triple[1], triple[2])
        latch = newLatch
        vram.withUnsafeBytes { memory.base.copyMemory(from: $0.baseAddress!, byteCount: VideoMemory.size) }
        registerGeneration &+= 1
        memory.markAllDirty()
    }
}
