import IR
import Memory
import X86Frontend
import X86State

/// The runtime's half of `X86Helper`: one C-callable function per case,
/// registered in the enum's order.
enum X86Helpers {
    static func register(into table: HelperTable) {
        for helper in X86Helper.allCases {
            let index = table.register(Helper("\(helper)", helper.flags, function(for: helper)))
            precondition(index == helper.rawValue, "helpers must be registered in X86Helper's order")
        }
    }

    private static func function(for helper: X86Helper) -> HelperFunction {
        switch helper {
        case .computeFlags:
            return { state, _, _, _ in UInt64(LazyFlagsEvaluation.flags(state.assumingMemoryBound(to: CPUState.self))) }
        case .computeCarry:
            return { state, _, _, _ in UInt64(LazyFlagsEvaluation.flags(state.assumingMemoryBound(to: CPUState.self)) & EFLAGS.carry) }
        case .readFlags:
            return { state, _, _, _ in UInt64(LazyFlagsEvaluation.fullFlags(state.assumingMemoryBound(to: CPUState.self))) }
        case .writeFlags:
            return { state, value, bytes, _ in
                X86CPU.withOwner(of: state) { $0.writeFlags(UInt32(truncatingIfNeeded: value), operandBytes: Int(bytes)) }
                return 0
            }
        case .raiseInterrupt:
            return { state, vector, address, kind in
                let kind = InterruptKind(rawValue: UInt32(kind)) ?? .exception
                // The faults generated code raises (#GP, #SS, #UD...) with an error
                // code push 0: outside real mode the handler pops it.
                let errorCode: UInt32? = kind == .exception && X86CPU.pushesErrorCode(UInt32(vector)) ? 0 : nil
                X86CPU.withOwner(of: state) { $0.deliverInterrupt(vector: UInt32(vector), returnAddress: address,
                                                         kind: kind, errorCode: errorCode) }
                return 0
            }
        case .portIn:
            return { state, port, bytes, _ in
                UInt64(X86CPU.withOwner(of: state) { $0.ports.read(UInt16(truncatingIfNeeded: port), size: AccessSize(rawValue: Int(bytes)) ?? .byte) })
            }
        case .portOut:
            return { state, port, value, bytes in
                X86CPU.withOwner(of: state) { $0.ports.write(UInt16(truncatingIfNeeded: port), value: UInt32(truncatingIfNeeded: value),
                                       size: AccessSize(rawValue: Int(bytes)) ?? .byte) }
                return 0
            }
        case .divide:
            return { state, divisor, bytes, signed in
                X86CPU.withOwner(of: state) { $0.divide(by: divisor, bytes: Int(bytes), signed: signed != 0) }
                return 0
            }
        case .loadSegment:
            return { state, segment, selector, _ in
                X86CPU.withOwner(of: state) { $0.loadSegment(Segment(rawValue: Int(segment)) ?? .ds, selector: UInt16(truncatingIfNeeded: selector)) }
                return 0
            }
        case .farJump:
            return { state, selector, offset, bytes in
                X86CPU.withOwner(of: state) { cpu in
                    let target = UInt16(truncatingIfNeeded: selector)
                    if cpu.longModeActive {
                        do { try cpu.longModeFarJump(selector: target, offset: offset, bytes: Int(bytes)) } catch { cpu.raise(error) }
                    } else {
                        cpu.farJump(selector: target, offset: UInt32(truncatingIfNeeded: offset), bytes: Int(bytes))
                    }
                }
                return 0
            }
        case .farCall:
            return { state, selector, offset, record in
                let call = FarCall(word: record)
                X86CPU.withOwner(of: state) { cpu in
                    let target = UInt16(truncatingIfNeeded: selector), bytes = Int(call.operandBytes)
                    if cpu.longModeActive {
                        do {
                            try cpu.longModeFarCall(selector: target, offset: offset, bytes: bytes,
                                                    returnAddress: cpu.nextInstructionAddress64(length: call.instructionLength))
                        } catch { cpu.raise(error) }
                    } else {
                        cpu.farCall(selector: target, offset: UInt32(truncatingIfNeeded: offset), bytes: bytes,
                                    returnAddress: cpu.nextInstructionAddress(length: call.instructionLength))
                    }
                }
                return 0
            }
        case .farReturn:
            return { state, bytes, release, _ in
                X86CPU.withOwner(of: state) { $0.farReturn(bytes: Int(bytes), release: UInt32(release)) }
                return 0
            }
        case .interruptReturn:
            return { state, bytes, _, _ in
                X86CPU.withOwner(of: state) { $0.interruptReturn(bytes: Int(bytes)) }
                return 0
            }
        case .halt:
            return { state, _, _, _ in
                X86CPU.withOwner(of: state) { $0.halted = true }
                return 0
            }
        case .decimalAdjust:
            return { state, opcode, immediate, _ in
                X86CPU.withOwner(of: state) { $0.decimalAdjust(opcode: UInt8(truncatingIfNeeded: opcode), base: UInt8(truncatingIfNeeded: immediate)) }
                return 0
            }
        case .cpuid:
            return { state, _, _, _ in
                X86CPU.withOwner(of: state) { $0.identify() }
                return 0
            }
        case .system:
            return { state, record, operand, address in
                X86CPU.withOwner(of: state) { $0.system(SystemCall(word: record), operand: operand, address: address) }
            }
        case .checkIOPermission:
            return { state, port, bytes, _ in
                X86CPU.withOwner(of: state) { $0.checkIOPermission(port: UInt32(truncatingIfNeeded: port) & 0xFFFF, bytes: UInt32(bytes)) }
                return 0
            }
        case .checkSegmentAccess:
            return { state, record, offset, _ in
                let check = SegmentCheck(word: record)
                X86CPU.withOwner(of: state) { $0.checkSegmentAccess(check.segment, access: check.access,
                                                           offset: UInt32(truncatingIfNeeded: offset), bytes: UInt32(check.bytes)) }
                return 0
            }
        case .readTimeStampCounter:
            return { state, _, _, _ in
                X86CPU.withOwner(of: state) { cpu in
                    // CR4.TSD reserves RDTSC for CPL 0.
                    if cpu.state.pointee.cr4 & ControlRegister.cr4TSD != 0 && cpu.protectedMode && cpu.currentPrivilege != 0 {
                        cpu.raiseException(ExceptionVector.generalProtection, errorCode: 0)
                        return
                    }
                    let counter = UInt64(bitPattern: cpu.clock.now &+ cpu.state.pointee.tscOffset)
                    cpu.state.pointee.registers.0 = counter & 0xFFFF_FFFF
                    cpu.state.pointee.registers.2 = counter >> 32
                }
                return 0
            }
        case .x87:
            return { state, call, linear, eip in
                X86CPU.withOwner(of: state) { $0.x87(X87Call(word: call), linear: linear,
                                            eip: UInt32(truncatingIfNeeded: eip)) }
                return 0
            }
        case .x87Acquire:
            return { state, _, _, _ in
                X86CPU.withOwner(of: state) { $0.giveX87ToHost() }
                return 0
            }
        case .simdException:
            return { state, raised, _, _ in
                X86CPU.withOwner(of: state) { $0.simdException(raised: UInt32(truncatingIfNeeded: raised)) }
                return 0
            }
        case .loadMXCSR:
            return { state, value, _, _ in
                X86CPU.withOwner(of: state) { $0.loadMXCSR(UInt32(truncatingIfNeeded: value)) }
                return 0
            }
        }
    }
}
