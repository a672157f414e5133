import Foundation

/// HTML building for the dispatch console: escaping, and the frame every page shares.
///
/// Every text that comes from the database or a request (meter ids, notes, reporter names, districts, credential
/// names) goes through ``escape(_:)`` before it is put into a page, in element content and in attribute values
/// (always double-quoted) alike. The pages hold no inline script or style: `console.js` and `console.css` are served
/// as files, so the Content-Security-Policy can forbid inline code.
enum ConsoleHTML {
    /// The text with `& < > " '` replaced by character references: safe in element content and in a double- or
    /// single-quoted attribute value.
    /// - Parameter text: Any text.
    /// - Returns: The escaped text.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.unicodeScalars.append(character)
            }
        }
        return result
    }

    /// A path segment percent-encoded (RFC 3986 unreserved characters kept), for URLs built from database values.
    static func pathSegment(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (byte < 16 ? "0" + hex : hex)
            }
        }
        return result
    }

    /// `2026-12-07T02:03:04.123456Z` as `2026-12-07 02:03:04Z`: shorter to read, still UTC and unambiguous.
    static func time(_ iso: String) -> String {
        var text = iso.replacingOccurrences(of: "T", with: " ")
        if let dot = text.firstIndex(of: ".") {
            let zone = text[dot...].drop { $0 != "Z" && $0 != "+" && $0 != "-" }
            text = String(text[..<dot]) + zone
        }
        return text
    }

    /// The page frame: head (stylesheet, script, CSRF token), the top bar with the signed-in name, the navigation
    /// and the sign-out form, then `body`.
    /// - Parameters:
    ///   - title: The page title (escaped here).
    ///   - page: `list`, `ticket`, `sla` or `sign-in`: the script's mode (`<body data-page>`).
    ///   - actor: The signed-in credential's name, or `nil` on the sign-in page.
    ///   - csrf: The session's CSRF token, or `nil` on the sign-in page.
    ///   - body: The page's content, already escaped.
    /// - Returns: The document.
    static func page(title: String, page: String, actor: String?, csrf: String?, body: String) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · meter-gateway dispatch</title>
            <link rel="stylesheet" href="/console/assets/console.css">
            <script src="/console/assets/console.js" defer></script>

            """
        if let csrf { html += "<meta name=\"csrf-token\" content=\"\(escape(csrf))\">\n" }
        html += "</head>\n<body data-page=\"\(escape(page))\">\n<header class=\"top\">\n"
        html += "<a class=\"brand\" href=\"/console\">Dispatch</a>\n"
        if let actor, let csrf {
            html += """
                <nav><a href="/console">Live tickets</a><a href="/console/sla">SLA &amp; inspections</a><a href="/console/service-quality">Service quality</a></nav>
                <form class="signout" method="post" action="/console/sign-out">
                <span class="who">Signed in as <strong id="actor">\(escape(actor))</strong></span>
                <input type="hidden" name="csrf" value="\(escape(csrf))">
                <button type="submit">Sign out</button>
                </form>

                """
        }
        html += "</header>\n<div id=\"banner\" class=\"banner\" role=\"alert\" hidden></div>\n<main>\n"
        html += body
        html += "\n</main>\n</body>\n</html>\n"
        return html
    }
}
