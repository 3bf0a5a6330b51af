import PCEmuSupport

/// The token of a USB transaction (the PID byte a host controller's descriptor names).
public enum USBToken: UInt8 {
    case setup = 0x2D
    case input = 0x69
    case output = 0xE1
}

/// How a device answered one transaction.
public enum USBHandshake: Equatable {
    /// Accepted; the number of bytes moved (IN: written into the buffer).
    case ack(Int)
    /// Nothing to send now: the host tries again in a later frame.
    case nak
    /// The request or endpoint is refused.
    case stall
}

/// The eight bytes of a SETUP packet.
public struct USBSetup: Equatable {
    public var requestType: UInt8
    public var request: UInt8
    public var value: UInt16
    public var index: UInt16
    public var length: UInt16

    public init(requestType: UInt8, request: UInt8, value: UInt16, index: UInt16, length: UInt16) {
        self.requestType = requestType
        self.request = request
        self.value = value
        self.index = index
        self.length = length
    }

    init(_ bytes: UnsafeRawBufferPointer) {
        requestType = bytes[0]
        request = bytes[1]
        value = UInt16(bytes[2]) | UInt16(bytes[3]) << 8
        index = UInt16(bytes[4]) | UInt16(bytes[5]) << 8
        length = UInt16(bytes[6]) | UInt16(bytes[7]) << 8
    }

    public var bytes: [UInt8] {
        [requestType, request, UInt8(value & 0xFF), UInt8(value >> 8), UInt8(index & 0xFF), UInt8(index >> 8),
         UInt8(length & 0xFF), UInt8(length >> 8)]
    }

    var isDeviceToHost: Bool { requestType & 0x80 != 0 }
    /// Standard, class or vendor (bits 6-5).
    var kind: UInt8 { (requestType >> 5) & 3 }
    /// Device, interface, endpoint or other (bits 4-0).
    var recipient: UInt8 { requestType & 0x1F }
}

/// Numbers from chapter 9 of the USB specification.
public enum USBRequest {
    public static let getStatus: UInt8 = 0x00
    public static let clearFeature: UInt8 = 0x01
    public static let setFeature: UInt8 = 0x03
    public static let setAddress: UInt8 = 0x05
    public static let getDescriptor: UInt8 = 0x06
    public static let getConfiguration: UInt8 = 0x08
    public static let setConfiguration: UInt8 = 0x09
    public static let getInterface: UInt8 = 0x0A
    public static let setInterface: UInt8 = 0x0B

    static let kindStandard: UInt8 = 0
    static let kindClass: UInt8 = 1
    static let recipientDevice: UInt8 = 0
    static let recipientInterface: UInt8 = 1
    static let recipientEndpoint: UInt8 = 2
    static let featureEndpointHalt: UInt16 = 0
}

public enum USBDescriptorType {
    public static let device: UInt8 = 1
    public static let configuration: UInt8 = 2
    public static let string: UInt8 = 3
    public static let interface: UInt8 = 4
    public static let endpoint: UInt8 = 5
    public static let hid: UInt8 = 0x21
    public static let hidReport: UInt8 = 0x22
}

/// A full-speed USB function behind a root port: its address, its
/// configuration, and the default control pipe (endpoint 0) run as a
/// SETUP / DATA / STATUS state machine over the transactions a host
/// controller hands it. Standard requests are answered here; a subclass
/// adds its class requests (`classRequestIn`/`classRequestOut`) and its
/// other endpoints (`transferData`).
open class USBDevice {
    public let name: String
    /// The descriptors this device reports.
    let descriptors: USBDescriptorSet
    public internal(set) var address: UInt8 = 0
    public internal(set) var configuration: UInt8 = 0
    /// Endpoint numbers (1-15) the host halted with SET_FEATURE.
    var haltedEndpoints: UInt16 = 0
    /// The USB port's way to hear that an endpoint has data (the host
    /// controller then looks at its schedule again at once).
    public var dataAvailable: () -> Void = {}

