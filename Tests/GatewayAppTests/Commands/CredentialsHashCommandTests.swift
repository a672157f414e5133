import Foundation
import GatewayHTTP
import GatewayTestSupport
import Testing

/// `meter-gateway credentials hash` reads the token from standard input, never from the command line, refuses a
/// short one, and prints the `token_sha256` line (or the whole table) that the configuration accepts.
@Suite struct CredentialsHashCommandTests {
    private func run(_ arguments: [String], input: String) throws -> (status: Int32, output: String, error: String) {
        let binary = Repository.gatewayBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["credentials", "hash"] + arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let error = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self)
        )
    }

    @Test func printsTheHashOfTheTokenOnStandardInput() throws {
        let token = "correct-horse-battery-staple-0123456789"
        let (status, output, _) = try run([], input: token + "\n")
        #expect(status == 0)
        #expect(output == "token_sha256 = \"7771a0cec1279f8ca878a66c694f3344b16bee8128c78b8ef5fd0656b35b02ee\"\n")

        let table = try run(["--name", "desk-3", "--role", "dispatch", "--role", "supervisor"], input: token)
        #expect(table.status == 0)
        #expect(
            table.output == """
                [[http.credentials]]
                name = "desk-3"
                roles = ["dispatch", "supervisor"]
                token_sha256 = "7771a0cec1279f8ca878a66c694f3344b16bee8128c78b8ef5fd0656b35b02ee"

                """
        )
    }

    @Test func refusesAShortTokenAndATokenOnTheCommandLine() throws {
        let short = try run([], input: "too-short\n")
        #expect(short.status != 0 && short.output.isEmpty)
        #expect(short.error.contains("at least \(Credential.minimumTokenLength) characters"))
        #expect(!short.error.contains("too-short"))
        let argv = try run(["correct-horse-battery-staple-0123456789"], input: "")
        #expect(argv.status != 0 && argv.output.isEmpty)
    }
}
