/// Builds one compact JSON text by hand (pure Swift, no Foundation), for the `decode` command and tools.
///
/// Call ``key(_:)`` before each member value inside an object; commas are inserted automatically.
public struct JSONWriter {
    /// The JSON text written so far.
    public private(set) var text = ""
    private var needsComma = false

    /// Creates an empty writer.
    public init() {}

    /// Starts an object (as a value).
    public mutating func beginObject() {
        separate()
        text += "{"
        needsComma = false
    }

    /// Ends the current object.
    public mutating func endObject() {
        text += "}"
        needsComma = true
    }

    /// Starts an array (as a value).
    public mutating func beginArray() {
        separate()
        text += "["
        needsComma = false
    }

    /// Ends the current array.
    public mutating func endArray() {
        text += "]"
        needsComma = true
    }

    /// Writes a member name; the next call writes its value.
    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        text += ":"
        needsComma = false
    }

    /// Writes a string value, escaped.
    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
        needsComma = true
    }

    /// Writes a value that is already valid JSON (a number literal such as `-0.05`).
    public mutating func literal(_ json: String) {
        separate()
        text += json
        needsComma = true
    }

    /// Writes an integer value.
    public mutating func integer(_ value: some BinaryInteger) {
        literal(String(value))
    }

    /// Writes `true` or `false`.
    public mutating func bool(_ value: Bool) {
        literal(value ? "true" : "false")
    }

    /// Writes `null`.
    public mutating func null() {
        literal("null")
    }

    /// Writes `"name": "value"`.
    public mutating func field(_ name: String, string value: String) {
        key(name)
        string(value)
    }

    /// Writes `"name": <integer>`.
    public mutating func field(_ name: String, integer value: some BinaryInteger) {
        key(name)
        integer(value)
    }

    /// Writes `"name": <literal>`.
    public mutating func field(_ name: String, literal value: String) {
        key(name)
        literal(value)
    }

    /// Writes `"name": true|false`.
    public mutating func field(_ name: String, bool value: Bool) {
        key(name)
        bool(value)
    }

    /// Writes `"name": null`.
    public mutating func fieldNull(_ name: String) {
        key(name)
        null()
    }

    private mutating func separate() {
        if needsComma { text += "," }
    }

    private mutating func appendQuoted(_ value: String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case "\u{08}": text += "\\b"
            case "\u{0C}": text += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16, uppercase: false)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }
}

extension FrameDecodingError {
    /// The error as the `decode` command prints it: `{"error":{"code":"bad_crc","message":"..."}}`.
    ///
    /// - Returns: One JSON object.
    public func renderJSON() -> String {
        var json = JSONWriter()
        json.beginObject()
        json.key("error")
        json.beginObject()
        json.field("code", string: code.description)
        json.field("message", string: message)
        json.endObject()
        json.endObject()
        return json.text
    }
}
