import Foundation
import GatewayCore
import GatewayDomain

#if canImport(FoundationXML)
import FoundationXML
#endif

/// An SVG document parsed with Foundation's XML parser: every element with its attributes and text, in order.
final class ParsedSVG: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text = ""
    }

    private(set) var elements: [Element] = []
    private var open: [Int] = []
    private(set) var error: (any Error)?

    /// Parses `svg`; `nil` when it is not well-formed XML.
    static func parse(_ svg: String) -> ParsedSVG? {
        let result = ParsedSVG()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = result
        guard parser.parse(), result.error == nil else { return nil }
        return result
    }

    func parser(
        _ parser: XMLParser,
        didStartElement elementName: String,
        namespaceURI: String?,
        qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        elements.append(Element(name: elementName, attributes: attributes))
        open.append(elements.count - 1)
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let index = open.last { elements[index].text += string }
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        error = parseError
    }

    /// The elements whose `class` holds `name`.
    func withClass(_ name: String) -> [Element] {
        elements.filter { ($0.attributes["class"] ?? "").split(separator: " ").contains(Substring(name)) }
    }

    /// A numeric attribute.
    func number(_ element: Element, _ attribute: String) -> Double? {
        element.attributes[attribute].flatMap(Double.init)
    }

    /// Every text of the document, joined.
    var allText: String { elements.map(\.text).joined(separator: "\n") }
}

/// 2026-11-01 00:00 UTC.
let chartEpoch = Timestamp(secondsSinceEpoch: 1_793_491_200)

/// Hourly intervals from `start` for `hours` hours, each of the volume `volume(hour)` (ml).
func hourlyIntervals(from start: Timestamp, hours: Int, volume: (Int) -> Int64) -> [IntervalValue] {
    (0..<hours).map {
        IntervalValue(
            start: start.adding(seconds: Int64($0) * 3600),
            minutes: 60,
            volumeMillilitres: volume($0),
            isEstimated: false
        )
    }
}

/// A valid day of these intervals as the validator hands it to ``LeakSignatures/find``: the register starts at 0 and
/// advances by the intervals' volume.
func validDay(start: Timestamp, intervals: [IntervalValue], valve: ValveState = .open) -> DailyDeterminant {
    let total = intervals.reduce(0) { $0 + $1.volumeMillilitres }
    return DailyDeterminant(
        dayStart: start,
        startIndexMillilitres: 0,
        endIndexMillilitres: total,
        volumeMillilitres: total,
        quality: .valid,
        reasons: [],
        intervals: intervals,
        valve: valve
    )
}
