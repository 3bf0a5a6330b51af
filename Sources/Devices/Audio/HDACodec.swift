import Foundation

/// The codec on an HD Audio link, as QEMU's `hda-duplex` and `hda-output`
/// (Red Hat's vendor ID, no vendor patch: Linux drives it with its generic
/// parser). Its widgets:
///
///     0x00 root -> 0x01 audio function group
///     0x02 output converter (DAC, stereo, output amp) -> 0x03 line-out pin
///     0x04 input converter (ADC, stereo, input amp) <- 0x05 line-in pin   (duplex only)
///
/// It answers verbs: parameters, connection lists and selection, amplifier
/// gain and mute, converter format and stream/channel, pin control, power
/// state, pin sense, configuration defaults, subsystem ID, function reset.
/// What the machine needs from it: which stream feeds the DAC, at what
/// gain, and whether the path to the line-out is on.
public final class HDACodec {
    public enum Node {
        public static let root = 0x00
        public static let audioFunction = 0x01
        public static let dac = 0x02
        public static let lineOut = 0x03
        public static let adc = 0x04
        public static let lineIn = 0x05
    }

    /// Get Parameter's parameter IDs.
    enum Parameter {
        static let vendorID = 0x00
        static let revisionID = 0x02
        static let nodeCount = 0x04
        static let functionType = 0x05
        static let functionCapabilities = 0x08
        static let widgetCapabilities = 0x09
        static let pcmSizesAndRates = 0x0A
        static let streamFormats = 0x0B
        static let pinCapabilities = 0x0C
        static let inputAmpCapabilities = 0x0D
        static let connectionListLength = 0x0E
        static let powerStates = 0x0F
        static let processingCapabilities = 0x10
        static let gpioCount = 0x11
        static let outputAmpCapabilities = 0x12
        static let volumeKnobCapabilities = 0x13
    }

    /// The twelve-bit verbs (an eight-bit payload).
    enum Verb {
        static let getParameter = 0xF00
        static let getConnectionSelect = 0xF01
        static let setConnectionSelect = 0x701
        static let getConnectionListEntry = 0xF02
        static let getProcessingState = 0xF03
        static let getPowerState = 0xF05
        static let setPowerState = 0x705
        static let getStreamChannel = 0xF06
        static let setStreamChannel = 0x706
        static let getPinControl = 0xF07
        static let setPinControl = 0x707
        static let getUnsolicited = 0xF08
        static let setUnsolicited = 0x708
        static let getPinSense = 0xF09
        static let getEAPD = 0xF0C
        static let setEAPD = 0x70C
        static let getConfigurationDefault = 0xF1C
        static let getSubsystemID = 0xF20
        static let functionReset = 0x7FF
    }

    /// The four-bit verbs (a sixteen-bit payload).
    enum LongVerb {
        static let setConverterFormat = 0x2
        static let setAmplifier = 0x3
        static let getConverterFormat = 0xA
        static let getAmplifier = 0xB
    }

    enum WidgetType {
        static let output: UInt32 = 0x0
        static let input: UInt32 = 0x1
        static let pin: UInt32 = 0x4
    }

    enum WidgetCapability {
        static let stereo: UInt32 = 0x001
        static let inputAmp: UInt32 = 0x002
        static let outputAmp: UInt32 = 0x004
        static let ampOverride: UInt32 = 0x008
        static let formatOverride: UInt32 = 0x010
        static let connectionList: UInt32 = 0x100
        static let powerControl: UInt32 = 0x400
        static let typeShift: UInt32 = 20
    }

    /// Pin widget control bits.
    public enum PinControl {
        public static let inputEnable: UInt8 = 0x20
        public static let outputEnable: UInt8 = 0x40
    }

