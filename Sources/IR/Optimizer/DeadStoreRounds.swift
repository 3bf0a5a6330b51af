/// Dead global stores, then dead code, again while the dead code removed
/// ops that read the state: such an op (a flags helper called by a rotate,
/// say) kept the stores before it alive, and with it gone they may be dead
/// too. Rotates in a row each read the flags the one before stored.
public struct DeadStoreRounds: IRPass {
    public init() {}
    public var name: String { "dead global stores and dead code" }
    static let maximumRounds = 4

    @discardableResult
    public func run(on block: IRBlock) -> Bool {
        var changed = false
        for _ in 0..<DeadStoreRounds.maximumRounds {
            let observers = block.ops.reduce(0) { $0 + ($1.accessesGlobals ? 1 : 0) }
            let storesRemoved = DeadGlobalStores().run(on: block)
            let codeRemoved = DeadCodeElimination().run(on: block)
            changed = changed || storesRemoved || codeRemoved
            guard codeRemoved, block.ops.reduce(0, { $0 + ($1.accessesGlobals ? 1 : 0) }) < observers else { break }
        }
        return changed
    }
}
