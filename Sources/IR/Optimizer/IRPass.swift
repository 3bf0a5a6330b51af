/// One optimization pass: rewrites a block in place.
public protocol IRPass {
    /// For dumps and error messages.
    var name: String { get }
    /// Returns whether the block changed.
    @discardableResult
    func run(on block: IRBlock) -> Bool
}
