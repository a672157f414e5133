import Foundation
import GatewayCore
import GatewayHTTP
import GatewayTestSupport
import Testing

/// The fast JSON writer behind `meter-gateway decode` writes exactly the text the gateway's one JSON encoder
/// (Foundation's `JSONEncoder`, sorted keys, exact decimals) makes of the same documents: byte for byte, for every
/// golden vector and corpus frame of every protocol, decoded or refused, and for the values a document can hold.
@Suite struct DecodeJSONWriterTests {
    /// One frame to decode as the decode tool would.
    struct Case {
        var name: String
        var protocolName: FrameProtocol
        var bytes: [UInt8]
        var key: AES128Key?
        var layouts: [MBusRecordLayout] = []
    }

    /// The reference: the document through `GatewayJSONEncoder`, as the decode command printed it before the writer.
    static func foundationText(_ testCase: Case) throws -> String {
        let encoder = GatewayJSONEncoder()
        let layouts = testCase.layouts
        let key = testCase.key
        let document: any Encodable = testCase.bytes.withUnsafeBytes { raw -> any Encodable in
            do throws(FrameDecodingError) {
                switch testCase.protocolName {
                case .native:
                    let frame =
                        if let key {
                            try NativeDecoder.decode(raw) { _ in key }
                        } else {
                            try NativeDecoder.decodeWithoutVerifyingMAC(raw)
                        }
                    return NativeFrameDocument(frame)
                case .cjt188:
                    return CJT188FrameDocument(try CJT188Decoder.decode(raw))
                case .wmbus:
                    return MBusFrameDocument(
                        try MBusDecoder.decodeWireless(
                            raw,
                            key: { _ in key },
                            allowAlreadyDecrypted: true,
                            layout: { _, signature in layouts.first { $0.signature == signature } },
                            drivers: .all
                        )
                    )
                case .mbus:
                    return MBusFrameDocument(
                        try MBusDecoder.decodeWired(
                            raw,
                            key: { _ in key },
                            allowAlreadyDecrypted: true,
                            layout: { _, signature in layouts.first { $0.signature == signature } },
                            drivers: .all
                        )
                    )
                }
            } catch {
                return DecodeErrorDocument(error)
            }
        }
        return try encoder.text(document)
    }

    static func writerText(_ testCase: Case) -> (String, Bool) {
        var renderer = FrameJSONRenderer(layouts: testCase.layouts)
        let decoded = testCase.bytes.withUnsafeBytes { renderer.render($0, protocol: testCase.protocolName, key: testCase.key) }
        return (String(decoding: renderer.writer.bytes, as: UTF8.self), decoded)
    }

    private static func json(_ file: String) -> [String: Any] {
        guard let data = try? Data(contentsOf: Repository.url("firmware-protocols/\(file)")),
            let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return root
    }

    /// Every entry of every vector file (valid, malformed, rejected, driver vectors, the compact pair, the public
    /// corpus), with and without its key.
    static let vectorCases: [Case] = {
        var cases: [Case] = []
        func add(_ entry: [String: Any], protocolName: FrameProtocol, hexKey: String = "hex") {
            guard let hex = entry[hexKey] as? String, let bytes = Hex.decode(hex) else { return }
            let name = entry["name"] as? String ?? "?"
            let layouts = (entry["layouts"] as? [[String: Any]] ?? []).compactMap {
                ($0["chain"] as? String).flatMap(Hex.decode).flatMap(MBusRecordLayout.init(bytes:))
            }
            let key = (entry["key"] as? String).flatMap { AES128Key(hex: $0) }
            cases.append(Case(name: name, protocolName: protocolName, bytes: bytes, key: key, layouts: layouts))
            if key != nil {
                cases.append(Case(name: name + " (no key)", protocolName: protocolName, bytes: bytes, layouts: layouts))
            }
        }
        func medium(_ entry: [String: Any]) -> FrameProtocol { entry["medium"] as? String == "wired" ? .mbus : .wmbus }
        let native = json("native-v1-vectors.json")
        for group in ["valid", "malformed"] {
            for entry in native[group] as? [[String: Any]] ?? [] { add(entry, protocolName: .native) }
        }
        let cjt188 = json("cjt188-vectors.json")
        for group in ["valid", "malformed", "downlinks"] {
            for entry in cjt188[group] as? [[String: Any]] ?? [] { add(entry, protocolName: .cjt188) }
        }
        for file in ["wmbus-vectors.json", "wmbus-driver-vectors.json"] {
            let root = json(file)
            for group in ["valid", "rejected"] {
                for entry in root[group] as? [[String: Any]] ?? [] { add(entry, protocolName: medium(entry)) }
            }
            for entry in root["compact_pairs"] as? [[String: Any]] ?? [] {
                add(entry, protocolName: .wmbus, hexKey: "full_hex")
                var compact = entry
                compact["layouts"] = [["chain": entry["chain"] ?? ""]]
                add(compact, protocolName: .wmbus, hexKey: "compact_hex")
            }
        }
        let corpus = json("corpus-public/wmbus-telegrams.json")
        for var entry in corpus["telegrams"] as? [[String: Any]] ?? [] {
            entry["hex"] = entry["telegram"]
            add(entry, protocolName: .wmbus)
        }
        return cases
    }()

    /// The fuzz seeds: every frame of `firmware-protocols/corpus/`, most of them malformed on purpose.
    static let corpusCases: [Case] = {
        let folders: [(String, FrameProtocol)] = [
            ("native", .native), ("cjt188", .cjt188), ("mbus", .mbus), ("wmbus", .wmbus), ("wmbus-drivers", .wmbus),
        ]
        var cases: [Case] = []
        for (folder, protocolName) in folders {
            let url = Repository.url("firmware-protocols/corpus/\(folder)")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            for name in names.sorted() {
                guard let data = try? Data(contentsOf: url.appendingPathComponent(name)) else { continue }
                cases.append(Case(name: "\(folder)/\(name)", protocolName: protocolName, bytes: Array(data)))
            }
        }
        return cases
    }()

