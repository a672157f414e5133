import Foundation
import GatewayCore
import Testing

@testable import GatewayApp

/// The one formatter every list command prints through: aligned table, RFC 4180 CSV, JSON.
@Suite struct CommandTableTests {
    private func sample() -> CommandTable {
        var table = CommandTable(columns: ["id", "note", "district"])
        table.append([.integer(7), .text("plain"), .text("north")])
        table.append([.integer(12345), .text("a, b \"quoted\"\nsecond line"), .empty])
        table.append([.integer(3), .text("überall\tTab"), .text("s")])
        return table
    }

    @Test func csvQuotesCommasQuotesAndLineEndsAsRFC4180() {
        #expect(
            sample().render(.csv) == """
                id,note,district
                7,plain,north
                12345,"a, b ""quoted""
                second line",
                3,überall\tTab,s

                """
        )
        #expect(CommandTable.csvField("cr\rhere") == "\"cr\rhere\"")
        #expect(CommandTable.csvField("") == "")
        #expect(CommandTable.csvField("no-quoting needed") == "no-quoting needed")
    }

    @Test func csvReadsBackThroughTheRegistryParsersQuoting() {
        // The meter import's RFC 4180 reader takes back what the formatter writes, field for field.
        var table = CommandTable(columns: ["protocol", "address", "district"])
        table.append([.text("native"), .text("100000001"), .text("North, \"old\" town")])
        let parsed = MeterCSV.parse(table.render(.csv))
        #expect(parsed.problems.isEmpty)
        #expect(parsed.rows.map(\.profile.district) == ["North, \"old\" town"])
    }

    @Test func tableAlignsEveryColumnToItsWidestCell() {
        let lines = sample().render(.table).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 5 && lines.last == "")
        #expect(lines[0] == "id     note                       district")
        #expect(lines[1] == "7      plain                      north")
        // A newline or tab inside a cell is shown as a space so the row stays one line; no trailing blanks.
        #expect(lines[2] == "12345  a, b \"quoted\" second line")
        #expect(lines[3] == "3      überall Tab                s")
        // The third column starts at the same character offset on every line that has it.
        let offsets = [lines[0], lines[1], lines[3]].map { line in
            line.distance(from: line.startIndex, to: line.range(of: "  ", options: .backwards)!.upperBound)
        }
        #expect(Set(offsets) == [34])
    }

    @Test func jsonIsAValidArrayOfObjectsWithNullsAndNumbers() throws {
        let text = sample().render(.json)
        let decoded = try #require(
            try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]
        )
        #expect(decoded.count == 3)
        #expect(decoded[0]["id"] as? Int == 7 && decoded[0]["note"] as? String == "plain")
        #expect(decoded[1]["note"] as? String == "a, b \"quoted\"\nsecond line")
        #expect(decoded[1]["district"] is NSNull)
        #expect(decoded[2]["note"] as? String == "überall\tTab")
        // Keys in column order on each line.
        #expect(text.contains("{\"id\": 7, \"note\": \"plain\", \"district\": \"north\"}"))
        #expect(CommandTable(columns: ["a"]).render(.json) == "[]\n")
        #expect(CommandTable.jsonString("\u{1}") == "\"\\u0001\"")
    }

    @Test func anEmptyListIsTheHeaderOnly() {
        let empty = CommandTable(columns: ["protocol", "meter"])
        #expect(empty.render(.table) == "protocol  meter\n")
        #expect(empty.render(.csv) == "protocol,meter\n")
    }
}
