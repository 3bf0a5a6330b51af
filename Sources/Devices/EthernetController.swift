/// What becomes of a frame offered to a network card.
public enum FrameReceiveResult: Equatable {
    case stored
    /// Not for this station (or counted only, in a monitor mode).
    case filtered
    /// The card has no room now (its ring is full or its receiver stopped): offer it again later.
    case noRoom
}

/// A network card as the machine's network link drives it: frames in and
/// out, and word when the guest made room for more.
public protocol EthernetController: AnyObject {
    var transmit: ([UInt8]) -> Void { get set }
    var receiveSpaceFreed: () -> Void { get set }
    func receive(_ frame: [UInt8]) -> FrameReceiveResult
    /// A frame was lost before the card could see it (the link's queue was full).
    func recordMissedFrame()
}