    /// 16-bit samples at 8 to 96 kHz; PCM only.
    static let pcmSizesAndRates: UInt32 = 0x0002_01FF
    static let pcmFormats: UInt32 = 0x1
    /// Amplifiers: mute, 1 dB steps (step size field 3), 0 dB at step 74.
    static let ampSteps: UInt8 = 0x4A
    static let ampCapabilities: UInt32 = 0x8000_0000 | 3 << 16 | UInt32(ampSteps) << 8 | UInt32(ampSteps)
    static let powerStatesSupported: UInt32 = 0xF
    /// Red Hat's vendor ID with QEMU's device numbers for the two codecs.
    static let duplexID: UInt32 = 0x1AF4_0022
    static let outputID: UInt32 = 0x1AF4_0021
    static let subsystemID: UInt32 = 0x1AF4_1100
    /// Configuration defaults: a green 1/8" line-out jack at the rear
    /// (association 1), a blue line-in jack (association 2).
    static let lineOutConfiguration: UInt32 = 0x0101_4010
    static let lineInConfiguration: UInt32 = 0x0181_3020

    /// One amplifier's left and right: gain step and mute.
    struct Amplifier {
        var gain: [UInt8] = [HDACodec.ampSteps, HDACodec.ampSteps]
        var mute = [false, false]
    }

    public let duplex: Bool
    var dacFormat: UInt16 = 0x0011
    var adcFormat: UInt16 = 0x0011
    var dacStream: UInt8 = 0
    var adcStream: UInt8 = 0
    var dacAmp = Amplifier()
    var adcAmp = Amplifier()
    var pinControl: [Int: UInt8] = [:]
    var power: [Int: UInt8] = [:]
    var unsolicited: [Int: UInt8] = [:]

    public init(duplex: Bool) {
        self.duplex = duplex
        reset()
    }

    /// Power-on state: streams unassigned, amplifiers at 0 dB and muted
    /// (as Linux expects to find and unmute them), pins off, all in D0.
    public func reset() {
        dacFormat = 0x0011
        adcFormat = 0x0011
        dacStream = 0
        adcStream = 0
        dacAmp = Amplifier(mute: [true, true])
        adcAmp = Amplifier(mute: [true, true])
        pinControl = [Node.lineOut: 0, Node.lineIn: 0]
        for node in nodes { power[node] = 0 }
        unsolicited = [:]
    }

    var lastNode: Int { duplex ? Node.lineIn : Node.lineOut }
    var nodes: ClosedRange<Int> { Node.audioFunction...lastNode }

    // MARK: What the controller asks

    /// The stream tag the DAC listens to (0: none).
    public var outputStream: UInt8 { dacStream }
    public var inputStream: UInt8 { duplex ? adcStream : 0 }

    /// Left and right gain from the DAC to the line-out jack: the DAC's
    /// amplifier, and nothing unless the pin drives its output and the
    /// function group and DAC are powered (D0).
    public var outputGains: (left: Float, right: Float) {
        guard pinControl[Node.lineOut, default: 0] & PinControl.outputEnable != 0,
              actualPower(Node.dac) == 0 else { return (0, 0) }
        func gain(_ channel: Int) -> Float {
            if dacAmp.mute[channel] { return 0 }
            let decibels = Double(Int(dacAmp.gain[channel]) - Int(HDACodec.ampSteps))
            return Float(pow(10, decibels / 20))
        }
        return (gain(0), gain(1))
    }

    /// Left and right gain from the line-in jack to the ADC: its input
    /// amplifier, and nothing unless the pin takes input and the ADC is in D0.
    public var inputGains: (left: Float, right: Float) {
        guard duplex, pinControl[Node.lineIn, default: 0] & PinControl.inputEnable != 0,
              actualPower(Node.adc) == 0 else { return (0, 0) }
        func gain(_ channel: Int) -> Float {
            if adcAmp.mute[channel] { return 0 }
            return Float(pow(10, Double(Int(adcAmp.gain[channel]) - Int(HDACodec.ampSteps)) / 20))
        }
        return (gain(0), gain(1))
    }

    // MARK: Verbs

