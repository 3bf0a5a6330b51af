/// Dead global stores and dead code together, repeated until nothing more
/// goes: removing an op that read the state (a flags helper called by a
/// rotate, say) can leave the stores before it dead, and removing a store
/// its inputs' computations. One liveness computation per round serves both
/// kinds of write, where running the two passes in turn took three or more.
public struct DeadStoreRounds: IRPass {
    private let workspace = PassWorkspace()

    public init() {}
    public var name: String { "dead global stores and dead code" }

    @discardableResult
    public func run(on block: IRBlock) -> Bool {
        var changed = false
        var exact = false
        while removeDeadWrites(block, exact: &exact, workspace: workspace, eligible: { _ in true }) {
            changed = true
            // Without loops the walk was exact: another round finds nothing.
            if exact { break }
        }
        return changed
    }
}
