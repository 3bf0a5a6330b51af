import Lifecycle

/// The codec's widget state: both converters' formats and stream tags, the
/// DAC's and ADC's amplifiers, and per node its pin control, power state
/// and unsolicited-response setting. Whether it is the duplex or the
/// output-only codec is configuration, checked by the node count.
extension HDACodec {
    static let stateName = "hda-codec"
    static let stateVersion: UInt32 = 1

    var savedState: StateRecord {
        var record = StateRecord(name: HDACodec.stateName, version: HDACodec.stateVersion)
        record.put("formats", words: [dacFormat, adcFormat])
        record.put("streams", [dacStream, adcStream])
        for (name, amp) in [("dacAmp", dacAmp), ("adcAmp", adcAmp)] {
            record.put(name, amp.gain + amp.mute.map { $0 ? 1 : 0 })
        }
        record.put("pinControl", nodes.map { pinControl[$0] ?? 0 })
        record.put("power", nodes.map { power[$0] ?? 0 })
        record.put("unsolicited", nodes.map { unsolicited[$0] ?? 0 })
        return record
    }

    func prepareLoad(_ record: StateRecord) throws -> () -> Void {
        try record.expect(HDACodec.stateName, version: HDACodec.stateVersion)
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: HDACodec.stateName, field: field) }
        let formats = try record.words("formats", count: 2, as: UInt16.self)
        let tags = try record.bytes("streams", count: 2)
        guard tags.allSatisfy({ $0 <= 0xF }) else { throw refuse("streams") }
        func amplifier(_ name: String) throws -> Amplifier {
            let bytes = try record.bytes(name, count: 4)
            guard bytes[0...1].allSatisfy({ $0 <= HDACodec.ampSteps }), bytes[2...3].allSatisfy({ $0 <= 1 }) else { throw refuse(name) }
            return Amplifier(gain: Array(bytes[0...1]), mute: bytes[2...3].map { $0 == 1 })
        }
        let dac = try amplifier("dacAmp"), adc = try amplifier("adcAmp")
        let nodeList = Array(nodes)
        // Another node count is the other codec: another configuration.
        guard case let .bytes(pins) = try record.value("pinControl"), pins.count == nodeList.count else {
            throw StateRecordError.configurationMismatch(record: HDACodec.stateName, reason: "saved with the other codec")
        }
        let powers = try record.bytes("power", count: nodeList.count)
        let unsolicitedSettings = try record.bytes("unsolicited", count: nodeList.count)
        let pinsFit = zip(nodeList, pins).allSatisfy { node, value in
            switch node {
            case Node.lineOut: return value & ~PinControl.outputEnable == 0
            case Node.lineIn: return value & ~PinControl.inputEnable == 0
            default: return value == 0
            }
        }
        guard pinsFit else { throw refuse("pinControl") }
        guard powers.allSatisfy({ $0 <= 3 }) else { throw refuse("power") }
        return { [unowned self] in
            dacFormat = formats[0]
            adcFormat = formats[1]
            dacStream = tags[0]
            adcStream = tags[1]
            dacAmp = dac
            adcAmp = adc
            pinControl = [Node.lineOut: 0, Node.lineIn: 0]
            power = [:]
            unsolicited = [:]
            for (index, node) in nodeList.enumerated() {
                if pins[index] != 0 { pinControl[node] = pins[index] }
                power[node] = powers[index]
                if unsolicitedSettings[index] != 0 { unsolicited[node] = unsolicitedSettings[index] }
            }
        }
    }
}