    /// Runs one verb addressed to this codec (bits 27:0 of the command)
    /// and returns its response.
    public func execute(_ command: UInt32) -> UInt32 {
        let node = Int(command >> 20 & 0x7F)
        let verb12 = Int(command >> 8 & 0xFFF)
        let payload8 = UInt8(truncatingIfNeeded: command)
        let verb4 = Int(command >> 16 & 0xF)
        let payload16 = UInt16(truncatingIfNeeded: command)
        guard node == Node.root || nodes.contains(node) else { return 0 }

        switch verb4 {
        case LongVerb.setConverterFormat:
            if node == Node.dac { dacFormat = payload16 } else if node == Node.adc, duplex { adcFormat = payload16 }
            return 0
        case LongVerb.setAmplifier:
            setAmplifier(node: node, payload16)
            return 0
        case LongVerb.getConverterFormat:
            return UInt32(node == Node.dac ? dacFormat : node == Node.adc ? adcFormat : 0)
        case LongVerb.getAmplifier:
            return getAmplifier(node: node, payload16)
        default:
            break
        }

        switch verb12 {
        case Verb.getParameter:
            return parameter(node: node, Int(payload8))
        case Verb.getConnectionSelect, Verb.setConnectionSelect:
            return 0  // each connection list has one entry
        case Verb.getConnectionListEntry:
            // Entries from the index given, four to a response; one each here.
            guard payload8 == 0 else { return 0 }
            if node == Node.lineOut { return UInt32(Node.dac) }
            if node == Node.adc { return UInt32(Node.lineIn) }
            return 0
        case Verb.getPowerState:
            // Transitions complete at once: the actual state is the one set,
            // or the function group's when that is deeper.
            return UInt32(actualPower(node)) << 4 | UInt32(power[node] ?? 0)
        case Verb.setPowerState:
            power[node] = payload8 & 0x3
            return 0
        case Verb.getStreamChannel:
            if node == Node.dac { return UInt32(dacStream) << 4 }
            if node == Node.adc { return UInt32(adcStream) << 4 }
            return 0
        case Verb.setStreamChannel:
            if node == Node.dac { dacStream = payload8 >> 4 } else if node == Node.adc { adcStream = payload8 >> 4 }
            return 0
        case Verb.getPinControl:
            return UInt32(pinControl[node] ?? 0)
        case Verb.setPinControl:
            if node == Node.lineOut { pinControl[node] = payload8 & PinControl.outputEnable }
            if node == Node.lineIn { pinControl[node] = payload8 & PinControl.inputEnable }
            return 0
        case Verb.getUnsolicited:
            return UInt32(unsolicited[node] ?? 0)
        case Verb.setUnsolicited:
            unsolicited[node] = payload8
            return 0
        case Verb.getPinSense:
            // No presence detection: the jacks are taken as always in use.
            return 0
        case Verb.getConfigurationDefault:
            if node == Node.lineOut { return HDACodec.lineOutConfiguration }
            if node == Node.lineIn { return HDACodec.lineInConfiguration }
            return 0
        case Verb.getSubsystemID:
            return HDACodec.subsystemID
        case Verb.functionReset:
            if node == Node.audioFunction { reset() }
            return 0
        default:
            return 0
        }
    }

