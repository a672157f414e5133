import Foundation
import GatewayTestSupport
import Testing

@testable import GatewayApp

/// scripts/build-deb.sh packs the debug binary (`--layout-only`: its Swift runtime comes from the toolchain, so the
/// script's self-sufficiency check is skipped) and the package is taken apart with dpkg-deb: its files, its control
/// fields, its conffile and maintainer scripts, and the binary run from an extracted root. The release package
/// (`--static-swift-stdlib`) is built the same way without `--layout-only` (README "Running in production").
@Suite(.serialized) struct DebianPackageTests {
    @Test func packsBinaryUnitConfigurationManPageAndCompletions() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Repository.gatewayBinary), "build meter-gateway")
        let dpkgDeb = try #require(executable("/usr/bin/dpkg-deb"), "dpkg-deb (package dpkg) is needed")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("deb-" + UUID().uuidString)
        defer { try? FileManager.default.removeItem(at: folder) }
        let built = try runProgram(
            "/bin/bash",
            [
                "scripts/build-deb.sh", "--binary", Repository.gatewayBinary, "--layout-only", "--compression", "none",
                "--output", folder.path,
            ]
        )
        try #require(built.status == 0, "\(built.stderr)")
        let deb = built.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(deb.hasSuffix(".deb") && deb.contains("meter-gateway_\(GatewayVersion.current)_"))

        let contents = try runProgram(dpkgDeb, ["-c", deb])
        try #require(contents.status == 0)
        for path in [
            "./usr/bin/meter-gateway", "./lib/systemd/system/meter-gateway.service",
            "./etc/meter-gateway/meter-gateway.toml", "./usr/share/man/man1/meter-gateway.1.gz",
            "./usr/share/bash-completion/completions/meter-gateway",
            "./usr/share/zsh/vendor-completions/_meter-gateway",
            "./usr/share/fish/vendor_completions.d/meter-gateway.fish", "./usr/share/doc/meter-gateway/copyright",
            "./usr/share/meter-gateway/calendars/cn-2026.toml",
        ] {
            #expect(contents.stdout.contains(" \(path)\n"), "the package lacks \(path)")
        }
        #expect(contents.stdout.contains("root/root"), "files belong to root")

        let control = try runProgram(dpkgDeb, ["-f", deb, "Package", "Version", "Depends"])
        #expect(control.stdout.contains("Package: meter-gateway\n"))
        #expect(control.stdout.contains("Version: \(GatewayVersion.current)\n"))
        let depends = control.stdout.split(separator: "\n").first { $0.hasPrefix("Depends: ") } ?? ""
        for package in ["libmosquitto1", "libpq5", "libc6", "adduser"] {
            #expect(depends.contains(package), "Depends lacks \(package): \(depends)")
        }

        let info = folder.appendingPathComponent("DEBIAN").path
        try #require(try runProgram(dpkgDeb, ["-e", deb, info]).status == 0)
        #expect(
            try String(contentsOfFile: info + "/conffiles", encoding: .utf8)
                == "/etc/meter-gateway/meter-gateway.toml\n"
        )
        let postinst = try String(contentsOfFile: info + "/postinst", encoding: .utf8)
        #expect(postinst.contains("adduser --system --group"))
        for script in ["postinst", "prerm", "postrm"] {
            #expect(try runProgram("/bin/sh", ["-n", info + "/" + script]).status == 0, "\(script) is not valid sh")
        }

        let root = folder.appendingPathComponent("root").path
        try #require(try runProgram(dpkgDeb, ["-x", deb, root]).status == 0)
        let version = try runProgram(root + "/usr/bin/meter-gateway", ["--version"])
        #expect(version.status == 0 && version.stdout == GatewayVersion.current + "\n")
        // The packaged configuration is the documented example, and valid as it stands.
        let packaged = try String(contentsOfFile: root + "/etc/meter-gateway/meter-gateway.toml", encoding: .utf8)
        #expect(packaged == GatewayConfiguration.exampleFile())
        let unit = try String(contentsOfFile: root + "/lib/systemd/system/meter-gateway.service", encoding: .utf8)
        #expect(unit == (try String(contentsOf: Repository.url("config/meter-gateway.service"), encoding: .utf8)))
        let man = try runProgram(
            "/bin/sh",
            ["-c", "gzip -dc \(root)/usr/share/man/man1/meter-gateway.1.gz | head -n 3"]
        )
        #expect(man.stdout.contains(".TH \"METER-GATEWAY\" \"1\""))
    }
}
