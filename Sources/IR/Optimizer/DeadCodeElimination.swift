/// Removes computations into block-local temps that nothing reads (and pure
/// helper calls whose result is unused). Writes to globals are left to
/// `DeadGlobalStores`.
public struct DeadCodeElimination: IRPass {
    public init() {}
    public var name: String { "dead code elimination" }

    public func run(on block: IRBlock) -> Bool {
        // Removing a computation can make its inputs' computations dead in
        // an earlier node; repeat until nothing changes (rarely more than twice).
        var changed = false
        while removeDeadWrites(block, eligible: { !block.isGlobal($0) }) { changed = true }
        return changed
    }
}
