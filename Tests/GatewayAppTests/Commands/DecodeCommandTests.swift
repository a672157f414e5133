import Foundation
import GatewayCore
import GatewayTestSupport
import Testing

@testable import GatewayApp

/// The `decode` command's contract: one JSON object on success; `{"error":{"code","message"}}` and status 2 on
/// bad input. Driven by the golden vectors beside the specification.
@Suite struct DecodeCommandTests {
    struct Vector: Decodable {
        var name: String
        var hex: String
        /// `nil` for vectors whose meter has no registered key (`unknown_meter`).
        var key: String?
        var error: String?
    }

    struct VectorFile: Decodable {
        var valid: [Vector]
        var malformed: [Vector]
    }

    static let vectors: VectorFile = {
        let path = Repository.url("firmware-protocols/native-v1-vectors.json")
        guard let data = try? Data(contentsOf: path), let file = try? JSONDecoder().decode(VectorFile.self, from: data)
        else {
            return VectorFile(valid: [], malformed: [])
        }
        return file
    }()

    private func object(_ text: String) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            "not one JSON object: \(text)"
        )
    }

    @Test func everyValidVectorPrintsOneObjectWithTheContractFields() throws {
        try #require(Self.vectors.valid.count > 10)
        for vector in Self.vectors.valid {
            let (text, failed) = DecodeCommand.render(protocol: .native, keyHex: vector.key, frameHex: vector.hex)
            #expect(!failed, "\(vector.name): \(text)")
            let json = try object(text)
            #expect(json["protocol"] as? String == "native")
            #expect(["from_meter", "to_meter"].contains(json["direction"] as? String ?? ""), "\(vector.name)")
            #expect((json["meter"] as? [String: Any])?["id"] is String, "\(vector.name)")
            #expect(json["mac"] as? String == "verified", "\(vector.name)")
            #expect(
                json.keys.contains("meter_time") && json["readings"] is [Any] && json["alarms"] is [Any],
                "\(vector.name)"
            )
        }
    }

    /// One `readings` entry read back with its value as an exact `Decimal`.
    struct Reading: Decodable, Equatable {
        var quantity: String
        var value: Decimal
    }

    struct Readings: Decodable {
        var readings: [Reading]
    }

    /// The CJ/T 188 and M-Bus golden vectors through the same command: one object each, with the meter and the
    /// readings the vectors state, every value an exact JSON number.
    @Test(arguments: ["cjt188-vectors.json", "wmbus-vectors.json"])
    func everyProtocolsVectorsPrintTheirMeterAndExactReadings(file: String) throws {
        let url = Repository.url("firmware-protocols/\(file)")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let vectors = try #require(root["valid"] as? [[String: Any]])
        try #require(vectors.count > 10)
        // The command detects the wireless frame format; vectors that must declare format B are left out.
        for vector in vectors where vector["decode_format"] as? String == nil {
            let name = vector["name"] as? String ?? "?"
            let medium = vector["medium"] as? String
            let protocolName: DecodeCommand.ProtocolName = medium == nil ? .cjt188 : medium == "wired" ? .mbus : .wmbus
            // Compact frames decode with the layouts the vector makes known (`--layout`).
            let layouts = (vector["layouts"] as? [[String: Any]] ?? []).compactMap { $0["chain"] as? String }
            let (text, failed) = DecodeCommand.render(
                protocol: protocolName,
                keyHex: vector["key"] as? String,
                frameHex: vector["hex"] as? String ?? "",
                layouts: layouts
            )
            #expect(!failed, "\(name): \(text)")
            let json = try object(text)
            let expected = try #require(vector["expected"] as? [String: Any])
            #expect(json["protocol"] as? String == protocolName.rawValue, "\(name)")
            #expect(json["direction"] as? String == expected["direction"] as? String, "\(name)")
            let meter = (json["meter"] as? [String: Any])?["id"] as? String
            #expect(meter == (expected["meter"] as? [String: Any])?["id"] as? String, "\(name)")
            let readings = try JSONDecoder().decode(Readings.self, from: Data(text.utf8)).readings
            let want = try (expected["readings"] as? [[String: Any]] ?? []).map {
                Reading(
                    quantity: $0["quantity"] as? String ?? "",
                    value: try #require(Decimal(string: "\($0["value"] ?? "")"), "\(name)")
                )
            }
            #expect(readings == want, "\(name)")
        }
    }

    /// A register of 9999999999.999999 m³ (16 digits): a `Double` prints it as 9999999999.999998; the JSON number
    /// the command prints is exact.
    @Test func volumesAreExactJSONNumbersWhereADoubleIsNot() throws {
        let vector = try #require(Self.vectors.valid.first { $0.name == "reading-basic" })
        let keyHex = try #require(vector.key)
        let key = try #require(AES128Key(hex: keyHex))
        var frame = try (Hex.decode(vector.hex) ?? []).withUnsafeBytes { raw in
            try Result { () throws(FrameDecodingError) -> NativeFrame in try NativeDecoder.decode(raw) { _ in key } }
                .get()
        }
        guard case .reading(var reading) = frame.body else {
            Issue.record("reading-basic is not a reading")
            return
        }
        reading.register = NativeFrame.Register(raw: 9_999_999_999_999_999, exponent: -6, digits: 10)
        frame.body = .reading(reading)
        let hex = Hex.encode(try NativeEncoder.encode(frame, key: key))
        let double = try #require(Double("9999999999.999999"))
        #expect("\(double)" != "9999999999.999999", "a Double rounds it")

        let (text, failed) = DecodeCommand.render(protocol: .native, keyHex: vector.key, frameHex: hex)
        #expect(!failed, "\(text)")
        #expect(text.contains(#""value_m3":9999999999.999999"#), "\(text)")
        let readings = try JSONDecoder().decode(Readings.self, from: Data(text.utf8)).readings
        let exact = try #require(Decimal(string: "9999999999.999999"))
        #expect(readings.first == Reading(quantity: "volume", value: exact))
    }

    @Test func withoutAKeyTheMACIsReportedAsNotVerified() throws {
        let vector = try #require(Self.vectors.valid.first)
        let (text, failed) = DecodeCommand.render(protocol: .native, keyHex: nil, frameHex: vector.hex)
        #expect(!failed)
        #expect(try object(text)["mac"] as? String == "not_verified")
    }

    @Test func everyMalformedVectorPrintsItsErrorCode() throws {
        try #require(Self.vectors.malformed.count > 10)
        // The CLI treats a missing --key as "decode without verifying", so unknown_meter cannot arise there.
        for vector in Self.vectors.malformed where vector.key != nil {
            let (text, failed) = DecodeCommand.render(protocol: .native, keyHex: vector.key, frameHex: vector.hex)
            #expect(failed, "\(vector.name)")
            let error = try #require(try object(text)["error"] as? [String: Any], "\(vector.name): \(text)")
            #expect(error["code"] as? String == vector.error, "\(vector.name)")
            #expect((error["message"] as? String)?.isEmpty == false)
        }
    }

    @Test(arguments: [
        ("zz", nil as String?, "bad_hex"),
        ("474", nil, "bad_hex"),
        ("474D", "00", "bad_key"),
    ])
    func badArgumentsAreReportedAsJSONErrors(hex: String, key: String?, code: String) throws {
        let (text, failed) = DecodeCommand.render(protocol: .native, keyHex: key, frameHex: hex)
        #expect(failed)
        #expect((try object(text)["error"] as? [String: Any])?["code"] as? String == code)
    }

    /// wmbus-vectors.json `compact-ci79-plain`: without `--layout` it is `unknown_format`; with the layout of its
    /// full frame it decodes; a `--layout` that is not a DIF/VIF chain is `bad_layout`.
    @Test func compactFramesNeedTheLayoutOfTheirFullFrame() throws {
        let frame = "1C44E61E020024203C0379D0F332DE00170900C3563412000000060133"
        let (missing, missingFailed) = DecodeCommand.render(protocol: .wmbus, keyHex: nil, frameHex: frame)
        #expect(missingFailed)
        #expect((try object(missing)["error"] as? [String: Any])?["code"] as? String == "unknown_format")
        let (text, failed) = DecodeCommand.render(
            protocol: .wmbus,
            keyHex: nil,
            frameHex: frame,
            layouts: ["0C13", "0C943A0DFD1102FD17046D"]
        )
        #expect(!failed, "\(text)")
        #expect((try object(text)["meter"] as? [String: Any])?["address"] as? String == "GWF-20240002-60-03")
        let (bad, badFailed) = DecodeCommand.render(protocol: .wmbus, keyHex: nil, frameHex: frame, layouts: ["0C"])
        #expect(badFailed)
        #expect((try object(bad)["error"] as? [String: Any])?["code"] as? String == "bad_layout")
    }

    @Test func theBinaryExitsWithStatusTwoOnBadInput() throws {
        let binary = Repository.gatewayBinary
        try #require(FileManager.default.isExecutableFile(atPath: binary))
        for (hex, status) in [(Self.vectors.valid.first?.hex ?? "", Int32(0)), ("474D0101", Int32(2))] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["decode", "--protocol", "native", hex]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationStatus == status)
            #expect(String(decoding: data, as: UTF8.self).split(separator: "\n").count == 1, "exactly one line of JSON")
        }
    }

    /// Runs the binary's `decode`, feeding `input` to its standard input.
    private func decode(_ arguments: [String], input: String = "") throws -> (out: String, err: String, status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Repository.gatewayBinary)
        process.arguments = ["decode", "--protocol", "native"] + arguments
        let (output, errors, feed) = (Pipe(), Pipe(), Pipe())
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = feed
        try process.run()
        feed.fileHandleForWriting.write(Data(input.utf8))
        try feed.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self), process.terminationStatus)
    }

    @Test func aKeyFromAFileOrStandardInputVerifiesLikeOneOnTheCommandLineWhichWarns() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Repository.gatewayBinary))
        let vector = try #require(Self.vectors.valid.first { $0.key != nil })
        let key = try #require(vector.key)
        let path = NSTemporaryDirectory() + "decode-key-" + UUID().uuidString
        try (key + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }

        let onArgv = try decode(["--key", key, vector.hex])
        let fromFile = try decode(["--key-file", path, vector.hex])
        let fromInput = try decode(["--key", "-", vector.hex], input: key + "\n")
        for run in [onArgv, fromFile, fromInput] {
            #expect(run.status == 0)
            #expect(run.out.contains(#""mac":"verified""#), "\(run.out)")
        }
        #expect(fromFile.out == onArgv.out && fromInput.out == onArgv.out)
        #expect(onArgv.err.contains("warning: a key given with --key is visible"))
        #expect(fromFile.err.isEmpty && fromInput.err.isEmpty)
        // A wrong key from a file fails the MAC check without echoing the key.
        let wrongKey = String(repeating: "0F", count: 16)
        try wrongKey.write(toFile: path, atomically: true, encoding: .utf8)
        let wrong = try decode(["--key-file", path, vector.hex])
        #expect(wrong.status == 2)
        #expect(!wrong.out.contains(wrongKey) && !wrong.err.contains(wrongKey))
        #expect(try decode(["--key", key, "--key-file", path, vector.hex]).status != 0)
    }
}
