import XCTest
@testable import Configuration
import PCEmuSupport

final class SoundOptionTests: XCTestCase {
    func parse(_ line: String) throws -> MachineConfiguration {
        try OptionParser().parse(line.split(separator: " ").map(String.init))
    }

    func testSoundOptionsInQEMUsSpelling() throws {
        let config = try parse("-device sb16,audiodev=a0 -audiodev pa,id=a0 -machine pc,pcspk-audiodev=a0")
        XCTAssertEqual(config.devices.first?.kind, "sb16")
        XCTAssertEqual(config.devices.first?.value("audiodev"), "a0")
        XCTAssertEqual(config.audiodevs.first?.kind, "pa")
        XCTAssertEqual(config.pcSpeakerAudiodev, "a0")
        XCTAssertNil(try parse("-M pc").pcSpeakerAudiodev)
    }

    func testSoundPartsAreAvailableWhenBuilt() throws {
        let config = try parse("-device sb16 -device adlib -audiodev wav,id=a0,path=x.wav -audiodev pa,id=b0")
        let validator = ConfigurationValidator(available: [.cpu, .firmware, .soundBlaster, .pulseAudio, .wavAudio])
        XCTAssertNoThrow(try validator.validate(config))
        XCTAssertThrowsError(try ConfigurationValidator(available: [.cpu, .firmware, .soundBlaster, .pulseAudio]).validate(config)) { error in
            XCTAssertEqual(error as? EmulatorError, .notBuilt("-audiodev", "the WAV audio back end"))
        }
    }
}
