import IR
import X86State

/// `X86Helper.checkSegmentAccess`'s first argument: which segment, the kind
/// of access and its size (up to FXSAVE's 512 bytes).
public struct SegmentCheck: HelperRecord, Equatable, Sendable {
    public var segmentNumber: UInt8
    public var accessKind: UInt8
    public var bytes: UInt16

    public init(segment: Segment, access: SegmentAccess, bytes: Int) {
        segmentNumber = UInt8(segment.rawValue)
        accessKind = UInt8(access.rawValue)
        self.bytes = UInt16(bytes)
    }

    public var segment: Segment { Segment(rawValue: Int(segmentNumber)) ?? .ds }
    public var access: SegmentAccess { SegmentAccess(rawValue: UInt32(accessKind)) ?? .read }
}

/// `X86Helper.system`'s first argument: the operation, the operand size and
/// the register an instruction names (MOV CRn/DRn).
public struct SystemCall: HelperRecord, Equatable, Sendable {
    public var operationNumber: UInt8
    public var operandBytes: UInt8
    public var register: UInt8

    public init(_ operation: SystemOperation, operandBytes: Int = 4, register: Int = 0) {
        operationNumber = UInt8(operation.rawValue)
        self.operandBytes = UInt8(operandBytes)
        self.register = UInt8(register)
    }

    public var operation: SystemOperation? { SystemOperation(rawValue: UInt32(operationNumber)) }
}

/// `X86Helper.farCall`'s third argument: the operand size, and the length of
/// the CALL, from which the helper finds the return address (the current
/// instruction's address plus it, wrapped as the code size wraps).
public struct FarCall: HelperRecord, Equatable, Sendable {
    public var operandBytes: UInt8
    public var instructionLength: UInt8

    public init(operandBytes: Int, instructionLength: Int) {
        self.operandBytes = UInt8(operandBytes)
        self.instructionLength = UInt8(instructionLength)
    }
}
