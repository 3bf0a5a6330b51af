import X86State

/// CPUID: the leaves of the -cpu model (`CPUModel`), declaring only what the
/// CPU implements.
extension X86CPU {
    static let extendedLeafBase: UInt32 = 0x8000_0000
    static let brandLeaves: ClosedRange<UInt32> = 0x8000_0002...0x8000_0004
    static let addressSizesLeaf: UInt32 = 0x8000_0008
    /// The physical address width: `AddressSpace.physicalLimit` and `PageWalker.physicalLimit`.
    static let physicalAddressBits = 36
    /// CPUID 1 EBX bits 15:8: CLFLUSH's line in 8-byte units (64 bytes).
    static let flushLineEncoding: UInt32 = 8 << 8
    /// Leaf-1 EDX bits an AMD CPU repeats in 0x80000001 EDX.
    static let amdRepeatedFeatures: UInt32 = 0x0183_F3FF

    func identify() {
        let values = cpuidLeaf(register(0))
        setRegister(0, values.0)
        setRegister(Register.ebx.rawValue, values.1)
        setRegister(Register.ecx.rawValue, values.2)
        setRegister(Register.edx.rawValue, values.3)
    }

    /// EAX, EBX, ECX, EDX for a leaf. A leaf past the model's highest gives
    /// the highest basic leaf, as Intel's CPUs (and QEMU) do.
    func cpuidLeaf(_ requested: UInt32) -> (UInt32, UInt32, UInt32, UInt32) {
        var leaf = requested
        if leaf >= X86CPU.extendedLeafBase ? leaf > model.extendedLevel : leaf > model.level { leaf = model.level }
        let features = model.features
        switch leaf {
        case 0:
            let vendor = model.vendor.words
            return (model.level, vendor.0, vendor.2, vendor.1)
        case 1:
            return (model.signature, X86CPU.flushLineEncoding, basicECX(features), basicEDX(features))
        case 2:
            // One round of descriptors, all null: no cache information here.
            return (1, 0, 0, 0)
        case X86CPU.extendedLeafBase:
            let vendor = model.vendor.words
            return (model.extendedLevel, vendor.0, vendor.2, vendor.1)
        case X86CPU.extendedLeafBase + 1:
            var edx = features.words.extendedEDX
            if model.vendor == .amd { edx |= basicEDX(features) & X86CPU.amdRepeatedFeatures }
            return (model.signature, 0, features.words.extendedECX, edx)
        case X86CPU.brandLeaves:
            return brandWords(leaf - X86CPU.brandLeaves.lowerBound)
        case X86CPU.addressSizesLeaf:
            // MAXPHYADDR 36 (what PAE and PSE-36 walks produce, 64 GiB); 32-bit linear addresses.
            let linearBits: UInt32 = features.contains("lm") ? 48 : 32
            return (UInt32(X86CPU.physicalAddressBits) | linearBits << 8, 0, 0, 0)
        default:
            return (0, 0, 0, 0)
        }
    }

    /// Leaf 1 EDX: the APIC bit only while IA32_APIC_BASE enables the local APIC.
    private func basicEDX(_ features: CPUFeatureSet) -> UInt32 {
        var edx = features.words.basicEDX
        if localAPIC?.hardwareEnabled != true { edx &= ~(1 << 9) }
        return edx
    }

    private func basicECX(_ features: CPUFeatureSet) -> UInt32 {
        var ecx = features.words.basicECX
        if localAPIC == nil { ecx &= ~(1 << 24) }  // tsc-deadline
        return ecx
    }

    /// Sixteen bytes of the brand string, NUL-padded to 48.
    private func brandWords(_ part: UInt32) -> (UInt32, UInt32, UInt32, UInt32) {
        var bytes = Array((model.brand ?? "").utf8.prefix(47))
        bytes += [UInt8](repeating: 0, count: 48 - bytes.count)
        func word(_ n: Int) -> UInt32 {
            let base = Int(part) * 16 + n * 4
            return (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[base + $1]) << (8 * UInt32($1)) }
        }
        return (word(0), word(1), word(2), word(3))
    }
}