    private func parameter(node: Int, _ id: Int) -> UInt32 {
        switch (node, id) {
        case (Node.root, Parameter.vendorID): return duplex ? HDACodec.duplexID : HDACodec.outputID
        case (Node.root, Parameter.revisionID): return 0x0010_0101
        case (Node.root, Parameter.nodeCount): return UInt32(Node.audioFunction) << 16 | 1
        case (Node.audioFunction, Parameter.nodeCount):
            return UInt32(Node.dac) << 16 | UInt32(lastNode - Node.dac + 1)
        case (Node.audioFunction, Parameter.functionType): return 0x01  // audio
        case (Node.audioFunction, Parameter.functionCapabilities): return 0
        case (Node.audioFunction, Parameter.pcmSizesAndRates), (Node.dac, Parameter.pcmSizesAndRates),
             (Node.adc, Parameter.pcmSizesAndRates):
            return HDACodec.pcmSizesAndRates
        case (Node.audioFunction, Parameter.streamFormats), (Node.dac, Parameter.streamFormats),
             (Node.adc, Parameter.streamFormats):
            return HDACodec.pcmFormats
        case (Node.audioFunction, Parameter.inputAmpCapabilities), (Node.audioFunction, Parameter.outputAmpCapabilities),
             (Node.dac, Parameter.outputAmpCapabilities), (Node.adc, Parameter.inputAmpCapabilities):
            return HDACodec.ampCapabilities
        case (Node.audioFunction, Parameter.powerStates), (Node.dac, Parameter.powerStates),
             (Node.lineOut, Parameter.powerStates), (Node.adc, Parameter.powerStates), (Node.lineIn, Parameter.powerStates):
            return HDACodec.powerStatesSupported
        case (Node.audioFunction, Parameter.gpioCount): return 0
        case (_, Parameter.widgetCapabilities):
            return widgetCapabilities(node)
        case (Node.lineOut, Parameter.pinCapabilities): return 0x10  // output capable
        case (Node.lineIn, Parameter.pinCapabilities): return 0x20   // input capable
        case (Node.lineOut, Parameter.connectionListLength), (Node.adc, Parameter.connectionListLength):
            return 1
        default:
            return 0
        }
    }

    private func widgetCapabilities(_ node: Int) -> UInt32 {
        typealias C = WidgetCapability
        switch node {
        case Node.dac:
            return WidgetType.output << C.typeShift | C.stereo | C.outputAmp | C.ampOverride | C.formatOverride | C.powerControl
        case Node.lineOut:
            return WidgetType.pin << C.typeShift | C.stereo | C.connectionList | C.powerControl
        case Node.adc:
            return WidgetType.input << C.typeShift | C.stereo | C.inputAmp | C.ampOverride | C.formatOverride
                | C.connectionList | C.powerControl
        case Node.lineIn:
            return WidgetType.pin << C.typeShift | C.stereo | C.powerControl
        default:
            return 0
        }
    }

    private func actualPower(_ node: Int) -> UInt8 {
        max(power[node] ?? 0, node == Node.root ? 0 : power[Node.audioFunction] ?? 0)
    }

    /// Set Amplifier Gain/Mute: bit 15 output, 14 input, 13 left, 12 right,
    /// 11:8 the input index, 7 mute, 6:0 the gain step.
    private func setAmplifier(node: Int, _ payload: UInt16) {
        let output = payload & 0x8000 != 0, input = payload & 0x4000 != 0
        let gain = min(UInt8(payload & 0x7F), HDACodec.ampSteps)
        let mute = payload & 0x80 != 0
        func apply(_ amp: inout Amplifier) {
            if payload & 0x2000 != 0 { amp.gain[0] = gain; amp.mute[0] = mute }
            if payload & 0x1000 != 0 { amp.gain[1] = gain; amp.mute[1] = mute }
        }
        if node == Node.dac, output { apply(&dacAmp) }
        if node == Node.adc, input, payload >> 8 & 0xF == 0 { apply(&adcAmp) }
    }

    /// Get Amplifier Gain/Mute: bit 15 output (else input), 13 left (else right), 3:0 the index.
    private func getAmplifier(node: Int, _ payload: UInt16) -> UInt32 {
        let channel = payload & 0x2000 != 0 ? 0 : 1
        let output = payload & 0x8000 != 0
        let amp: Amplifier
        if node == Node.dac, output { amp = dacAmp } else if node == Node.adc, !output, payload & 0xF == 0 { amp = adcAmp } else { return 0 }
        return UInt32(amp.gain[channel]) | (amp.mute[channel] ? 0x80 : 0)
    }
}
