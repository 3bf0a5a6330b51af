/// Runs a list of passes over a block, optionally printing the IR before
/// the first and after each pass (for `-d op` / `-d op_opt`) and checking
/// it with `IRValidator` around every pass (a debug aid).
public struct PassManager {
    public var passes: [any IRPass]
    /// Validate before the first pass and after each one.
    public var validates: Bool
    /// Receives each dump: a heading line, then the IR, one op a line.
    public var dump: ((String) -> Void)?

    /// The order matters: folding turns branches into `br` before
    /// unreachable code is cut; copy propagation frees global writes for
    /// the dead-store pass, whose removals leave dead locals for the last
    /// (removed together, repeated while that frees more: `DeadStoreRounds`).
    /// The copies left then turn around (`ReadsThroughGlobals`).
    public static var standardPasses: [any IRPass] {
        [ConstantFolding(), UnreachableCode(), CopyPropagation(), DeadStoreRounds(), ReadsThroughGlobals()]
    }

    public init(passes: [any IRPass] = PassManager.standardPasses, validates: Bool = false,
                dump: ((String) -> Void)? = nil) {
        self.passes = passes
        self.validates = validates
        self.dump = dump
    }

    /// Optimizes `block` in place. With `validates`, invalid IR stops the
    /// emulator with the validator's report: a translator or pass bug.
    public func run(on block: IRBlock) {
        do {
            try runChecked(on: block)
        } catch {
            fatalError("\(error)")
        }
    }

    /// Like `run(on:)`, but reports invalid IR as an error (for tests).
    public func runChecked(on block: IRBlock) throws {
        dump?("IR before optimization:\n\(block)")
        try check(block, after: nil)
        for pass in passes {
            let changed = pass.run(on: block)
            if let dump {
                dump(changed ? "IR after \(pass.name):\n\(block)" : "IR after \(pass.name): unchanged")
            }
            if changed { try check(block, after: pass.name) }
        }
    }

    private func check(_ block: IRBlock, after pass: String?) throws {
        guard validates else { return }
        let errors = IRValidator.validate(block)
        if !errors.isEmpty { throw IRValidationFailure(pass: pass, errors: errors, ir: block.description) }
    }
}
