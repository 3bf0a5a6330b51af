/// What carries interrupt messages between the I/O APIC and the local APICs
/// (the APIC bus, or the system bus on xAPIC parts): destination matching
/// in physical and logical mode, lowest-priority arbitration, broadcasts
/// and the EOI broadcast back to the I/O APICs. A machine with more CPUs
/// adds their local APICs here.
public final class APICBus {
    public private(set) var localAPICs: [LocalAPIC] = []
    /// Called with a level-triggered vector's EOI (the I/O APICs' remote IRR).
    private var eoiListeners: [(UInt8) -> Void] = []

    public init() {}

    public func attach(_ apic: LocalAPIC) {
        localAPICs.append(apic)
        apic.bus = self
    }

    public func onEOI(_ listener: @escaping (UInt8) -> Void) { eoiListeners.append(listener) }

    /// Delivers to every APIC the destination names; a lowest-priority
    /// message goes to just one of them, the one with the lowest task priority.
    public func send(_ message: APICMessage, destination: UInt8, logical: Bool) {
        let targets = localAPICs.filter { $0.matches(destination: destination, logical: logical) }
        if message.deliveryMode == .lowestPriority {
            targets.min { $0.processorPriority < $1.processorPriority }?.receive(message)
        } else {
            for apic in targets { apic.receive(message) }
        }
    }

    /// The ICR's "all including self" and "all excluding self" shorthands.
    func broadcast(_ message: APICMessage, from sender: LocalAPIC, includingSelf: Bool) {
        for apic in localAPICs where includingSelf || apic !== sender { apic.receive(message) }
    }

    func broadcastEOI(vector: UInt8) {
        for listener in eoiListeners { listener(vector) }
    }
}