    @Test func everyVectorOfEveryProtocolWritesTheEncodersText() throws {
        try #require(Self.vectorCases.count > 400)
        var decoded: [FrameProtocol: Int] = [:]
        for testCase in Self.vectorCases {
            let expected = try Self.foundationText(testCase)
            let (text, didDecode) = Self.writerText(testCase)
            #expect(text == expected, "\(testCase.protocolName) \(testCase.name)")
            #expect(didDecode == !expected.hasPrefix(#"{"error":"#), "\(testCase.name)")
            if didDecode { decoded[testCase.protocolName, default: 0] += 1 }
        }
        // The comparison covers decoded documents of every protocol, not only error objects.
        for protocolName in FrameProtocol.allCases {
            #expect(decoded[protocolName, default: 0] >= 3, "\(protocolName): \(decoded)")
        }
    }

    @Test func everyCorpusFrameWritesTheEncodersText() throws {
        try #require(Self.corpusCases.count > 400)
        for testCase in Self.corpusCases {
            #expect(Self.writerText(testCase).0 == (try Self.foundationText(testCase)), "\(testCase.name)")
        }
    }

    /// Single-byte changes of every valid vector: odd values the vectors do not hold (text units, dates, bit fields,
    /// reals) come out the same too.
    @Test func mutatedVectorsWriteTheEncodersText() throws {
        var generator = SplitMix64(seed: 13)
        for testCase in Self.vectorCases where !testCase.bytes.isEmpty {
            for _ in 0..<12 {
                var mutated = testCase
                let index = Int(generator.next() % UInt64(testCase.bytes.count))
                mutated.bytes[index] = UInt8(truncatingIfNeeded: generator.next())
                #expect(Self.writerText(mutated).0 == (try Self.foundationText(mutated)), "\(testCase.name) @\(index)")
            }
        }
    }

    struct Text: Encodable {
        var text: String
    }

    @Test func stringsAreEscapedAsTheEncoderEscapesThem() throws {
        var all = ""
        for scalar in 0..<0x80 { all.unicodeScalars.append(Unicode.Scalar(UInt8(scalar))) }
        for text in [all, "é ü ß \u{2028}\u{2029} \u{FFFF} 😀", "a/b\\c\"d", ""] {
            var writer = JSONWriter()
            writer.beginObject()
            writer.member("text", text)
            writer.endObject()
            #expect(String(decoding: writer.bytes, as: UTF8.self) == (try GatewayJSONEncoder().text(Text(text: text))))
        }
    }

    @Test func decimalsAreWrittenAsFoundationsDecimal() throws {
        let significands: [UInt64] = [0, 1, 5, 10, 100, 1_234_500, 34_028_235, 999_999, UInt64.max, UInt64.max / 10 * 10]
        for significand in significands {
            // Decoded frames hold powers of ten far inside −100…100 (a real is at most 10^38).
            for exponent in -100...100 {
                for isNegative in [false, true] {
                    let value = ExactDecimal(significand: significand, exponent: exponent, isNegative: isNegative)
                    var writer = JSONWriter()
                    writer.beginArray()
                    writer.decimal(value)
                    writer.endArray()
                    let expected = try GatewayJSONEncoder().text([value])
                    #expect(String(decoding: writer.bytes, as: UTF8.self) == expected, "\(value)")
                    #expect(!writer.hasUnencodableValue)
                }
            }
        }
        // Outside Decimal's exponent range the encoder refuses the value; the writer says so.
        var writer = JSONWriter()
        writer.decimal(ExactDecimal(significand: 1, exponent: 128))
        #expect(writer.hasUnencodableValue)
        #expect(throws: EncodingError.self) { try GatewayJSONEncoder().text([ExactDecimal(significand: 1, exponent: -129)]) }
    }

    struct Numbers: Encodable {
        var a: Int64
        var b: UInt64
        var c: Int8
        var d: UInt16
        var e: Bool
        var f: String?
    }

    @Test func integersAndMembersMatchTheEncoder() throws {
        for (a, b, c, d) in [(Int64.min, UInt64.max, Int8.min, UInt16.max), (0, 0, 0, 0), (-1, 1, 127, 9)] {
            var writer = JSONWriter()
            writer.beginObject()
            writer.member("a", a)
            writer.member("b", b)
            writer.member("c", c)
            writer.member("d", d)
            writer.member("e", true)
            writer.memberIfPresent("f", nil as String?)
            writer.endObject()
            let expected = try GatewayJSONEncoder().text(Numbers(a: a, b: b, c: c, d: d, e: true, f: nil))
            #expect(String(decoding: writer.bytes, as: UTF8.self) == expected)
        }
    }

    @Test func aSortedObjectPutsItsMembersInKeyOrder() {
        var writer = JSONWriter()
        writer.beginObject(sortingMembers: true)
        writer.member("type_code", 3)
        writer.key("b")
        writer.beginObject()
        writer.member("z", 1)
        writer.member("a", 2)  // a nested plain object keeps the caller's order
        writer.endObject()
        writer.member("type", "x")
        writer.member("A", false)
        writer.member("a_", "y")
        writer.endObject()
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"A":false,"a_":"y","b":{"z":1,"a":2},"type":"x","type_code":3}"#)
    }
}

/// A small deterministic generator for the mutation test (SplitMix64).
struct SplitMix64 {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
