import Configuration
import PCEmuSupport
import XCTest

final class OptionParserTests: XCTestCase {
    func parse(_ line: String) throws -> MachineConfiguration {
        try OptionParser().parse(line.split(separator: " ").map(String.init))
    }

    func assertRefused(_ line: String, mentioning text: String, file: StaticString = #filePath, line number: UInt = #line) {
        XCTAssertThrowsError(try parse(line), file: file, line: number) { error in
            XCTAssertTrue("\(error)".contains(text), "'\(error)' does not mention '\(text)'", file: file, line: number)
        }
    }

    func testMemorySizesInQEMUSpelling() throws {
        XCTAssertEqual(try parse("-m 256").memoryBytes, 256 << 20)
        XCTAssertEqual(try parse("-m 1G").memoryBytes, 1 << 30)
        XCTAssertEqual(try parse("-m size=64M").memoryBytes, 64 << 20)
        XCTAssertEqual(try parse("-m 1.5G").memoryBytes, 1536 << 20)
        XCTAssertEqual(try parse("-m 2048k").memoryBytes, 2 << 20)
        XCTAssertEqual(try parse("").memoryBytes, 128 << 20, "QEMU's default")
        assertRefused("-m abc", mentioning: "invalid size 'abc'")
        assertRefused("-m 0", mentioning: "invalid size")
        assertRefused("-m 512K", mentioning: "at least 1 MiB")
        XCTAssertEqual(try parse("-m 5G").memoryBytes, 5 << 30)
        XCTAssertEqual(try parse("-m 63G").memoryBytes, 63 << 30, "3 GiB below the PCI hole, 60 above 4 GiB")
        assertRefused("-m 64G", mentioning: "at most 63 GiB")
        assertRefused("-m 12X", mentioning: "invalid size")
        assertRefused("-m", mentioning: "requires a value")
    }

    func testUnknownOptionsAreNamed() {
        assertRefused("-frobnicate", mentioning: "-frobnicate: unknown option")
        assertRefused("--frobnicate 3", mentioning: "unknown option")
        assertRefused("-enable-kvm", mentioning: "no KVM")
    }

    func testDoubleDashSpellingIsAccepted() throws {
        XCTAssertEqual(try parse("--m 64").memoryBytes, 64 << 20)
        XCTAssertEqual(try parse("--help").action, .help)
        XCTAssertEqual(try parse("-version").action, .version)
        XCTAssertEqual(try parse("-d help").action, .logHelp)
    }

    func testDrivesFromEverySpelling() throws {
        let config = try parse("-hda a.img -hdd d.img -cdrom cd.iso -fda f.img -drive file=e.qcow2,format=qcow2,if=ide,index=1")
        XCTAssertEqual(config.drives.count, 5)
        XCTAssertEqual(config.drives[0].file, "a.img")
        XCTAssertEqual(config.drives[1].index, 3)
        XCTAssertEqual(config.drives[2].media, .cdrom)
        XCTAssertEqual(config.drives[2].index, 2)
        XCTAssertEqual(config.drives[3].interface, .floppy)
        XCTAssertEqual(try parse("-drive file=s.img,snapshot=on").drives.first?.snapshot, true)
        XCTAssertEqual(config.drives[4].format, .qcow2)
        XCTAssertEqual(config.drives[4].index, 1)
        XCTAssertEqual(try parse("disk.img").drives.first?.file, "disk.img", "a bare file is -hda")
        XCTAssertEqual(try parse("-drive file=a,,b.img").drives.first?.file, "a,b.img", "a doubled comma is a comma")
    }

    func testBadDrivesAreRefused() {
        assertRefused("-hda a.img -drive file=b.img,index=0", mentioning: "already used by -hda")
        assertRefused("-drive file=x,format=vmdk", mentioning: "unknown format 'vmdk'")
        assertRefused("-drive file=x,if=scsi", mentioning: "unknown interface 'scsi'")
        assertRefused("-drive file=x,index=7", mentioning: "index must be 0 to 3")
        assertRefused("-drive format=raw", mentioning: "needs file=PATH")
        assertRefused("-drive file=x,bogus=1", mentioning: "unknown property 'bogus'")
    }

    func testBootOrder() throws {
        XCTAssertEqual(try parse("-boot d").boot.order, "d")
        let boot = try parse("-boot order=cd,once=d,menu=on").boot
        XCTAssertEqual(boot.order, "cd")
        XCTAssertEqual(boot.once, "d")
        XCTAssertTrue(boot.menu)
        assertRefused("-boot z", mentioning: "invalid boot device list 'z'")
    }

