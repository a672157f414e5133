import ArgumentParser

/// How a list command prints its rows (`--format`).
enum OutputFormat: String, CaseIterable, ExpressibleByArgument {
    /// Aligned columns with a header line, for people at a terminal (the default).
    case table
    /// RFC 4180: a header line, fields quoted when they hold a comma, a quote, CR or LF (quotes doubled); LF line
    /// ends, as the billing CSV export writes them.
    case csv
    /// One JSON array of objects, one object per row, keys in column order; an empty cell is `null`, a count is a
    /// number.
    case json
}

/// The `--format` option every list command takes.
struct OutputOptions: ParsableArguments {
    @Option(help: "Aligned columns, RFC 4180 CSV with a header line, or a JSON array of objects.")
    var format: OutputFormat = .table
}

/// One cell of a ``CommandTable``.
enum TableCell: Equatable, ExpressibleByStringLiteral {
    case text(String)
    case integer(Int64)
    /// A measure such as minutes to arrival; a JSON number (a value that is not finite is shown empty, `null`).
    case decimal(Double)
    /// Nothing there (an optional field not set): empty in a table and CSV, `null` in JSON.
    case empty

    init(stringLiteral value: String) { self = .text(value) }

    /// A text cell, or ``empty`` for `nil`.
    init(_ text: String?) { self = text.map(TableCell.text) ?? .empty }

    /// An integer cell, or ``empty`` for `nil`.
    init(_ value: (some BinaryInteger)?) { self = value.map { .integer(Int64($0)) } ?? .empty }

    /// A decimal cell, or ``empty`` for `nil`.
    init(_ value: Double?) { self = value.map(TableCell.decimal) ?? .empty }

    /// The cell as a table or CSV shows it.
    var text: String {
        switch self {
        case .text(let text): text
        case .integer(let value): String(value)
        case .decimal(let value): value.isFinite ? "\(value)" : ""
        case .empty: ""
        }
    }
}

/// The rows a list command prints, rendered as an aligned table, RFC 4180 CSV or JSON: every list command
/// (`tickets list`, `tickets outage list`, `tickets sla`, `tickets inspections-due`, `review list`,
/// `meters expired`, `meters collectors list`, `quarantine list`) prints through this one type.
struct CommandTable: Equatable {
    var columns: [String]
    var rows: [[TableCell]] = []

    init(columns: [String]) {
        self.columns = columns
    }

    mutating func append(_ row: [TableCell]) {
        precondition(row.count == columns.count, "a row of \(row.count) cells for \(columns.count) columns")
        rows.append(row)
    }

    /// The whole output in `format`, ending in a newline.
    func render(_ format: OutputFormat) -> String {
        switch format {
        case .table: renderTable()
        case .csv: renderCSV()
        case .json: renderJSON()
        }
    }

    /// Columns padded to their widest cell (counted in Unicode scalars after a tab or newline in a cell is shown as
    /// a space, so a cell cannot break the layout), two spaces between columns, no trailing blanks.
    func renderTable() -> String {
        let header = columns.map(Self.oneLine)
        let body = rows.map { $0.map { Self.oneLine($0.text) } }
        var widths = header.map(\.unicodeScalars.count)
        for row in body {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.unicodeScalars.count) }
        }
        var text = ""
        for line in [header] + body {
            var rendered = ""
            for (index, cell) in line.enumerated() {
                rendered += cell
                if index < line.count - 1 {
                    rendered += String(repeating: " ", count: widths[index] - cell.unicodeScalars.count + 2)
                }
            }
            while rendered.last == " " { rendered.removeLast() }
            text += rendered + "\n"
        }
        return text
    }

    /// RFC 4180: the header line, then one line per row.
    func renderCSV() -> String {
        var text = columns.map(Self.csvField).joined(separator: ",") + "\n"
        for row in rows {
            text += row.map { Self.csvField($0.text) }.joined(separator: ",") + "\n"
        }
        return text
    }

    /// A JSON array with one object per row.
    func renderJSON() -> String {
        guard !rows.isEmpty else { return "[]\n" }
        var text = "[\n"
        for (rowIndex, row) in rows.enumerated() {
            text += "  {"
            for (index, cell) in row.enumerated() {
                text += (index == 0 ? "" : ", ") + Self.jsonString(columns[index]) + ": "
                switch cell {
                case .text(let value): text += Self.jsonString(value)
                case .integer(let value): text += String(value)
                case .decimal(let value): text += value.isFinite ? "\(value)" : "null"
                case .empty: text += "null"
                }
            }
            text += rowIndex == rows.count - 1 ? "}\n" : "},\n"
        }
        return text + "]\n"
    }

    /// A field quoted as RFC 4180 asks when it holds a comma, a double quote, CR or LF.
    static func csvField(_ field: String) -> String {
        guard field.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else {
            return field
        }
        var quoted = "\""
        for character in field.unicodeScalars {
            if character == "\"" { quoted += "\"\"" } else { quoted.unicodeScalars.append(character) }
        }
        return quoted + "\""
    }

    /// A JSON string literal (RFC 8259 escapes).
    static func jsonString(_ value: String) -> String {
        var text = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "\""
    }

    private static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "\t" || $0 == "\n" || $0 == "\r" }) else { return text }
        return String(
            String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\t" || $0 == "\n" || $0 == "\r" ? " " : $0 })
        )
    }
}
