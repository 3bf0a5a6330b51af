/// Every error the emulator reports to its user. `description` is one line that
/// names the problem; the command line prints it after "pcemu: ".
public enum EmulatorError: Error, Equatable, CustomStringConvertible {
    /// An option or its value is wrong: (option as typed, what is wrong).
    case badOption(String, String)
    /// A file could not be used: (path, reason).
    case io(String, String)
    /// Asked for something PCEmu does not have yet: (what, which part is missing).
    case notBuilt(String, String)
    /// The machine could not be assembled: overlapping regions, ports taken twice...
    case configuration(String)

    public var description: String {
        switch self {
        case let .badOption(option, problem): return "\(option): \(problem)"
        case let .io(path, reason): return "\(path): \(reason)"
        case let .notBuilt(what, part): return "\(what): \(part) is not built yet"
        case let .configuration(problem): return problem
        }
    }
}
