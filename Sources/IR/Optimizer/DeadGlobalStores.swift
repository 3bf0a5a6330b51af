/// Removes writes to globals that are overwritten before anything can see
/// them: no read, no op that may fault or touches the state, no exit in
/// between. This is what deletes lazy-flags updates (cc_src, cc_dst, cc_op)
/// that the next instruction replaces; the computations feeding them then
/// die in `DeadCodeElimination`.
public struct DeadGlobalStores: IRPass {
    public init() {}
    public var name: String { "dead global stores" }

    public func run(on block: IRBlock) -> Bool {
        removeDeadWrites(block, eligible: { block.isGlobal($0) })
    }
}
