import Configuration
import PCEmuSupport
import XCTest

/// `-qmp`, and QEMU's long spelling `-chardev ... -mon chardev=ID,mode=...`.
final class QMPOptionTests: XCTestCase {
    private func parse(_ line: String) throws -> MachineConfiguration {
        try OptionParser().parse(line.split(separator: " ").map(String.init))
    }

    private func refusal(_ line: String, validated: Bool = false) -> String {
        do {
            let config = try parse(line)
            if validated { try ConfigurationValidator(available: [.cpu, .firmware, .qmp, .monitor, .serialPorts]).validate(config) }
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    func testQMPSocketsAndStdio() throws {
        XCTAssertEqual(try parse("-qmp unix:/tmp/q.sock,server,nowait").qmp, [.socket(.unix(path: "/tmp/q.sock"), wait: false)])
        XCTAssertEqual(try parse("-qmp unix:/tmp/q.sock,server=on,wait=off -qmp tcp:127.0.0.1:4444,server").qmp,
                       [.socket(.unix(path: "/tmp/q.sock"), wait: false), .socket(.tcp(host: "127.0.0.1", port: 4444), wait: true)])
        XCTAssertEqual(try parse("-qmp stdio").qmp, [.stdio])
        XCTAssertEqual(refusal("-qmp unix:/tmp/q.sock"), "-qmp: only listening sockets are built: add ',server'")
    }

    func testTheChardevSpellingMakesQMPOrTheHumanMonitor() throws {
        let config = try parse("-chardev socket,id=qmp0,path=/tmp/q.sock,server=on,wait=off -mon chardev=qmp0,mode=control "
                               + "-chardev socket,id=hmp,host=127.0.0.1,port=5555,server=on -mon chardev=hmp,mode=readline")
        XCTAssertEqual(config.qmp, [.socket(.unix(path: "/tmp/q.sock"), wait: false)])
        XCTAssertEqual(config.monitor, .socket(.tcp(host: "127.0.0.1", port: 5555), wait: true))
        XCTAssertEqual(try parse("-chardev socket,id=m,path=/tmp/m,server=on -mon m").monitor, .socket(.unix(path: "/tmp/m"), wait: true),
                       "QEMU's default mode is readline")
        XCTAssertEqual(refusal("-mon chardev=nope,mode=control"), "-mon: chardev 'nope' not found (give -chardev id=nope first)")
        XCTAssertEqual(refusal("-chardev socket,id=a,path=/tmp/a,server=on -mon chardev=a,mode=json"),
                       "-mon: unknown mode 'json' (control or readline)")
        XCTAssertEqual(refusal("-chardev socket,id=a,path=/tmp/a,server=on -mon chardev=a,mode=control,pretty=on"),
                       "-mon: pretty=on is not built: QMP replies are one line each")
        XCTAssertEqual(refusal("-chardev socket,id=a,path=/tmp/a"), "-chardev: only listening sockets are built: add server=on")
        XCTAssertEqual(refusal("-chardev socket,path=/tmp/a,server=on"), "-chardev: needs id=NAME")
        XCTAssertEqual(refusal("-chardev socket,id=a,path=/tmp/a,server=on -chardev null,id=a"), "-chardev: duplicate ID 'a'")
        XCTAssertEqual(refusal("-chardev pty,id=a"), "-chardev: unknown backend 'pty' (socket, stdio or null)")
    }

    func testStdioIsForQMPOnlyWhenNothingElseUsesTheTerminal() {
        XCTAssertEqual(refusal("-display none -serial none -qmp stdio", validated: true), "accepted")
        XCTAssertTrue(refusal("-nographic -qmp stdio", validated: true).hasPrefix("-qmp: stdio is taken by the serial console"))
        XCTAssertTrue(refusal("-serial stdio -qmp stdio", validated: true).hasPrefix("-qmp: stdio is taken by the serial console"))
        XCTAssertEqual(refusal("-serial none -qmp stdio -qmp stdio", validated: true), "-qmp: stdio can serve one monitor only")
        XCTAssertTrue(refusal("-qmp file:/tmp/x", validated: true).hasPrefix("-qmp: only a listening socket or stdio is built"))
        XCTAssertEqual(refusal("-qmp unix:/tmp/q,server,nowait -serial none", validated: false), "accepted")
        do {
            let config = try parse("-qmp unix:/tmp/q,server,nowait")
            XCTAssertThrowsError(try ConfigurationValidator(available: [.cpu, .firmware]).validate(config)) { error in
                XCTAssertEqual(error as? EmulatorError, .notBuilt("-qmp", "QMP"))
            }
        } catch {
            XCTFail("\(error)")
        }
    }
}