    func testNetworkAudioAndDevices() throws {
        let config = try parse("-nic user,model=ne2k_isa,hostfwd=tcp:127.0.0.1:2222-:22 -netdev user,id=n0 -device ne2k_pci,netdev=n0 -audiodev wav,id=a0,path=out.wav")
        XCTAssertEqual(config.nics.first?.kind, "user")
        XCTAssertEqual(config.nics.first?.value("model"), "ne2k_isa")
        XCTAssertEqual(config.nics.first?.value("hostfwd"), "tcp:127.0.0.1:2222-:22")
        XCTAssertEqual(config.netdevs.first?.value("id"), "n0")
        XCTAssertEqual(config.devices.first?.kind, "ne2k_pci")
        XCTAssertEqual(config.audiodevs.first?.value("path"), "out.wav")
        assertRefused("-netdev user", mentioning: "needs id=NAME")
        assertRefused("-audiodev alsa,id=a", mentioning: "unknown audio driver 'alsa'")
        assertRefused("-audiodev wav,id=a", mentioning: "needs path=FILE")
    }

    func testDisplaySerialAndMonitor() throws {
        var config = try parse("-nographic")
        XCTAssertEqual(config.effectiveDisplay, .headless)
        XCTAssertEqual(config.effectiveSerial, [.stdio])
        config = try parse("-display none -serial file:/tmp/log -serial null -monitor stdio")
        XCTAssertEqual(config.effectiveDisplay, .headless)
        XCTAssertEqual(config.serial, [.file("/tmp/log"), .null])
        XCTAssertEqual(config.monitor, .stdio)
        XCTAssertTrue(config.monitorOnTerminal)
        XCTAssertEqual(try parse("").effectiveDisplay, .sdl)
        XCTAssertEqual(try parse("-display none -screendump /tmp/screen.ppm").screendump, "/tmp/screen.ppm")
        assertRefused("-display gtk", mentioning: "unknown display 'gtk'")
        assertRefused("-serial tcp:1234", mentioning: "only listening sockets are built")
        assertRefused("-serial udp:1234", mentioning: "unknown character device")
    }

    func testMonitorSocketsInQEMUsSpellings() throws {
        XCTAssertEqual(try parse("-monitor unix:/tmp/m.sock,server,nowait").monitor, .socket(.unix(path: "/tmp/m.sock"), wait: false))
        XCTAssertEqual(try parse("-monitor unix:/tmp/m.sock,server=on,wait=off").monitor, .socket(.unix(path: "/tmp/m.sock"), wait: false))
        XCTAssertEqual(try parse("-monitor unix:/tmp/a,,b,server").monitor, .socket(.unix(path: "/tmp/a,b"), wait: true))
        XCTAssertEqual(try parse("-monitor tcp:127.0.0.1:4444,server,nowait").monitor,
                       .socket(.tcp(host: "127.0.0.1", port: 4444), wait: false))
        XCTAssertEqual(try parse("-monitor tcp::4444,server,nowait").monitor, .socket(.tcp(host: "0.0.0.0", port: 4444), wait: false))
        assertRefused("-monitor unix:/tmp/m.sock", mentioning: "add ',server'")
        assertRefused("-monitor tcp:localhost,server", mentioning: "is not tcp:HOST:PORT")
        assertRefused("-monitor tcp:localhost:0,server", mentioning: "is not tcp:HOST:PORT")
        assertRefused("-monitor unix:,server", mentioning: "names no address")
        assertRefused("-monitor unix:/x,server,telnet", mentioning: "is not key=value")
    }

    func testAccelSmpMachineAndLogging() throws {
        XCTAssertEqual(try parse("-accel tcg,backend=interp").backend, .interpreter)
        XCTAssertEqual(try parse("-accel tcg,backend=jit").backend, .jit)
        XCTAssertNil(try parse("-accel tcg").backend)
        assertRefused("-accel kvm", mentioning: "unknown accelerator 'kvm'")
        assertRefused("-accel tcg,backend=llvm", mentioning: "unknown backend 'llvm'")
        XCTAssertEqual(try parse("-accel tcg").codeCacheMiB, 1024)
        XCTAssertEqual(try parse("-accel tcg,tb-size=64").codeCacheMiB, 64)
        assertRefused("-accel tcg,tb-size=0", mentioning: "tb-size")
        assertRefused("-accel tcg,tb-size=4096", mentioning: "1 to 2047")
        assertRefused("-accel tcg,tb-size=big", mentioning: "tb-size")
        XCTAssertEqual(try parse("-smp 1").cpuCount, 1)
        XCTAssertEqual(try parse("-smp cpus=1,cores=1").cpuCount, 1)
        assertRefused("-smp 2", mentioning: "one CPU")
        assertRefused("-smp x", mentioning: "invalid cpus 'x'")
        XCTAssertNil(try parse("").cpuModel)
        let cpu = try parse("-cpu qemu32,+sse4.2,-mmx,pse36=on,sse=off,popcnt")
        XCTAssertEqual(cpu.cpuModel, "qemu32")
        XCTAssertEqual(cpu.cpuFeatureChanges.map { "\($0.enabled ? "+" : "-")\($0.feature)" },
                       ["+sse4.2", "-mmx", "+pse36", "-sse", "+popcnt"])
        XCTAssertEqual(try parse("-cpu help").action, .cpuHelp)
        XCTAssertEqual(try parse("-cpu ?").action, .cpuHelp)
        assertRefused("-cpu ,+sse", mentioning: "no CPU model")
        assertRefused("-cpu qemu64,family=6", mentioning: "takes on or off")
        assertRefused("-cpu qemu64,,", mentioning: "empty CPU property")
        XCTAssertNoThrow(try parse("-M pc -machine pc-i440fx-7.2"))
        assertRefused("-M q35", mentioning: "unknown machine 'q35'")
        XCTAssertEqual(try parse("-d int,unimp -D /tmp/x.log").logList, "int,unimp")
        assertRefused("-d bogus", mentioning: "unknown log category 'bogus'")
        XCTAssertEqual(try parse("-name guest=deb,debug-threads=on").name, "deb")
        XCTAssertEqual(try parse("-name mybox").name, "mybox")
    }

