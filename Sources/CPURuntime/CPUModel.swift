import PCEmuSupport

/// A CPU model for -cpu, with QEMU's names: what CPUID says the CPU is
/// (vendor, family, model, stepping, highest leaves) and the features it
/// declares. The identities and feature lists are QEMU's for the same name,
/// as qemu-system-x86_64 -accel tcg reports them; a feature PCEmu does not
/// implement is left out of CPUID (QEMU's TCG does the same with a warning).
public struct CPUModel: Sendable {
    public enum Vendor: Sendable {
        case intel, amd
        /// CPUID 0's EBX, EDX, ECX.
        var words: (UInt32, UInt32, UInt32) {
            switch self {
            case .intel: return (0x756E_6547, 0x4965_6E69, 0x6C65_746E)  // "GenuineIntel"
            case .amd: return (0x6874_7541, 0x6974_6E65, 0x444D_4163)    // "AuthenticAMD"
            }
        }
    }

    public let name: String
    public let summary: String
    public let vendor: Vendor
    /// The highest basic and extended leaves (CPUID 0 and 0x80000000 EAX).
    public let level: UInt32
    public let extendedLevel: UInt32
    public let family: UInt32, model: UInt32, stepping: UInt32
    /// What the model declares, before features PCEmu lacks are taken out.
    public let modelFeatures: CPUFeatureSet
    /// The processor brand string of leaves 0x80000002-4, if the model has one.
    public let brand: String?
    /// What CPUID declares: the model's features with -cpu's changes, less
    /// what is not implemented.
    public internal(set) var features: CPUFeatureSet

    init(_ name: String, _ summary: String, _ vendor: Vendor, level: UInt32, extendedLevel: UInt32,
         family: UInt32, model: UInt32, stepping: UInt32, features: [String], brand: String? = nil) {
        self.name = name
        self.summary = summary
        self.vendor = vendor
        self.level = level
        self.extendedLevel = extendedLevel
        self.family = family
        self.model = model
        self.stepping = stepping
        modelFeatures = CPUFeatureSet(features)
        self.brand = brand
        self.features = modelFeatures.intersection(CPUModel.implemented)
    }

    /// CPUID 1's EAX: stepping, model and family with their extended fields.
    public var signature: UInt32 {
        let baseFamily = min(family, 15), extendedFamily = family > 15 ? family - 15 : 0
        return stepping & 0xF | (model & 0xF) << 4 | baseFamily << 8 | (model >> 4) << 16 | extendedFamily << 20
    }

    /// The features PCEmu's CPU implements. The TSC-deadline timer waits for
    /// SSE2: Linux fences its MSR writes with MFENCE.
    public static let implemented = CPUFeatureSet([
        "fpu", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "sep", "mtrr", "pge", "mca", "cmov",
        "pat", "pse36", "fxsr", "hypervisor", "sse", "sse2", "clflush", "pni", "ssse3", "sse4.1", "sse4.2", "popcnt", "mmx",
        "lm", "syscall", "nx", "lahf-lm", "cx16",
    ])

    static let i486 = ["fpu", "pse"]
    static let pentium = i486 + ["de", "tsc", "msr", "mce", "cx8", "mmx", "apic"]
    static let pentium2 = pentium + ["pae", "sep", "mtrr", "pge", "mca", "cmov", "pat", "pse36", "fxsr"]
    static let pentiumPro = ["fpu", "de", "pse", "tsc", "msr", "mce", "cx8", "pge", "cmov", "pat", "fxsr", "mmx",
                             "sse", "sse2", "pae", "sep", "apic"]

