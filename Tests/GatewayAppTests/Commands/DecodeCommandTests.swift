import Foundation
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
}
