/// The CPU's INTR input: the interrupt controller, asked only at block boundaries.
public protocol InterruptSource: AnyObject {
    var interruptPending: Bool { get }
    /// The INTA cycle: the vector of the highest-priority request.
    func acknowledge() -> UInt8
}