    func testFlags() throws {
        let config = try parse("-no-reboot -snapshot")
        XCTAssertTrue(config.noReboot)
        XCTAssertTrue(config.snapshot)
    }
}

final class ConfigurationValidatorTests: XCTestCase {
    func validate(_ line: String, available: Capabilities) throws {
        let config = try OptionParser().parse(line.split(separator: " ").map(String.init))
        try ConfigurationValidator(available: available).validate(config)
    }

    func testTheMonitorIsASocketOrTheTerminalAndSocketsAreForTheMonitor() throws {
        let all: Capabilities = [.cpu, .firmware, .monitor, .serialPorts]
        XCTAssertNoThrow(try validate("-monitor unix:/tmp/m,server,nowait", available: all))
        XCTAssertNoThrow(try validate("-monitor stdio", available: all))
        XCTAssertNoThrow(try validate("-nographic -serial mon:stdio -monitor stdio", available: all))
        XCTAssertThrowsError(try validate("-monitor file:/tmp/m", available: all)) { error in
            XCTAssertTrue("\(error)".contains("only stdio or a listening socket is built"), "\(error)")
        }
        // As in QEMU: the terminal is shared only when asked for with mon:stdio.
        for line in ["-serial stdio -monitor stdio", "-nographic -monitor stdio"] {
            XCTAssertThrowsError(try validate(line, available: all), line) { error in
                XCTAssertTrue("\(error)".contains("cannot use stdio by multiple character devices"), "\(error)")
            }
        }
        XCTAssertThrowsError(try validate("-serial unix:/tmp/s,server", available: all)) { error in
            XCTAssertEqual("\(error)", "-serial: sockets are built for -monitor and -qmp only")
        }
    }

    func testMissingFilesAreNamedBeforeAnythingElse() {
        XCTAssertThrowsError(try validate("-kernel /nonexistent/vmlinuz", available: [])) { error in
            XCTAssertEqual("\(error)", "-kernel: /nonexistent/vmlinuz: No such file or directory")
        }
        XCTAssertThrowsError(try validate("-hda /tmp", available: [])) { error in
            XCTAssertEqual("\(error)", "-hda: /tmp: not a regular file")
        }
    }

    func testAnOptionsOwnMissingPartIsNamed() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("validator-\(getpid()).img")
        _ = FileManager.default.createFile(atPath: file.path, contents: Data(count: 512))
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertThrowsError(try validate("-hda \(file.path)", available: [.cpu, .firmware])) { error in
            XCTAssertEqual(error as? EmulatorError, .notBuilt("-hda", "IDE disks"))
        }
        XCTAssertThrowsError(try validate("-nic user", available: [.cpu, .firmware])) { error in
            XCTAssertEqual(error as? EmulatorError, .notBuilt("-nic", "the NE2000 network card"))
        }
        XCTAssertThrowsError(try validate("-device sb16", available: [.cpu, .firmware])) { error in
            XCTAssertEqual(error as? EmulatorError, .notBuilt("-device", "the Sound Blaster 16"))
        }
        XCTAssertThrowsError(try validate("-device foo", available: .init(rawValue: ~0))) { error in
            XCTAssertEqual("\(error)", "-device: unknown device 'foo'")
        }
        XCTAssertThrowsError(try validate("", available: [])) { error in
            XCTAssertEqual(error as? EmulatorError, .notBuilt("pcemu", "the x86 CPU"))
        }
        XCTAssertNoThrow(try validate("-hda \(file.path) -nic none", available: [.cpu, .firmware, .ideDisk]))
    }

    func testInitrdNeedsAKernel() {
        XCTAssertThrowsError(try validate("-initrd x", available: [])) { error in
            XCTAssertEqual("\(error)", "-initrd: only allowed with -kernel")
        }
    }
}
