import Foundation
import GatewayCore
import GatewayTestSupport
import Testing

@testable import GatewayApp

/// `meter-gateway decode --input`: one JSON object per frame line, in input order; comments and blank lines print
/// nothing; every bad line prints its error object with its line number and the batch goes on.
@Suite struct DecodeBatchTests {
    static let nativeKey = "2B7E151628AED2A6ABF7158809CF4F3C"

    /// The first valid vector of a file with its key.
    static func vector(_ file: String, _ name: String? = nil) -> (hex: String, key: String?) {
        guard let data = try? Data(contentsOf: Repository.url("firmware-protocols/\(file)")),
            let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let valid = root["valid"] as? [[String: Any]],
            let entry = valid.first(where: { name == nil || $0["name"] as? String == name })
        else { return ("", nil) }
        return (entry["hex"] as? String ?? "", entry["key"] as? String)
    }

    /// Runs a batch over `input` fed in chunks of `chunkSize` bytes.
    static func run(
        _ input: String,
        chunkSize: Int = 1 << 20,
        protocol name: FrameProtocol? = nil,
        key: AES128Key? = nil
    ) -> (lines: [String], decoded: Int, failed: Int) {
        var batch = DecodeBatch(defaultProtocol: name, defaultKey: key, layouts: [])
        var output: [UInt8] = []
        let bytes = Array(input.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(start + chunkSize, bytes.count)
            bytes[start..<end].withUnsafeBytes { batch.consume($0, into: &output) }
            start = end
        }
        batch.finish(into: &output)
        let text = String(decoding: output, as: UTF8.self)
        #expect(text.isEmpty || text.hasSuffix("\n"), "every output line ends with a newline")
        return (text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init),
            batch.decodedCount, batch.failedCount)
    }

    static func object(_ line: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]) ?? [:]
    }

    static func errorCode(_ line: String) -> String? {
        (object(line)["error"] as? [String: Any])?["code"] as? String
    }

    static let native = vector("native-v1-vectors.json")
    static let cjt188 = vector("cjt188-vectors.json")
    static let mode5 = vector("wmbus-vectors.json", "oms-gas-mode5")

    /// Every kind of line once; `#` and blank lines print nothing.
    static var mixedInput: String {
        [
            "# an analyst's export",  // 1: comment
            "\(native.hex)\t\(native.key ?? "")\tnative",  // 2
            "",  // 3: blank
            "   \(cjt188.hex)  -  cjt188  ",  // 4: blanks around
            "\(mode5.hex) \(mode5.key ?? "-") wmbus\r",  // 5: CRLF
            "ZZ - native",  // 6: bad hex
            "\(native.hex) 00 native",  // 7: bad key
            "\(native.hex) - native extra",  // 8: four columns
            "\(native.hex)",  // 9: no protocol anywhere
            "\(native.hex) - modbus",  // 10: unknown protocol
            "474D0101 - native",  // 11: the decoder refuses it
            "\t  # indented comment",  // 12
            "\(cjt188.hex) - cjt188",  // 13: last line, no newline
        ].joined(separator: "\n")
    }

    @Test func eachFrameLinePrintsOneObjectInInputOrder() throws {
        try #require(!Self.native.hex.isEmpty && !Self.cjt188.hex.isEmpty && !Self.mode5.hex.isEmpty)
        let (lines, decoded, failed) = Self.run(Self.mixedInput)
        try #require(lines.count == 10, "\(lines)")
        #expect(decoded == 4 && failed == 6)
        // Decoded lines print what the single-frame form prints.
        #expect(lines[0] == DecodeCommand.render(protocol: .native, keyHex: Self.native.key, frameHex: Self.native.hex).0)
        #expect(lines[1] == DecodeCommand.render(protocol: .cjt188, keyHex: nil, frameHex: Self.cjt188.hex).0)
        #expect(lines[2] == DecodeCommand.render(protocol: .wmbus, keyHex: Self.mode5.key, frameHex: Self.mode5.hex).0)
        #expect(Self.object(lines[2])["meter"] != nil && Self.errorCode(lines[2]) == nil)
        #expect(lines[9] == lines[1])
        let errors = lines[3...8].map { (Self.errorCode($0), Self.object($0)["line"] as? Int) }
        #expect(errors.map(\.0) == ["bad_hex", "bad_key", "bad_line", "missing_protocol", "bad_protocol", "truncated"])
        #expect(errors.map(\.1) == [6, 7, 8, 9, 10, 11])
    }

    @Test func chunkBoundariesDoNotChangeTheOutput() {
        let whole = Self.run(Self.mixedInput).lines
        for size in [1, 2, 3, 7, 64, 333] {
            #expect(Self.run(Self.mixedInput, chunkSize: size).lines == whole, "chunks of \(size)")
        }
    }

    @Test func theDefaultProtocolAndKeyServeLinesWithoutColumns() throws {
        let key = try #require(AES128Key(hex: Self.nativeKey))
        let input = "\(Self.native.hex)\n\(Self.native.hex) -\n\(Self.cjt188.hex) - cjt188\n"
        let (lines, decoded, failed) = Self.run(input, protocol: .native, key: key)
        #expect(decoded == 3 && failed == 0)
        #expect(lines.count == 3)
        #expect(Self.object(lines[0])["mac"] as? String == "verified")
        #expect(Self.object(lines[1])["mac"] as? String == "verified")
        #expect(Self.object(lines[2])["protocol"] as? String == "cjt188")
        // Without a key the MAC is not verified, as in the single-frame form.
        #expect(Self.object(Self.run(input, protocol: .native).lines[0])["mac"] as? String == "not_verified")
    }

    @Test func anOverlongLineIsAnErrorLineAndTheNextLineStillDecodes() {
        let long = String(repeating: "A", count: DecodeBatch.maximumLineLength + 2)
        for size in [5, 1 << 20] {
            let (lines, decoded, failed) = Self.run("\(long)\n\(Self.cjt188.hex) - cjt188\n\(long)", chunkSize: size)
            #expect(lines.count == 3)
            #expect(decoded == 1 && failed == 2)
            #expect(Self.errorCode(lines[0]) == "line_too_long" && Self.object(lines[0])["line"] as? Int == 1)
            #expect(Self.object(lines[1])["protocol"] as? String == "cjt188")
            #expect(Self.errorCode(lines[2]) == "line_too_long" && Self.object(lines[2])["line"] as? Int == 3)
        }
    }

    @Test func emptyInputPrintsNothing() {
        #expect(Self.run("").lines.isEmpty)
        #expect(Self.run("\n\n# only comments\n   \n").lines.isEmpty)
    }

    /// The binary: `--input FILE` and `--input -`, exit 0 when every line decoded and 2 when one failed.
    @Test func theBinaryReadsAFileOrStandardInputAndExitsByTheWorstLine() throws {
        let binary = Repository.gatewayBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary))
        let good = "\(Self.native.hex) \(Self.native.key ?? "-") native\n\(Self.cjt188.hex) - cjt188\n"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("decode-batch-\(UUID()).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        for (input, status, count) in [(good, Int32(0), 2), (good + "ZZ - native\n", Int32(2), 3)] {
            try Data(input.utf8).write(to: file)
            for viaStandardInput in [false, true] {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: binary)
                process.arguments = ["decode", "--input", viaStandardInput ? "-" : file.path]
                let output = Pipe()
                process.standardOutput = output
                process.standardError = Pipe()
                if viaStandardInput { process.standardInput = try FileHandle(forReadingFrom: file) }
                try process.run()
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                #expect(process.terminationStatus == status)
                let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
                #expect(lines.count == count)
            }
        }
        // A missing file: exit 1, nothing on standard output.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["decode", "--input", file.path + ".missing", "--protocol", "native"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(data.isEmpty)
    }
}
