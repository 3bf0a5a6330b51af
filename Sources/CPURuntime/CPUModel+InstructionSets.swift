import X86Frontend

extension CPUModel {
    /// The instruction sets whose CPUID bit the model leaves clear, as
    /// `X86Translator.missingInstructionSets`: their instructions raise #UD,
    /// as on a CPU without them. SSE and SSE2 go by CR4.OSFXSR alone.
    var missingInstructionSets: UInt32 {
        let gated: [(String, InstructionSet)] = [("mmx", .mmx), ("pni", .sse3), ("ssse3", .ssse3), ("sse4.1", .sse41),
                                                 ("sse4.2", .sse42), ("popcnt", .popcnt)]
        var missing: UInt32 = 0
        for (feature, set) in gated where !features.contains(feature) { missing |= 1 << UInt32(set.rawValue) }
        return missing
    }
}
