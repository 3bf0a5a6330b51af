import PCEmuSupport

/// Where `migrate` sends a machine's state and `-incoming` takes it from, in
/// QEMU's spelling: `file:PATH` or `exec:COMMAND` (a shell command that
/// reads the state on its standard input, or writes it on its output).
public enum MigrationEndpoint: Equatable, Sendable {
    case file(String)
    case exec(String)

    public init(_ uri: String, option: String) throws {
        if uri.hasPrefix("file:"), uri.count > 5 {
            self = .file(String(uri.dropFirst(5)))
        } else if uri.hasPrefix("exec:"), uri.count > 5 {
            self = .exec(String(uri.dropFirst(5)))
        } else {
            throw EmulatorError.badOption(option, "'\(uri)': PCEmu migrates through file:PATH or exec:COMMAND")
        }
    }
}
