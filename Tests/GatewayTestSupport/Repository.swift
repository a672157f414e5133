public import Foundation

/// The clone's own files that tests read: the README, `Package.swift`, the golden vectors in `firmware-protocols/`,
/// the example configuration, the built `meter-gateway` binary.
///
/// Suites find them through ``root`` instead of counting folders up from their own `#filePath`, so a suite can move
/// to another folder without its paths breaking.
public enum Repository {
    /// The repository's root: the nearest folder above this source file that holds `Package.swift`, or, when there is
    /// none (the sources moved after the build), the current directory, where `swift test` runs.
    public static let root: URL = {
        let start = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        var folder = start
        for _ in start.pathComponents {
            if FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
                return folder
            }
            folder.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
    }()

    /// A file or folder of the repository.
    /// - Parameter path: Its path from the root, such as `firmware-protocols/native-v1-vectors.json`.
    /// - Returns: Its URL.
    public static func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    /// The `meter-gateway` binary under test: `GATEWAY_TEST_BIN`, or the debug build in `.build/debug/`.
    public static var gatewayBinary: String {
        ProcessInfo.processInfo.environment["GATEWAY_TEST_BIN"] ?? url(".build/debug/meter-gateway").path
    }
}
