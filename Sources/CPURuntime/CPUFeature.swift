/// The CPUID registers that hold feature bits.
public enum CPUFeatureWord: Int, CaseIterable, Sendable {
    /// CPUID 1 EDX and ECX.
    case basicEDX, basicECX
    /// CPUID 0x80000001 EDX and ECX.
    case extendedEDX, extendedECX

    /// How -cpu help and warnings name the register, in QEMU's words.
    public var leafName: String {
        switch self {
        case .basicEDX: return "CPUID.01H:EDX"
        case .basicECX: return "CPUID.01H:ECX"
        case .extendedEDX: return "CPUID.80000001H:EDX"
        case .extendedECX: return "CPUID.80000001H:ECX"
        }
    }
}

/// One feature bit of CPUID, named as QEMU's -cpu option names it.
public struct CPUFeature: Hashable, Sendable {
    public let word: CPUFeatureWord
    public let bit: Int
    public let name: String

    /// Every feature a -cpu model or a +feature may name. QEMU's spellings;
    /// `aliases` adds the other ones it accepts.
    public static let all: [CPUFeature] = {
        var list = [CPUFeature]()
        func add(_ word: CPUFeatureWord, _ names: [Int: String]) {
            for (bit, name) in names.sorted(by: { $0.key < $1.key }) { list.append(CPUFeature(word: word, bit: bit, name: name)) }
        }
        add(.basicEDX, [0: "fpu", 1: "vme", 2: "de", 3: "pse", 4: "tsc", 5: "msr", 6: "pae", 7: "mce",
                        8: "cx8", 9: "apic", 11: "sep", 12: "mtrr", 13: "pge", 14: "mca", 15: "cmov",
                        16: "pat", 17: "pse36", 18: "pn", 19: "clflush", 21: "ds", 22: "acpi", 23: "mmx",
                        24: "fxsr", 25: "sse", 26: "sse2", 27: "ss", 28: "ht", 29: "tm", 30: "ia64", 31: "pbe"])
        add(.basicECX, [0: "pni", 1: "pclmulqdq", 2: "dtes64", 3: "monitor", 4: "ds-cpl", 5: "vmx", 6: "smx",
                        7: "est", 8: "tm2", 9: "ssse3", 10: "cid", 12: "fma", 13: "cx16", 14: "xtpr", 15: "pdcm",
                        17: "pcid", 18: "dca", 19: "sse4.1", 20: "sse4.2", 21: "x2apic", 22: "movbe",
                        23: "popcnt", 24: "tsc-deadline", 25: "aes", 26: "xsave", 27: "osxsave", 28: "avx",
                        29: "f16c", 30: "rdrand", 31: "hypervisor"])
        add(.extendedEDX, [11: "syscall", 19: "mp", 20: "nx", 22: "mmxext", 25: "fxsr-opt", 26: "pdpe1gb",
                           27: "rdtscp", 29: "lm", 30: "3dnowext", 31: "3dnow"])
        add(.extendedECX, [0: "lahf-lm", 1: "cmp-legacy", 2: "svm", 3: "extapic", 4: "cr8legacy", 5: "abm",
                           6: "sse4a", 7: "misalignsse", 8: "3dnowprefetch", 9: "osvw", 10: "ibs", 11: "xop",
                           12: "skinit", 13: "wdt", 15: "lwp", 16: "fma4", 17: "tce", 19: "nodeid-msr",
                           21: "tbm", 22: "topoext", 23: "perfctr-core", 24: "perfctr-nb"])
        return list
    }()

    /// Other spellings QEMU accepts for the same bits.
    static let aliases: [String: String] = [
        "sse3": "pni", "sse4_1": "sse4.1", "sse4_2": "sse4.2", "sse4-1": "sse4.1", "sse4-2": "sse4.2",
        "lahf_lm": "lahf-lm", "xd": "nx", "i64": "lm", "pclmuldq": "pclmulqdq", "tsc_deadline": "tsc-deadline",
        "ffxsr": "fxsr-opt", "fxsr_opt": "fxsr-opt", "cmp_legacy": "cmp-legacy",
    ]

    public static func named(_ name: String) -> CPUFeature? {
        let name = aliases[name] ?? name
        return all.first { $0.name == name }
    }
}

/// A set of CPUID feature bits, one word per feature register.
public struct CPUFeatureSet: Equatable, Sendable {
    public var words: (basicEDX: UInt32, basicECX: UInt32, extendedEDX: UInt32, extendedECX: UInt32)

    public init(basicEDX: UInt32 = 0, basicECX: UInt32 = 0, extendedEDX: UInt32 = 0, extendedECX: UInt32 = 0) {
        words = (basicEDX, basicECX, extendedEDX, extendedECX)
    }

    public init(_ names: [String]) {
        self.init()
        for name in names {
            guard let feature = CPUFeature.named(name) else { preconditionFailure("no CPU feature \(name)") }
            insert(feature)
        }
    }

    public static func == (a: CPUFeatureSet, b: CPUFeatureSet) -> Bool { a.words == b.words }

    public func word(_ word: CPUFeatureWord) -> UInt32 {
        switch word {
        case .basicEDX: return words.basicEDX
        case .basicECX: return words.basicECX
        case .extendedEDX: return words.extendedEDX
        case .extendedECX: return words.extendedECX
        }
    }

    private mutating func update(_ word: CPUFeatureWord, _ change: (inout UInt32) -> Void) {
        switch word {
        case .basicEDX: change(&words.basicEDX)
        case .basicECX: change(&words.basicECX)
        case .extendedEDX: change(&words.extendedEDX)
        case .extendedECX: change(&words.extendedECX)
        }
    }

    public func contains(_ feature: CPUFeature) -> Bool { word(feature.word) & 1 << feature.bit != 0 }
    public mutating func insert(_ feature: CPUFeature) { update(feature.word) { $0 |= 1 << feature.bit } }
    public mutating func remove(_ feature: CPUFeature) { update(feature.word) { $0 &= ~(1 << feature.bit) } }

    public func contains(_ name: String) -> Bool { CPUFeature.named(name).map(contains) ?? false }

    /// The features of `self` that are not in `other`, in CPUID order.
    public func subtracting(_ other: CPUFeatureSet) -> [CPUFeature] {
        CPUFeature.all.filter { contains($0) && !other.contains($0) }
    }

    public func intersection(_ other: CPUFeatureSet) -> CPUFeatureSet {
        CPUFeatureSet(basicEDX: words.basicEDX & other.words.basicEDX, basicECX: words.basicECX & other.words.basicECX,
                      extendedEDX: words.extendedEDX & other.words.extendedEDX,
                      extendedECX: words.extendedECX & other.words.extendedECX)
    }
}
