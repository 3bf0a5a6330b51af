import Configuration
import Foundation
import Glibc
import Machine

/// One human monitor (HMP) session over a pair of byte streams: bytes come
/// in (`feed`, or `serve` reading a descriptor), each line is a command, and
/// its output goes out followed by the "(qemu) " prompt that QEMU's tools
/// and scripts wait for. Where it is a person at a keyboard (a terminal in
/// raw mode, the window's console) the session echoes what is typed and
/// edits the line itself, as QEMU's readline does: Backspace, Ctrl-U, Enter
/// (CR or LF), and the up and down arrows for the lines entered before. A
/// socket or a pipe gets no echo. Not thread-safe: one thread feeds it.
public final class MonitorSession {
    static let prompt = "(qemu) "
    /// The longest line kept: what is typed beyond it is dropped.
    static let lineLimit = 4096
    /// How many lines the arrows can bring back.
    static let historyLimit = 100

    enum Control {
        static let backspace: UInt8 = 0x08
        static let delete: UInt8 = 0x7F
        static let carriageReturn: UInt8 = 0x0D
        static let lineFeed: UInt8 = 0x0A
        static let killLine: UInt8 = 0x15  // Ctrl-U
        static let escape: UInt8 = 0x1B
        /// Erase from the cursor to the end of the line (ANSI EL).
        static let eraseToEnd = "\u{1B}[K"
    }

    private let commands: MonitorCommands
    private let interactive: Bool
    private let output: ([UInt8]) -> Bool
    private var line: [UInt8] = []
    private var greeted = false
    private var ended = false
    /// A CR ended the last line: a LF right after it is the same Enter.
    private var afterCarriageReturn = false
    /// An escape sequence under way: its bytes after ESC.
    private var escapeBytes: [UInt8]?
    private var history: [[UInt8]] = []
    /// Where the arrows are in `history` (its count: the line being typed).
    private var historyIndex = 0
    private var typedLine: [UInt8] = []

    /// `interactive`: echo and edit the line (a terminal or the window);
    /// `output` writes bytes and says whether the other side is still there.
    init(commands: MonitorCommands, interactive: Bool, output: @escaping ([UInt8]) -> Bool) {
        self.commands = commands
        self.interactive = interactive
        self.output = output
    }

    /// A session of its own on `machine`.
    public convenience init(machine: PCMachine, interactive: Bool, output: @escaping ([UInt8]) -> Bool) {
        self.init(commands: MonitorCommands(control: MachineControl(machine: machine)), interactive: interactive, output: output)
    }

    /// The session ended: `quit`, or its output is gone.
    public var hasEnded: Bool { ended }

    /// The banner and the first prompt.
    public func greet() {
        greeted = true
        send("PCEmu \(HelpText.version) monitor - type 'help' for more information\n" + MonitorSession.prompt)
    }

    /// Shows the prompt again with the line typed so far (the keyboard came
    /// back to the monitor); the first time, the banner too.
    public func showPrompt() {
        guard greeted else { return greet() }
        send(MonitorSession.prompt)
        if interactive { write(line) }
    }

    /// Reads `input` to its end (or the session's), feeding every byte.
    public func serve(input: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !ended {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            feed(buffer[0..<count])
        }
    }

    /// Takes what was typed or sent; runs each line it completes.
    public func feed(_ bytes: some Sequence<UInt8>) {
        for byte in bytes where !ended {
            let wasCarriageReturn = afterCarriageReturn
            afterCarriageReturn = byte == Control.carriageReturn
            if escapeBytes != nil {
                escapeSequence(byte)
                continue
            }
            switch byte {
            case Control.carriageReturn: enter()
            case Control.lineFeed: if !wasCarriageReturn { enter() }
            case Control.backspace, Control.delete: if interactive { eraseLastCharacter() }
            case Control.killLine: if interactive { replaceLine(with: []) }
            case Control.escape: if interactive { escapeBytes = [] }
            case 0x20..., 0x09:
                guard line.count < MonitorSession.lineLimit else { continue }
                line.append(byte)
                if interactive { write([byte]) }
            default:
                break  // other control characters mean nothing here
            }
        }
    }

    // MARK: Lines

    private func enter() {
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if interactive {
            send("\n")
            if !text.isEmpty && history.last != line {
                history.append(line)
                if history.count > MonitorSession.historyLimit { history.removeFirst() }
            }
            historyIndex = history.count
        }
        line = []
        let (result, quit) = commands.execute(text)
        if quit {
            ended = true
            return
        }
        send((result.isEmpty ? "" : result + "\n") + MonitorSession.prompt)
    }

    /// Backspace: one character, all of a UTF-8 sequence's bytes.
    private func eraseLastCharacter() {
        guard !line.isEmpty else { return }
        while let last = line.popLast(), last & 0xC0 == 0x80, !line.isEmpty {}
        write(Array("\u{8} \u{8}".utf8))
    }

    /// The line shown anew: back to the prompt, the new text, the old text's rest erased.
    private func replaceLine(with text: [UInt8]) {
        line = text
        send("\r" + MonitorSession.prompt)
        write(line + Array(Control.eraseToEnd.utf8))
    }

    /// ESC [ A and ESC O A (up), B (down); any other sequence is read to its end and dropped.
    private func escapeSequence(_ byte: UInt8) {
        escapeBytes?.append(byte)
        guard let sequence = escapeBytes else { return }
        if sequence.count == 1 {
            if byte != UInt8(ascii: "[") && byte != UInt8(ascii: "O") { escapeBytes = nil }
            return
        }
        // Parameters and intermediates run on; a byte from @ to ~ ends the sequence.
        guard (0x40...0x7E).contains(byte) else {
            if sequence.count > 16 { escapeBytes = nil }
            return
        }
        escapeBytes = nil
        guard sequence.count == 2 else { return }
        switch byte {
        case UInt8(ascii: "A"): recall(by: -1)
        case UInt8(ascii: "B"): recall(by: 1)
        default: break
        }
    }

    private func recall(by step: Int) {
        let index = historyIndex + step
        guard index >= 0, index <= history.count, index != historyIndex else { return }
        if historyIndex == history.count { typedLine = line }
        historyIndex = index
        replaceLine(with: index == history.count ? typedLine : history[index])
    }

    // MARK: Output

    /// Text out; on a terminal each "\n" as CR LF, which raw mode leaves to the program.
    private func send(_ text: String) {
        write(Array((interactive ? text.replacingOccurrences(of: "\n", with: "\r\n") : text).utf8))
    }

    private func write(_ bytes: [UInt8]) {
        guard !ended, !bytes.isEmpty else { return }
        if !output(bytes) { ended = true }
    }
}
