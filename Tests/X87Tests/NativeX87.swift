import Foundation
import XCTest

/// The reference: a small C program, compiled with gcc at test time, that
/// runs x87 instruction sequences on the host CPU and prints what they did.
///
/// Input, one case per line: a 108-byte FRSTOR image in hex, then
/// instructions `EEMM[:operand-hex][/flags]` (EE escape 0-7, MM ModRM; a
/// memory form has mod 00 and rm 001, i.e. [rcx], pointing at a 128-byte
/// buffer preloaded with the operand; flags is the AH value loaded with SAHF
/// first). Output, one line per case: for each instruction executed (the
/// sequence stops before any instruction when an unmasked exception is
/// pending), the buffer afterwards (pointer fields zeroed), AX (FNSTSW AX only) and ZF/PF/CF; then
/// the x87 part of FXSAVE and the FNSAVE image.
enum NativeX87 {
    static func source() -> String {
        var cases = ""
        for escape in 0..<8 {
            for modrm in 0..<256 where modrm >= 0xC0 || modrm & 0xC7 == 0x01 {
                cases += "    case 0x\(String(escape << 8 | modrm, radix: 16)): INSN(0x\(String(0xD8 + escape, radix: 16)), 0x\(String(modrm, radix: 16))); break;\n"
            }
        }
        return """
        #include <stdio.h>
        #include <stdint.h>
        #include <stdlib.h>
        #include <string.h>

        static uint8_t buffer[128] __attribute__((aligned(16)));
        static uint8_t fx[512] __attribute__((aligned(16)));
        static uint8_t image[108];

        #define INSN(e, m) __asm__ volatile("movb %%dl, %%ah\\n\\tsahf\\n\\t.byte " #e ", " #m "\\n\\t" \\
            "movw %%ax, %[ax]\\n\\tlahf\\n\\tmovb %%ah, %[fl]" \\
            : [ax] "=m"(ax), [fl] "=m"(fl) : "c"(buffer), "d"(flags) : "rax", "memory", "cc")

        static void run(int code, uint8_t flags, uint16_t *axOut, uint8_t *flOut) {
            uint16_t ax = 0; uint8_t fl = 0;
            switch (code) {
        \(cases)    default: fprintf(stderr, "bad code %x\\n", code); exit(2);
            }
            *axOut = ax; *flOut = fl;
        }

        static void hex(const uint8_t *p, int n) { for (int i = 0; i < n; i++) printf("%02x", p[i]); }
        static int nibble(char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; }
        static void unhex(const char *s, uint8_t *p, int max) {
            for (int i = 0; i < max && s[2*i] && s[2*i+1] && s[2*i] != '/' ; i++) p[i] = nibble(s[2*i]) << 4 | nibble(s[2*i+1]);
        }

        static char line[1 << 20];
        int main(void) {
            while (fgets(line, sizeof line, stdin)) {
                char *save = 0;
                char *token = strtok_r(line, " \\n", &save);
                if (!token) continue;
                memset(image, 0, sizeof image);
                unhex(token, image, 108);
                __asm__ volatile("fninit\\n\\tfrstor %0" : : "m"(image) : "memory");
                while ((token = strtok_r(0, " \\n", &save))) {
                    int code = nibble(token[0]) << 12 | nibble(token[1]) << 8 | nibble(token[2]) << 4 | nibble(token[3]);
                    memset(buffer, 0, sizeof buffer);
                    char *colon = strchr(token, ':');
                    if (colon) unhex(colon + 1, buffer, 108);
                    char *slash = strchr(token, '/');
                    uint8_t flags = slash ? (uint8_t)strtol(slash + 1, 0, 16) : 0;
                    uint16_t sw;
                    __asm__ volatile("fnstsw %0" : "=m"(sw));
                    if (sw & 0x80) break;
                    uint16_t ax; uint8_t fl;
                    run(code & 0x7ff, flags, &ax, &fl);
                    // The pointer fields depend on where this program runs.
                    if ((code & 0x7ff) == 0x131 || (code & 0x7ff) == 0x531) memset(buffer + 12, 0, 16);
                    printf(" ");
                    hex(buffer, 108);
                    if ((code & 0x7ff) == 0x7e0) printf(":%04x", ax); else printf(":----");
                    printf(":%02x", fl & 0x45);
                }
                __asm__ volatile("fxsave %0" : "=m"(fx) : : "memory");
                __asm__ volatile("fnsave %0" : "=m"(image) : : "memory");
                memset(fx + 6, 0, 26);
                memset(image + 12, 0, 16);
                printf(" | ");
                hex(fx, 160);
                printf(" ");
                hex(image, 108);
                printf("\\n");
            }
            return 0;
        }
        """
    }

    /// Path of the compiled program, built once per test process.
    static let executable: String? = {
        let text = source()
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pcemu-x87-native")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let binary = directory.appendingPathComponent("x87native-\(String(hash, radix: 16))").path
        if FileManager.default.isExecutableFile(atPath: binary) { return binary }
        let sourcePath = binary + ".c"
        guard (try? text.write(toFile: sourcePath, atomically: true, encoding: .utf8)) != nil else { return nil }
        let gcc = Process()
        gcc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gcc.arguments = ["gcc", "-O1", "-o", binary + ".tmp", sourcePath]
        do { try gcc.run() } catch { return nil }
        gcc.waitUntilExit()
        guard gcc.terminationStatus == 0 else { return nil }
        try? FileManager.default.moveItem(atPath: binary + ".tmp", toPath: binary)
        return binary
    }()

    /// Runs the cases natively; one output line per input line.
    static func run(_ lines: [String]) throws -> [String] {
        guard let executable else { throw ReferenceToolFailure("gcc could not build the native x87 reference program") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let text = lines.joined(separator: "\n") + "\n"
        // Write on another thread so a full output pipe cannot deadlock us.
        let writer = Thread {
            input.fileHandleForWriting.write(text.data(using: .utf8)!)
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "native x87 program failed")
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
    }
}

/// A reference tool (nasm, gcc) the set-up installs did not do its job: the
/// test fails, since without the host's answer it proves nothing.
struct ReferenceToolFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