    /// The models, in -cpu help's order. Each is QEMU's model of that name
    /// (QEMU 7.2 declares no VME for the 486 and Pentium lines).
    public static let models: [CPUModel] = [
        CPUModel("qemu64", "QEMU Virtual CPU version 2.5+", .amd, level: 0xD, extendedLevel: 0x8000_000A,
                 family: 15, model: 107, stepping: 1,
                 features: pentiumPro + ["mtrr", "clflush", "mca", "pse36", "pni", "cx16", "hypervisor",
                                         "lahf-lm", "svm", "syscall", "nx", "lm"],
                 brand: "QEMU Virtual CPU version 2.5+"),
        CPUModel("qemu32", "QEMU Virtual CPU version 2.5+", .intel, level: 4, extendedLevel: 0x8000_0004,
                 family: 6, model: 6, stepping: 3, features: pentiumPro + ["pni", "hypervisor"],
                 brand: "QEMU Virtual CPU version 2.5+"),
        CPUModel("max", "Enables all features supported by the accelerator", .amd, level: 0xD,
                 extendedLevel: 0x8000_0008, family: 15, model: 107, stepping: 1,
                 features: CPUFeature.all.map(\.name), brand: "PCEmu TCG CPU"),
        CPUModel("pentium3", "Pentium III", .intel, level: 3, extendedLevel: 0, family: 6, model: 7, stepping: 3,
                 features: pentium2 + ["sse", "hypervisor"]),
        CPUModel("pentium2", "Pentium II", .intel, level: 2, extendedLevel: 0, family: 6, model: 5, stepping: 2,
                 features: pentium2 + ["hypervisor"]),
        CPUModel("pentium", "Pentium", .intel, level: 1, extendedLevel: 0, family: 5, model: 4, stepping: 3,
                 features: pentium + ["hypervisor"]),
        CPUModel("486", "Intel 486", .intel, level: 1, extendedLevel: 0, family: 4, model: 8, stepping: 0,
                 features: i486 + ["hypervisor"]),
    ]

    /// The model a machine gets without -cpu: qemu64, as qemu-system-x86_64
    /// gives (its SVM is not built and left out).
    public static let defaultName = "qemu64"
    public static var defaultModel: CPUModel { try! resolve(name: nil, changes: []).model }

    /// The model -cpu names with its +feature/-feature changes, and the
    /// features it asks for that PCEmu lacks (left out of CPUID; the caller
    /// warns about them when the user chose them).
    public static func resolve(name: String?, changes: [(feature: String, enabled: Bool)]) throws
        -> (model: CPUModel, missing: [CPUFeature]) {
        let chosen = name ?? defaultName
        guard var model = models.first(where: { $0.name == chosen }) else {
            if chosen == "host" {
                throw EmulatorError.badOption("-cpu", "'host' needs KVM; PCEmu's CPU is the JIT's (see -cpu help)")
            }
            throw EmulatorError.badOption("-cpu", "unknown CPU model '\(chosen)' (see -cpu help)")
        }
        var wanted = model.modelFeatures
        if model.name == "max" { wanted = implemented }
        for change in changes {
            guard let feature = CPUFeature.named(change.feature) else {
                throw EmulatorError.badOption("-cpu", "unknown CPU feature '\(change.feature)'")
            }
            if change.enabled { wanted.insert(feature) } else { wanted.remove(feature) }
        }
        model.features = wanted.intersection(implemented)
        return (model, wanted.subtracting(implemented))
    }

    /// -cpu help's lines.
    public static var helpLines: [String] {
        var lines = ["Available CPUs:"]
        for model in models {
            let suffix = model.name == defaultName ? " (the default)" : ""
            lines.append("  \(model.name.padding(toLength: 10, withPad: " ", startingAt: 0)) \(model.summary)\(suffix)")
        }
        lines.append("")
        lines.append("Recognized CPUID flags (those PCEmu implements are marked *):")
        for word in CPUFeatureWord.allCases {
            let names = CPUFeature.all.filter { $0.word == word }
                .map { implemented.contains($0) ? "\($0.name)*" : $0.name }
            lines.append("  \(word.leafName): " + names.joined(separator: " "))
        }
        return lines
    }
}
