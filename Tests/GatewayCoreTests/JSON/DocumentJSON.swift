import Foundation
import GatewayCore
import Testing

/// A decode document as JSON, the way the tests read it: `JSONEncoder` with sorted keys, and every
/// ``ExactDecimal`` written as Foundation's `Decimal` parsed from its exact text. (The `decode` command writes
/// through GatewayHTTP's `GatewayJSONEncoder`; `DecodeCommandTests` reads that path.)
enum DocumentJSON {
    static func data(_ document: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.userInfo[.exactDecimalEncoding] = decimalFromText
        return try encoder.encode(document)
    }

    private static let decimalFromText: ExactDecimal.Encoding = { value, encoder in
        var container = encoder.singleValueContainer()
        try container.encode(try #require(Decimal(string: value.description)))
    }

    static func text(_ document: some Encodable) throws -> String {
        String(decoding: try data(document), as: UTF8.self)
    }

    /// The document as JSONSerialization reads it.
    static func object(_ document: some Encodable) throws -> [String: Any] {
        let text = try text(document)
        return try #require(
            try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            "not a JSON object: \(text)"
        )
    }

    /// The document read back into a `Decodable` type, with numbers as exact `Decimal`s where the type says so.
    static func decode<Value: Decodable>(_ type: Value.Type, from document: some Encodable) throws -> Value {
        try JSONDecoder().decode(type, from: try data(document))
    }
}

/// One entry of `readings`: the names every protocol writes, with the value read back exactly, and the M-Bus
/// names (`nil` where a protocol does not write them).
struct ReadingJSON: Decodable, Equatable {
    var quantity: String
    var value: Decimal
    var unit: String
    var storage: UInt64
    var tariff: UInt32
    var basis: String
    var subunit: UInt16? = nil
    var function: String? = nil
    var accumulation: String? = nil
    var `protected`: Bool? = nil
}

/// The `readings` of a decode document.
struct ReadingsJSON: Decodable {
    var readings: [ReadingJSON]
}

extension Decimal {
    /// A decimal from exact text (a vector's expectation); a test fails when the text is not a number.
    static func exactly(_ text: String) throws -> Decimal {
        try #require(Decimal(string: text), "not a decimal: \(text)")
    }
}
