import IR
import X86State

extension TranslationContext {
    /// Translates `instruction` by its opcode; what no family takes is #UD.
    func translateInstruction() {
        switch instruction.isa {
        case .base:
            break
        case .x87, .fxsr:
            if !translateX87() { raiseException(ExceptionVector.invalidOpcode) }
            return
        default:
            // MMX and SSE are not translated yet: #UD, as on a CPU without them.
            raiseException(ExceptionVector.invalidOpcode)
            return
        }
        if instruction.isProtectedModeOnly && !isProtectedMode {
            raiseException(ExceptionVector.invalidOpcode)
            return
        }
        let handled = translateArithmetic() || translateDataMovement() || translateStack()
            || translateControlFlow() || translateShiftsAndRotates() || translateMultiplyDivide()
            || translateStrings() || translateSystem() || translateBitOperations() || translateSystemTables()
        if !handled {
            raiseException(ExceptionVector.invalidOpcode)
        }
    }
}
