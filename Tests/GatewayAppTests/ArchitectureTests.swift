import Foundation
import GatewayTestSupport
import Testing

/// README's architecture table is the module map a newcomer reads; `Package.swift` is what the compiler enforces.
/// These tests keep the two the same, so the map cannot drift from the build.
@Suite struct ArchitectureTests {
    private static let root = Repository.root

    /// The project's own modules (targets and system libraries), whatever their kind.
    private static func projectModules(in manifest: String) -> Set<String> {
        Set(matches(of: #"\.(?:target|executableTarget|systemLibrary)\(\s*name: "(\w+)""#, in: manifest))
    }

    /// Each non-test target's dependencies that are project modules, read from `Package.swift`.
    private static func declaredImports(in manifest: String) -> [String: Set<String>] {
        let modules = projectModules(in: manifest)
        var result: [String: Set<String>] = [:]
        let pattern = #"\.(?:target|executableTarget)\(\s*name: "(\w+)"(.*?)swiftSettings"#
        let regex = try! NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators])
        let text = manifest as NSString
        for match in regex.matches(in: manifest, range: NSRange(location: 0, length: text.length)) {
            let name = text.substring(with: match.range(at: 1))
            let body = text.substring(with: match.range(at: 2))
            let dependencies = matches(of: #""(\w+)""#, in: body).filter { modules.contains($0) && $0 != name }
            result[name] = Set(dependencies)
        }
        return result
    }

    /// The "may import" column of README's architecture table, by module.
    private static func documentedImports(in readme: String) -> [String: Set<String>] {
        guard let section = readme.components(separatedBy: "## Architecture").dropFirst().first else { return [:] }
        var result: [String: Set<String>] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3 else { continue }
            let module = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`")).split(separator: "/").last
                .map(String.init) ?? ""
            let imports = cells[cells.count - 1]
            result[module] = imports == "nothing" ? [] : Set(imports.components(separatedBy: ", "))
        }
        return result
    }

    private static func matches(of pattern: String, in text: String) -> [String] {
        let regex = try! NSRegularExpression(pattern: pattern)
        let string = text as NSString
        return regex.matches(in: text, range: NSRange(location: 0, length: string.length)).map {
            string.substring(with: $0.range(at: 1))
        }
    }

    @Test func readmesModuleMapMatchesThePackageManifest() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let declared = Self.declaredImports(in: manifest)
        let documented = Self.documentedImports(in: readme)
        #expect(!declared.isEmpty && !documented.isEmpty)
        for (module, imports) in declared where module != "FrameFuzzer" {
            #expect(documented[module] == imports, "\(module): Package.swift says \(imports.sorted())")
        }
        for module in documented.keys {
            #expect(declared[module] != nil, "README documents \(module), which Package.swift does not build")
        }
    }

    @Test func onlyTheirWrappersImportTheCLibraries() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        for (module, imports) in Self.declaredImports(in: manifest) {
            if imports.contains("CLibPQ") { #expect(module == "PostgresSink") }
            if imports.contains("CMosquitto") { #expect(module == "MQTTIngest") }
        }
    }
}
