import ArgumentParser
import Foundation
import GatewayHTTP

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct CredentialsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials",
        abstract: "HTTP credentials: hash a token for [[http.credentials]].",
        subcommands: [CredentialsHashCommand.self]
    )
}

struct CredentialsHashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Read a token from standard input (never from the command line) and print its token_sha256 line.",
        discussion: """
            The token is the first line of standard input; at a terminal it is read without echo. It must have at \
            least \(Credential.minimumTokenLength) printable characters without spaces; make one with \
            `openssl rand -hex 32`. With --name and --role the whole [[http.credentials]] table is printed. Give the \
            token to its holder; the configuration keeps only the hash.
            """
    )

    @Option(help: "The credential's name (the actor recorded for what it does); prints the whole table.")
    var name: String?

    @Option(name: .customLong("role"), help: "A role of the credential (repeat for several).")
    var roles: [Role] = []

    func validate() throws {
        if (name == nil) != roles.isEmpty {
            throw ValidationError("--name and --role go together")
        }
    }

    func run() throws {
        guard let token = Self.readToken() else { throw ValidationError("no token on standard input") }
        let digest: String
        do {
            digest = try Credential.hexDigest(ofToken: token)
            if let name {
                _ = try Credential(name: name, roles: Set(roles), tokenSHA256: digest)
            }
        } catch {
            throw ValidationError(error.description)
        }
        if let name {
            print("[[http.credentials]]")
            print("name = \"\(name)\"")
            print("roles = [\(roles.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))]")
        }
        print("token_sha256 = \"\(digest)\"")
    }

    /// The first line of standard input without its line end; at a terminal, prompted on standard error and read
    /// without echo.
    private static func readToken() -> String? {
        guard isatty(STDIN_FILENO) == 1 else { return readLine(strippingNewline: true).map(trimmed) }
        var original = termios()
        guard tcgetattr(STDIN_FILENO, &original) == 0 else { return nil }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &silent)
        FileHandle.standardError.write(Data("token (not echoed): ".utf8))
        let line = readLine(strippingNewline: true)
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &original)
        FileHandle.standardError.write(Data("\n".utf8))
        return line.map(trimmed)
    }

    private static func trimmed(_ line: String) -> String {
        line.hasSuffix("\r") ? String(line.dropLast()) : line
    }
}
