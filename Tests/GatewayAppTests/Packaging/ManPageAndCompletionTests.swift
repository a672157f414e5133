import Foundation
import GatewayTestSupport
import Testing

/// The man page (scripts/man-page.sh) and the shell completions (`--generate-completion-script`) come from the
/// command definitions, so they name every subcommand; both are checked by their own tools.
@Suite struct ManPageAndCompletionTests {
    @Test func manPageDocumentsEverySubcommandAndRendersWithoutWarnings() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Repository.gatewayBinary), "build meter-gateway")
        let paths = try commandPaths()
        #expect(paths.count > 40, "the command tree has its subcommands")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("man-" + UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: folder) }
        let page = folder.appendingPathComponent("meter-gateway.1").path
        let made = try runProgram("/bin/sh", ["scripts/man-page.sh", page, Repository.gatewayBinary])
        try #require(made.status == 0, "\(made.stderr)")
        let text = try String(contentsOfFile: page, encoding: .utf8)
        for path in paths {
            let heading =
                ".SS "
                + (["meter-gateway"] + path).joined(separator: " ").replacingOccurrences(
                    of: "-",
                    with: "\\-"
                )
            #expect(text.contains(heading + "\n"), "the man page has no section for \(path.joined(separator: " "))")
        }
        #expect(text.contains("\\fB\\-\\-config\\fR \\fIfile\\fR"))
        #expect(text.contains("/etc/meter\\-gateway/meter\\-gateway.toml"))
        if let groff = executable("/usr/bin/groff") {
            let rendered = try runProgram(groff, ["-man", "-Tutf8", "-ww", "-z", page])
            #expect(rendered.status == 0)
            #expect(rendered.stderr.isEmpty, "groff warns: \(rendered.stderr)")
        }
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptNamesEverySubcommand(shell: String) throws {
        try #require(FileManager.default.isExecutableFile(atPath: Repository.gatewayBinary), "build meter-gateway")
        let script = try runProgram(Repository.gatewayBinary, ["--generate-completion-script", shell])
        try #require(script.status == 0, "\(script.stderr)")
        for name in Set(try commandPaths().flatMap { $0 }) {
            #expect(script.stdout.contains(name), "the \(shell) completion does not name \(name)")
        }
        // Syntax-checked by the shell when it is installed (bash always is).
        let checker = executable("/usr/bin/\(shell)", "/bin/\(shell)")
        if shell == "bash" { try #require(checker != nil) }
        guard let checker else { return }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("completion-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try script.stdout.write(to: file, atomically: true, encoding: .utf8)
        let checked = try runProgram(checker, shell == "fish" ? ["--no-execute", file.path] : ["-n", file.path])
        #expect(checked.status == 0, "\(shell) -n: \(checked.stderr)")
        if shell == "bash" {
            // Sourced, it registers the completion function for meter-gateway.
            let sourced = try runProgram(checker, ["-c", "source \(file.path) && complete -p meter-gateway"])
            #expect(sourced.status == 0 && sourced.stdout.contains("meter-gateway"), "\(sourced.stderr)")
        }
    }
}
