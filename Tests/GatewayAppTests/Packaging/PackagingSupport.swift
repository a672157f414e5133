import Foundation
import GatewayTestSupport
import Testing

/// Runs a program to its end and returns what it printed.
/// - Parameters:
///   - executable: The program's path.
///   - arguments: Its arguments.
///   - environment: Variables added to the test's environment.
///   - directory: Its working directory (the repository by default).
/// - Returns: Exit status, standard output and standard error.
/// - Throws: When it cannot be started.
func runProgram(
    _ executable: String,
    _ arguments: [String],
    environment: [String: String] = [:],
    directory: URL = Repository.root
) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = directory
    process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("METER_GATEWAY_") }
        .merging(environment) { $1 }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("run-" + UUID().uuidString)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    // Files rather than pipes: a child that prints more than a pipe holds cannot block on it.
    let out = folder.appendingPathComponent("out")
    let err = folder.appendingPathComponent("err")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    process.waitUntilExit()
    return (
        process.terminationStatus, try String(contentsOf: out, encoding: .utf8),
        try String(contentsOf: err, encoding: .utf8)
    )
}

/// The first of `paths` that is an executable file.
func executable(_ paths: String...) -> String? {
    paths.first { FileManager.default.isExecutableFile(atPath: $0) }
}

/// Every command path of the built binary (`meter-gateway tickets outage list` as `["tickets", "outage", "list"]`),
/// from `--experimental-dump-help`.
func commandPaths() throws -> [[String]] {
    let dump = try runProgram(Repository.gatewayBinary, ["--experimental-dump-help"])
    try #require(dump.status == 0, "\(dump.stderr)")
    let root = try #require(
        try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any]
    )
    var paths: [[String]] = []
    func walk(_ command: [String: Any], _ path: [String]) {
        for sub in command["subcommands"] as? [[String: Any]] ?? [] {
            guard let name = sub["commandName"] as? String else { continue }
            paths.append(path + [name])
            walk(sub, path + [name])
        }
    }
    walk(try #require(root["command"] as? [String: Any]), [])
    return paths
}
