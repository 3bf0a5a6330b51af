// swift-tools-version:5.10
import PackageDescription

// One module per layer; see docs/architecture.md for what flows between them.
let optimise: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "PCEmu",
    products: [
        .executable(name: "pcemu", targets: ["pcemu"]),
    ],
    targets: [
        // C libraries from Debian packages, found through pkg-config.
        .systemLibrary(name: "CSDL2", path: "Sources/CSDL2", pkgConfig: "sdl2",
                       providers: [.apt(["libsdl2-dev"])]),
        .systemLibrary(name: "CPulse", path: "Sources/CPulse", pkgConfig: "libpulse-simple",
                       providers: [.apt(["libpulse-dev"])]),
        .systemLibrary(name: "CSlirp", path: "Sources/CSlirp", pkgConfig: "slirp",
                       providers: [.apt(["libslirp-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Logging by category and the error type every layer reports with.
        .target(name: "PCEmuSupport", swiftSettings: optimise),
        // Disk images: raw and qcow2 (backing files, compressed clusters), -snapshot overlays.
        .target(name: "Storage", dependencies: ["CZlib", "PCEmuSupport"], swiftSettings: optimise),
        // Guest RAM, the physical address space and the I/O port bus.
        .target(name: "Memory", dependencies: ["PCEmuSupport"], swiftSettings: optimise),
        // The virtual clock and its event scheduler.
        .target(name: "Timing", dependencies: ["PCEmuSupport"], swiftSettings: optimise),
        // The device lifecycle: reset, saved state as versioned records, the machine's device registry.
        .target(name: "Lifecycle", dependencies: ["Timing", "CZlib"], swiftSettings: optimise),
        // What the CPU thread's loop drives (ExecutionEngine, EngineStop): below both the
        // CPU, which implements it, and the machine, which builds a CPU and runs it.
        .target(name: "Execution", swiftSettings: optimise),
        // Host side: the SDL2 window and the PulseAudio output.
        .target(name: "Host", dependencies: ["CSDL2", "CPulse", "PCEmuSupport"], swiftSettings: optimise),
        // User-mode networking: libslirp on its own thread (see docs/architecture.md).
        .target(name: "Network", dependencies: ["CSlirp", "PCEmuSupport"], swiftSettings: optimise),
        // x86 guest code: the instruction decoder the translator reads from.
        .target(name: "X86Frontend", dependencies: ["IR", "X86State", "PCEmuSupport", "X87"], swiftSettings: optimise),
        // The x86 CPU's architectural state: CPUState, segment caches, flags, the TLB's layout.
        .target(name: "X86State", dependencies: ["X87", "Memory"], swiftSettings: optimise),
        // The IR every backend executes: ops, builder, printer, optimizer, interpreter.
        .target(name: "IR", swiftSettings: optimise),
        // The x86-64 JIT: an assembler, the code cache, and IR -> host code.
        .target(name: "X64Backend", dependencies: ["IR"], swiftSettings: optimise),
        // The CPU's runtime: software MMU, helpers, exceptions, the block cache and execution loop.
        .target(name: "CPURuntime", dependencies: ["X86Frontend", "X86State", "X87", "IR", "X64Backend", "Memory", "Timing", "Execution", "Lifecycle", "PCEmuSupport"],
                swiftSettings: optimise),
        // The x87 FPU: state and instruction semantics, computed on the host's x87
        // (through the C shim CX87Host) so results and flags are real hardware's.
        .target(name: "CX87Host"),
        .target(name: "X87", dependencies: ["CX87Host"], swiftSettings: optimise),
        // The command line, in QEMU's spelling, turned into a machine configuration.
        .target(name: "Configuration", dependencies: ["PCEmuSupport"], swiftSettings: optimise),
        // The PC machine: assembles memory, clock, devices and CPU and runs them.
        .target(name: "Machine", dependencies: ["PCEmuSupport", "Memory", "Timing", "Execution", "Configuration",
                                                "Devices", "CPURuntime", "X86State", "Host", "Network", "Storage", "Lifecycle", "CZlib"],
                swiftSettings: optimise),
        // The PC chipset: PIC, PIT, RTC/CMOS, UARTs, reset ports, 8042 with PS/2 keyboard and mouse,
        // PCI bus with i440FX/PIIX3/PIIX4 PM, QEMU fw_cfg and the debug console.
        .target(name: "Devices", dependencies: ["Memory", "Timing", "Storage", "Lifecycle", "PCEmuSupport"], swiftSettings: optimise),
        // Control of a running machine from outside: the human monitor (HMP).
        .target(name: "Control", dependencies: ["Machine", "Configuration", "CPURuntime", "Devices", "Memory", "Storage", "PCEmuSupport",
                                                "X86State", "X87"],
                swiftSettings: optimise),
        .executableTarget(name: "pcemu", dependencies: ["Configuration", "Machine", "Control", "Host", "PCEmuSupport"],
                          swiftSettings: optimise),

        // The interpreter benchmark: a fixed guest workload, timed beside qemu-system-i386.
        .executableTarget(name: "pcemu-bench", dependencies: ["CPURuntime", "Memory", "Timing"], swiftSettings: optimise),

        .testTarget(name: "MemoryTests", dependencies: ["Memory", "PCEmuSupport"]),
        .testTarget(name: "TimingTests", dependencies: ["Timing"]),
        .testTarget(name: "LifecycleTests", dependencies: ["Lifecycle", "Timing"]),
        .testTarget(name: "ConfigurationTests", dependencies: ["Configuration", "PCEmuSupport"]),
        .testTarget(name: "MachineTests", dependencies: ["Machine", "Timing", "Execution", "Memory", "Devices",
                                                         "CPURuntime", "X86State", "Configuration", "Lifecycle", "TestSupport"]),
        .testTarget(name: "DevicesTests", dependencies: ["Devices", "Memory", "Timing", "Storage", "Lifecycle", "PCEmuSupport", "TestSupport"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "PCEmuSupport", "TestSupport"]),
        .testTarget(name: "X86FrontendTests", dependencies: ["X86Frontend"]),
        .testTarget(name: "CPUTests", dependencies: ["CPURuntime", "Memory", "Timing", "X86State", "X87", "Lifecycle", "TestSupport"]),
        .testTarget(name: "X87Tests", dependencies: ["X87"]),
        .testTarget(name: "IRTests", dependencies: ["IR"]),
        .testTarget(name: "X64BackendTests", dependencies: ["X64Backend", "IR"]),
        // Whole machines: the real pcemu booting SeaBIOS and the default Linux guest.
        .testTarget(name: "GuestTests", dependencies: ["pcemu", "TestSupport"]),
        .testTarget(name: "HostTests", dependencies: ["Host", "TestSupport"]),
        .testTarget(name: "CommandLineTests", dependencies: ["pcemu", "TestSupport"]),
        // The monitors' protocols against a real machine that is not running.
        .testTarget(name: "ControlTests", dependencies: ["Control", "Machine", "Configuration", "Timing", "TestSupport"]),
        // Helpers shared by tests: starting Xvfb, PulseAudio, running pcemu.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
    ]
)