    enum ControlStage {
        case idle
        /// IN data for the host, sent in pieces; then an OUT status stage.
        case dataIn
        /// OUT data from the host until `expected` bytes; then an IN status stage.
        case dataOut(expected: Int)
        /// A no-data request done; the IN status stage is next.
        case statusIn
        /// The request was refused: every stage stalls until the next SETUP.
        case stalled
    }

    var stage = ControlStage.idle
    var setup = USBSetup(requestType: 0, request: 0, value: 0, index: 0, length: 0)
    var controlBuffer: [UInt8] = []
    var controlOffset = 0
    var pendingAddress: UInt8?

    init(name: String, descriptors: USBDescriptorSet) {
        self.name = name
        self.descriptors = descriptors
    }

    /// A bus reset (port reset): the default state, address 0, unconfigured.
    open func reset() {
        address = 0
        configuration = 0
        haltedEndpoints = 0
        stage = .idle
        controlBuffer = []
        controlOffset = 0
        pendingAddress = nil
    }

    /// One transaction to endpoint `endpoint`. For IN, `buffer` is where the
    /// device puts its data (its count is the most the host takes); for OUT
    /// and SETUP it holds the host's data.
    public final func transaction(_ token: USBToken, endpoint: Int, buffer: UnsafeMutableRawBufferPointer) -> USBHandshake {
        if endpoint == 0 { return controlTransaction(token, buffer: buffer) }
        guard configuration != 0, haltedEndpoints & (1 << endpoint) == 0, token != .setup else { return .stall }
        return transferData(token, endpoint: endpoint, buffer: buffer)
    }

    // MARK: For subclasses

    /// Endpoints other than 0, once configured.
    open func transferData(_ token: USBToken, endpoint: Int, buffer: UnsafeMutableRawBufferPointer) -> USBHandshake {
        .stall
    }

    /// A class request with data for the host; nil stalls it.
    open func classRequestIn(_ setup: USBSetup) -> [UInt8]? { nil }

    /// A class request from the host, with its data; false stalls it.
    open func classRequestOut(_ setup: USBSetup, data: [UInt8]) -> Bool { false }

    /// A standard GET_DESCRIPTOR addressed to the interface (HID's report descriptor).
    open func interfaceDescriptor(type: UInt8, index: UInt8) -> [UInt8]? { nil }

    /// The host chose configuration `value` (0: unconfigured).
    open func configurationChanged() {}

    // MARK: The control pipe

    private func controlTransaction(_ token: USBToken, buffer: UnsafeMutableRawBufferPointer) -> USBHandshake {
        switch token {
        case .setup:
            guard buffer.count == 8 else {
                Log.write(.guestErrors, "\(name): SETUP of \(buffer.count) bytes")
                stage = .stalled
                return .ack(buffer.count)
            }
            startRequest(USBSetup(UnsafeRawBufferPointer(buffer)))
            return .ack(8)
        case .input:
            switch stage {
            case .dataIn:
                let count = min(buffer.count, controlBuffer.count - controlOffset, Int(descriptors.maxPacketSize0))
                if count > 0 {
                    controlBuffer.withUnsafeBytes { source in
                        buffer.baseAddress!.copyMemory(from: source.baseAddress! + controlOffset, byteCount: count)
                    }
                }
                controlOffset += count
                return .ack(count)
            case let .dataOut(expected):
                // The status stage ends the data stage early or on time.
                guard controlBuffer.count <= expected, finishOut() else { return stallRequest() }
                return .ack(0)
            case .statusIn:
                stage = .idle
                if let pendingAddress {
                    address = pendingAddress
                    self.pendingAddress = nil
                }
                return .ack(0)
            case .idle, .stalled:
                return .stall
            }
        case .output:
            switch stage {
            case .dataIn:
                // The host's status stage (it may end the data stage early).
                stage = .idle
                return .ack(buffer.count)
            case let .dataOut(expected):
                let take = min(buffer.count, expected - controlBuffer.count)
                controlBuffer.append(contentsOf: UnsafeRawBufferPointer(buffer).prefix(take))
                return .ack(buffer.count)
            case .statusIn, .idle, .stalled:
                return .stall
            }
        }
    }

