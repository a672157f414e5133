public import GatewayCore

/// A small SVG builder for the charts: elements with escaped attributes and text, numbers in a fixed format.
///
/// Deterministic: the same calls give the same bytes (attribute order as given, numbers rounded to one decimal
/// place by integer arithmetic, never a locale, an exponent, `nan` or `inf`). No scripts, no external references.
struct SVGWriter {
    private(set) var text = ""

    /// Starts a document of the given size with its accessible title and description (`<title>`, `<desc>`, named
    /// by `aria-labelledby`).
    init(width: Int, height: Int, title: String, description: String) {
        text.reserveCapacity(64 * 1024)
        text += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        text +=
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" "
            + "viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-labelledby=\"chart-title chart-desc\" "
            + "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        text += "<title id=\"chart-title\">\(Self.escape(title))</title>\n"
        text += "<desc id=\"chart-desc\">\(Self.escape(description))</desc>\n"
    }

    /// Closes the document and returns it.
    mutating func finish() -> String {
        text += "</svg>\n"
        return text
    }

    /// An empty element: `<name a="v" …/>`.
    mutating func element(_ name: String, _ attributes: KeyValuePairs<String, String>) {
        text += "<\(name)"
        appendAttributes(attributes)
        text += "/>\n"
    }

    /// An element holding text: `<name …>text</name>`.
    mutating func element(_ name: String, _ attributes: KeyValuePairs<String, String>, text content: String) {
        text += "<\(name)"
        appendAttributes(attributes)
        text += ">\(Self.escape(content))</\(name)>\n"
    }

    /// An element with a child `<title>` (a tooltip): `<name …><title>tip</title></name>`.
    mutating func element(_ name: String, _ attributes: KeyValuePairs<String, String>, tooltip: String) {
        text += "<\(name)"
        appendAttributes(attributes)
        text += "><title>\(Self.escape(tooltip))</title></\(name)>\n"
    }

    /// Opens a group; close it with ``close(_:)``.
    mutating func open(_ name: String, _ attributes: KeyValuePairs<String, String> = [:]) {
        text += "<\(name)"
        appendAttributes(attributes)
        text += ">\n"
    }

    /// Closes an element opened with ``open(_:_:)``.
    mutating func close(_ name: String) {
        text += "</\(name)>\n"
    }

    private mutating func appendAttributes(_ attributes: KeyValuePairs<String, String>) {
        for (name, value) in attributes {
            text += " \(name)=\"\(Self.escape(value))\""
        }
    }

    /// XML-escapes text and attribute values (`&`, `<`, `>`, `"`, `'`), and replaces the control characters XML 1.0
    /// does not allow with U+FFFD.
    /// - Parameter value: Any text.
    /// - Returns: Text safe inside an element or a double-quoted attribute.
    static func escape(_ value: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            case "\t", "\n", "\r": escaped.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) {
                    escaped += "\u{FFFD}"
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        return escaped
    }

    /// A coordinate with one decimal place (`12.3`, `-4`, `0`); a non-finite value is written as `0`.
    static func number(_ value: Double) -> String {
        ChartFormat.decimal(value, places: 1, trimmingZeros: true)
    }
}

/// Fixed, locale-free number and time formatting for the charts.
public enum ChartFormat {
    /// A decimal with `places` digits after the point, rounded half away from zero by integer arithmetic; a
    /// non-finite value gives `0`.
    /// - Parameters:
    ///   - value: The number.
    ///   - places: Digits after the point (0…6).
    ///   - trimmingZeros: Drop trailing zeros after the point (and the point itself when nothing is left).
    /// - Returns: The text, `-` for negative numbers, never an exponent.
    public static func decimal(_ value: Double, places: Int, trimmingZeros: Bool = false) -> String {
        let places = max(0, min(places, 6))
        var scale: Int64 = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = value * Double(scale)
        guard scaled.isFinite, abs(scaled) < 9e17 else { return "0" }
        let rounded = Int64(scaled.rounded(.toNearestOrAwayFromZero))
        let negative = rounded < 0
        let magnitude = rounded.magnitude
        var whole = String(magnitude / UInt64(scale))
        if negative { whole = "-" + whole }
        guard places > 0 else { return whole }
        var fraction = String(magnitude % UInt64(scale))
        fraction = String(repeating: "0", count: places - fraction.count) + fraction
        if trimmingZeros {
            while fraction.hasSuffix("0") { fraction.removeLast() }
            if fraction.isEmpty { return whole == "-0" ? "0" : whole }
        }
        return whole + "." + fraction
    }

    /// A flow in ml/h as m³/h with `places` decimals (`0.012`).
    public static func cubicMetresPerHour(_ millilitresPerHour: Int64, places: Int = 3) -> String {
        decimal(Double(millilitresPerHour) / 1_000_000, places: places)
    }

    /// A volume in ml as m³ with `places` decimals.
    public static func cubicMetres(_ millilitres: Int64, places: Int = 3) -> String {
        decimal(Double(millilitres) / 1_000_000, places: places)
    }

    /// An instant as local date and time in a zone, `2026-12-06 14:05`.
    public static func localTime(_ instant: Timestamp, zone: TimeZoneRules) -> String {
        let local = CivilTime(utcSeconds: zone.localSeconds(of: instant))
        return "\(zone.date(of: instant)) \(pad(local.hour)):\(pad(local.minute))"
    }

    /// An instant's local date in a zone, `2026-12-06`.
    public static func localDate(_ instant: Timestamp, zone: TimeZoneRules) -> String {
        zone.date(of: instant).description
    }

    /// A zone as the charts name it: its IANA name, or `UTC` / `UTC+08:00` for a fixed offset.
    public static func zoneName(_ zone: TimeZoneRules) -> String {
        guard zone.isFixed else { return zone.identifier }
        return zone.identifier == "+00:00" ? "UTC" : "UTC" + zone.identifier
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
