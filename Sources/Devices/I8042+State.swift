import Lifecycle

/// The controller's RAM (the command byte first), output port, output buffer
/// and its source, a command waiting for its data byte, replies not yet
/// read, and the keyboard's and the mouse's own records. The output port's
/// A20 bit is saved as written; A20 itself is the CPU's state.
extension I8042: StatefulDevice {
    public static let stateVersion: UInt32 = 1
    public static let stateName = "i8042"

    public func save(into record: inout StateRecord) {
        record.put("ram", state.ram)
        record.put("systemFlag", state.systemFlag)
        record.put("lastWriteWasCommand", state.lastWriteWasCommand)
        record.put("outputPort", state.outputPort)
        record.put("pendingCommand", optional: state.pendingCommand)
        record.put("outputBuffer", state.outputBuffer)
        record.put("outputFull", state.outputFull)
        record.put("outputFromAux", state.outputFromAux)
        record.put("lastFromAux", state.lastFromAux)
        record.put("translatedBreakPending", state.translatedBreakPending)
        record.put("replies", state.replies.contents)
        record.put("replySources", state.replySources.contents)
        record.put("keyboard", keyboard.save())
        record.put("mouse", mouse.save())
    }

    public func load(from record: StateRecord) throws {
        func refuse(_ field: String) -> StateRecordError { .outOfRange(record: I8042.stateName, field: field) }
        var loaded = State()
        loaded.ram = try record.bytes("ram", count: I8042.ramSize)
        loaded.systemFlag = try record.bool("systemFlag")
        loaded.lastWriteWasCommand = try record.bool("lastWriteWasCommand")
        loaded.outputPort = try record.unsigned("outputPort")
        loaded.pendingCommand = try record.optionalByte("pendingCommand")
        loaded.outputBuffer = try record.unsigned("outputBuffer")
        loaded.outputFull = try record.bool("outputFull")
        loaded.outputFromAux = try record.bool("outputFromAux")
        loaded.lastFromAux = try record.bool("lastFromAux")
        loaded.translatedBreakPending = try record.bool("translatedBreakPending")
        let replies = try record.bytes("replies"), sources = try record.bytes("replySources")
        // One source (0 keyboard, 1 aux) per reply.
        guard sources.count == replies.count, sources.allSatisfy({ $0 <= 1 }),
              let replyQueue = PS2ByteQueue(capacity: I8042.replyCapacity, contents: replies),
              let sourceQueue = PS2ByteQueue(capacity: I8042.replyCapacity, contents: sources)
        else { throw refuse("replies") }
        loaded.replies = replyQueue
        loaded.replySources = sourceQueue
        let applyKeyboard = try keyboard.prepareLoad(try record.record("keyboard"))
        let applyMouse = try mouse.prepareLoad(try record.record("mouse"))
        state = loaded
        applyKeyboard()
        applyMouse()
        updateInterrupts()
    }
}