    private func stallRequest() -> USBHandshake {
        stage = .stalled
        return .stall
    }

    private func startRequest(_ request: USBSetup) {
        setup = request
        controlBuffer = []
        controlOffset = 0
        if request.isDeviceToHost {
            guard var reply = requestIn(request) else { return stage = .stalled }
            if reply.count > Int(request.length) { reply.removeLast(reply.count - Int(request.length)) }
            controlBuffer = reply
            stage = .dataIn
        } else if request.length > 0 {
            stage = .dataOut(expected: Int(request.length))
        } else {
            stage = requestOut(request, data: []) ? .statusIn : .stalled
        }
    }

    /// The OUT data is all in (or the host moved to the status stage).
    private func finishOut() -> Bool {
        guard requestOut(setup, data: controlBuffer) else { return false }
        stage = .idle
        return true
    }

    private func requestIn(_ request: USBSetup) -> [UInt8]? {
        switch (request.kind, request.request) {
        case (USBRequest.kindClass, _):
            return classRequestIn(request)
        case (USBRequest.kindStandard, USBRequest.getDescriptor):
            let type = UInt8(request.value >> 8), index = UInt8(request.value & 0xFF)
            if request.recipient == USBRequest.recipientInterface { return interfaceDescriptor(type: type, index: index) }
            return descriptors.descriptor(type: type, index: index)
        case (USBRequest.kindStandard, USBRequest.getStatus):
            if request.recipient == USBRequest.recipientEndpoint {
                let endpoint = Int(request.index & 0xF)
                return [haltedEndpoints & (1 << endpoint) != 0 ? 1 : 0, 0]
            }
            // Bus-powered, no remote wakeup.
            return [0, 0]
        case (USBRequest.kindStandard, USBRequest.getConfiguration):
            return [configuration]
        case (USBRequest.kindStandard, USBRequest.getInterface):
            return configuration != 0 ? [0] : nil
        default:
            Log.write(.guestErrors, "\(name): unknown IN request \(request.bytes)")
            return nil
        }
    }

    private func requestOut(_ request: USBSetup, data: [UInt8]) -> Bool {
        switch (request.kind, request.request) {
        case (USBRequest.kindClass, _):
            return classRequestOut(request, data: data)
        case (USBRequest.kindStandard, USBRequest.setAddress):
            guard request.value <= 127 else { return false }
            // The new address counts from the end of the status stage.
            pendingAddress = UInt8(request.value)
            return true
        case (USBRequest.kindStandard, USBRequest.setConfiguration):
            let value = UInt8(truncatingIfNeeded: request.value)
            guard value == 0 || value == descriptors.configurationValue else { return false }
            configuration = value
            haltedEndpoints = 0
            configurationChanged()
            return true
        case (USBRequest.kindStandard, USBRequest.setInterface):
            return configuration != 0 && request.value == 0
        case (USBRequest.kindStandard, USBRequest.setFeature), (USBRequest.kindStandard, USBRequest.clearFeature):
            if request.recipient == USBRequest.recipientEndpoint && request.value == USBRequest.featureEndpointHalt {
                let endpoint = Int(request.index & 0xF)
                guard endpoint != 0 else { return true }
                if request.request == USBRequest.setFeature { haltedEndpoints |= 1 << endpoint } else { haltedEndpoints &= ~(1 << endpoint) }
                return true
            }
            // Device remote wakeup and test modes: accepted, nothing to do.
            return request.recipient == USBRequest.recipientDevice
        default:
            Log.write(.guestErrors, "\(name): unknown OUT request \(request.bytes)")
            return false
        }
    }
}
