/// The meter registry's CSV import format (`meter-gateway meters import FILE.csv`).
///
/// * The first line names the columns, in any order; `protocol` and `address` are required, every other column is
///   optional. A column left out of the file leaves that field of existing meters unchanged; a column present with
///   an empty cell clears the field (or sets its default: `false` for flags).
/// * RFC 4180 quoting (`"a, b"`, `""` for a quote); CRLF or LF line ends; blank lines are skipped.
/// * `collectors` lists the collector ids a meter is assigned to, separated by `;` (spaces around each are ignored).
/// * Each row is checked whole. A row with any bad cell is rejected and reported by line and column; no part of
///   it is imported. Rows that pass are imported together.
/// * `min_protection` (`plain`, `encrypted`, `authenticated`; empty for the default of the key, see
///   ``ProtectionLevel/defaultMinimum(for:hasKey:)``) is refused when the meter can never reach it
///   (``ProtectionLevel/reachable(by:hasKey:)``; judged by the protocol alone when the file has no `aes_key`
///   column).
public enum MeterCSV {
    /// `mac_key`, a column until schema v10: a file that still names it is refused with a message that says why,
    /// rather than having a key silently ignored.
    public static let retiredMACKeyColumn = "mac_key"

    /// One column of the format.
    public enum Column: String, Sendable, Hashable, CaseIterable {
        case `protocol`
        case address
        case district
        case rural
        case size
        case qminM3h = "qmin_m3h"
        case qtM3h = "qt_m3h"
        case qmaxM3h = "qmax_m3h"
        case accuracyClass = "accuracy_class"
        case registerDigits = "register_digits"
        case customerClass = "customer_class"
        case verifiedOn = "verified_on"
        case verificationExpiresOn = "verification_expires_on"
        case continuousAppliance = "continuous_appliance"
        case methaneDetectorLinked = "methane_detector_linked"
        case aesKey = "aes_key"
        case role
        /// The collectors the meter is assigned to, separated by `;` (`dtu-1;dtu-7`); an empty cell assigns none.
        /// Present in a file, the column replaces the meter's assignments; left out, it keeps them.
        case collectors
        case minProtection = "min_protection"
    }

    /// A problem with one cell (or the header, line 1), never echoing a key.
    public struct Problem: Sendable, Equatable, CustomStringConvertible {
        /// 1-based line number in the file.
        public var line: Int
        /// The column's name, or empty for a problem with the whole line.
        public var column: String
        public var message: String

        public init(line: Int, column: String, message: String) {
            self.line = line
            self.column = column
            self.message = message
        }

        public var description: String {
            column.isEmpty ? "line \(line): \(message)" : "line \(line), column \(column): \(message)"
        }
    }

    /// The result of reading a file.
    public struct Parsed: Sendable {
        /// The columns the header names.
        public var columns: Set<Column>
        /// The rows that passed every check, with their line numbers.
        public var rows: [(line: Int, profile: MeterProfile)]
        /// Every problem found; a row appears here or in ``rows``, never in both.
        public var problems: [Problem]
        /// The number of data rows read (passed + rejected).
        public var rowCount: Int
    }

    /// Reads a whole file.
    /// - Parameter text: The file's text.
    /// - Returns: Rows that passed and problems found. A bad header gives problems on line 1 and no rows.
    public static func parse(_ text: String) -> Parsed {
        var reader = Reader(detectsDuplicates: true)
        var output = Reader.Output()
        reader.feed(Array(text.utf8), into: &output)
        reader.finish(into: &output)
        return Parsed(columns: reader.columns, rows: output.rows, problems: output.problems, rowCount: reader.rowCount)
    }

    /// Reads a file a chunk at a time (`meters import` streams through it), so that memory stays bounded by the
    /// caller's chunk and batch rather than the file: feed it bytes as they are read, take the rows and problems it
    /// hands out, and call ``finish(into:)`` at the end.
    ///
    /// A row is checked whole as in ``MeterCSV/parse(_:)``. A meter repeated in the file is reported on its later
    /// line only with `detectsDuplicates` (which keeps every meter's identity in memory); a streaming importer that
    /// leaves it off must find repeats itself (``MeterStore`` does it in the database).
    public struct Reader: Sendable {
        /// What one ``feed(_:into:)`` or ``finish(into:)`` produced; the caller empties it between calls.
        public struct Output: Sendable {
            /// Rows that passed every check, with their line numbers.
            public var rows: [(line: Int, profile: MeterProfile)] = []
            /// Problems found, in file order.
            public var problems: [Problem] = []

            public init() {}
        }

        /// The longest record read, in bytes: a longer one (an unclosed quote, most likely) stops the reading.
        public static let maximumRecordBytes = 1 << 20

        /// The columns the header names (empty until the header was read).
        public private(set) var columns: Set<Column> = []
        /// Whether the header was read and had no problem, so data rows are checked.
        public private(set) var isHeaderValid = false
        /// Whether a record was too long: nothing after it was read and the file must not be imported.
        public private(set) var isAborted = false
        /// The data rows read so far (passed + rejected).
        public private(set) var rowCount = 0

        private var header: [Column?]?
        private var splitter = RecordSplitter()
        private var seen: [String: Int]?

        /// - Parameter detectsDuplicates: Report a meter repeated in the file (on its later line); keeps every
        ///   meter's identity in memory.
        public init(detectsDuplicates: Bool) {
            seen = detectsDuplicates ? [:] : nil
        }

        /// Reads the next bytes of the file.
        /// - Parameters:
        ///   - bytes: The next chunk (any size; a record may span chunks).
        ///   - output: Receives the rows and problems of the records completed by this chunk.
        public mutating func feed(_ bytes: [UInt8], into output: inout Output) {
            guard !isAborted else { return }
            var records: [Record] = []
            let overflow = splitter.feed(bytes, into: &records)
            for record in records { take(record, into: &output) }
            if let line = overflow { abort(line: line, into: &output) }
        }

        /// Ends the file: reads its last record (without a final line end), or reports an empty file.
        /// - Parameter output: Receives the last record's row or problems.
        public mutating func finish(into output: inout Output) {
            guard !isAborted else { return }
            if let record = splitter.finish() { take(record, into: &output) }
            if header == nil {
                output.problems.append(
                    Problem(line: 1, column: "", message: "the file is empty; the first line must name the columns")
                )
            }
        }

        private mutating func abort(line: Int, into output: inout Output) {
            isAborted = true
            output.problems.append(
                Problem(
                    line: line,
                    column: "",
                    message: "the record is longer than \(Self.maximumRecordBytes) bytes (a quote not closed?); "
                        + "nothing after it was read"
                )
            )
        }

        private mutating func take(_ record: Record, into output: inout Output) {
            guard let header else {
                readHeader(record, into: &output)
                return
            }
            rowCount += 1
            guard isHeaderValid else { return }
            guard record.fields.count == header.count else {
                output.problems.append(
                    Problem(
                        line: record.line,
                        column: "",
                        message: "has \(record.fields.count) fields, the header names \(header.count)"
                    )
                )
                return
            }
            var cells: [Column: String] = [:]
            for (index, column) in header.enumerated() {
                if let column { cells[column] = record.fields[index].trimmingSpaces }
            }
            var rowProblems: [Problem] = []
            let profile = makeProfile(cells, line: record.line, problems: &rowProblems)
            if let profile, rowProblems.isEmpty {
                if seen != nil {
                    let identity = "\(profile.protocol.rawValue)/\(profile.address)"
                    if let first = seen?[identity] {
                        output.problems.append(
                            Problem(
                                line: record.line,
                                column: Column.address.rawValue,
                                message: "meter \(profile.address) already appears on line \(first)"
                            )
                        )
                        return
                    }
                    seen?[identity] = record.line
                }
                output.rows.append((record.line, profile))
            } else {
                // Report a row's problems in the file's column order.
                let order = Dictionary(header.enumerated().compactMap { i, c in c.map { ($0.rawValue, i) } }) { a, _ in
                    a
                }
                output.problems += rowProblems.sorted { (order[$0.column] ?? -1) < (order[$1.column] ?? -1) }
            }
        }

        private mutating func readHeader(_ record: Record, into output: inout Output) {
            var columns: [Column?] = []
            var problems: [Problem] = []
            for name in record.fields {
                let trimmed = name.trimmingSpaces
                if let column = Column(rawValue: trimmed) {
                    if columns.contains(column) {
                        problems.append(Problem(line: record.line, column: trimmed, message: "named twice"))
                    }
                    columns.append(column)
                } else if trimmed == MeterCSV.retiredMACKeyColumn {
                    problems.append(
                        Problem(
                            line: record.line,
                            column: trimmed,
                            message: "no longer a column: no supported protocol uses a MAC key apart from aes_key "
                                + "(native frames are MACed with aes_key; OMS mode 7 derives its MAC key from "
                                + "aes_key); remove the column"
                        )
                    )
                    columns.append(nil)
                } else {
                    problems.append(
                        Problem(
                            line: record.line,
                            column: trimmed,
                            message:
                                "unknown column (known: \(Column.allCases.map(\.rawValue).joined(separator: ", ")))"
                        )
                    )
                    columns.append(nil)
                }
            }
            for required in [Column.protocol, .address] where !columns.contains(required) {
                problems.append(
                    Problem(line: record.line, column: required.rawValue, message: "required column missing")
                )
            }
            header = columns
            self.columns = Set(columns.compactMap { $0 })
            isHeaderValid = problems.isEmpty
            output.problems += problems
        }
    }

    // MARK: Cells

    private static func makeProfile(_ cells: [Column: String], line: Int, problems: inout [Problem]) -> MeterProfile? {
        func problem(_ column: Column, _ message: String) {
            problems.append(Problem(line: line, column: column.rawValue, message: message))
        }
        let protocolText = cells[.protocol] ?? ""
        guard let frameProtocol = FrameProtocol(rawValue: protocolText.lowercased()) else {
            problem(.protocol, "\"\(protocolText)\" is not one of native, cjt188, wmbus, mbus")
            return nil
        }
        let address = cells[.address] ?? ""
        if let message = addressProblem(address, frameProtocol) { problem(.address, message) }
        var profile = MeterProfile(protocol: frameProtocol, address: address)
        if let text = cells[.district], !text.isEmpty { profile.district = text }
        profile.isRural = flag(cells[.rural], .rural, problem)
        profile.hasContinuousAppliance = flag(cells[.continuousAppliance], .continuousAppliance, problem)
        profile.isMethaneDetectorLinked = flag(cells[.methaneDetectorLinked], .methaneDetectorLinked, problem)
        if let text = cells[.size], !text.isEmpty {
            if let size = GasMeterSize(rawValue: text.uppercased()) {
                profile.size = size
            } else {
                problem(
                    .size,
                    "\"\(text)\" is not a size (\(GasMeterSize.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
        }
        profile.qminMillilitresPerHour = flow(cells[.qminM3h], .qminM3h, problem)
        profile.qtMillilitresPerHour = flow(cells[.qtM3h], .qtM3h, problem)
        profile.qmaxMillilitresPerHour = flow(cells[.qmaxM3h], .qmaxM3h, problem)
        if let qmin = profile.qminMillilitresPerHour, let qt = profile.qtMillilitresPerHour, qmin >= qt {
            problem(.qtM3h, "Qt must be greater than Qmin")
        }
        if let qt = profile.qtMillilitresPerHour, let qmax = profile.qmaxMillilitresPerHour, qt >= qmax {
            problem(.qmaxM3h, "Qmax must be greater than Qt")
        }
        if let qmin = profile.qminMillilitresPerHour, let qmax = profile.qmaxMillilitresPerHour, qmin >= qmax {
            problem(.qmaxM3h, "Qmax must be greater than Qmin")
        }
        if let text = cells[.accuracyClass], !text.isEmpty {
            if let value = AccuracyClass(rawValue: text) {
                profile.accuracyClass = value
            } else {
                problem(.accuracyClass, "\"\(text)\" is not 0.5, 1.0 or 1.5")
            }
        }
        if let text = cells[.registerDigits], !text.isEmpty {
            if let digits = Int(text), (1...12).contains(digits) {
                profile.registerDigits = digits
            } else {
                problem(.registerDigits, "\"\(text)\" is not a whole number of digits from 1 to 12")
            }
        }
        if let text = cells[.customerClass], !text.isEmpty {
            if let value = CustomerClass(rawValue: text.lowercased()) {
                profile.customerClass = value
            } else {
                problem(.customerClass, "\"\(text)\" is not residential, commercial or industrial")
            }
        }
        profile.verifiedOn = date(cells[.verifiedOn], .verifiedOn, problem)
        profile.verificationExpiresOn = date(cells[.verificationExpiresOn], .verificationExpiresOn, problem)
        if let verified = profile.verifiedOn, let expires = profile.verificationExpiresOn, expires <= verified {
            problem(.verificationExpiresOn, "the expiry must be after the verification date")
        }
        if let text = cells[.role], !text.isEmpty {
            if let role = MeterRole(rawValue: text.lowercased()) {
                profile.role = role
            } else {
                problem(.role, "\"\(text)\" is not customer or district_supply")
            }
        }
        profile.aesKey = key(cells[.aesKey], .aesKey, problem)
        profile.collectors = collectors(cells[.collectors], problem)
        if frameProtocol == .native, cells[.aesKey] != nil, profile.aesKey == nil,
            !problems.contains(where: { $0.column == Column.aesKey.rawValue })
        {
            problem(.aesKey, "a native meter needs its 16-byte key (its frames carry a MAC)")
        }
        if let text = cells[.minProtection], !text.isEmpty {
            if let level = ProtectionLevel(code: text.lowercased()) {
                // Without an aes_key column the stored key is not known here: judge by the protocol alone.
                let hasKey = cells[.aesKey] == nil || profile.aesKey != nil
                let reachable = ProtectionLevel.reachable(by: frameProtocol, hasKey: hasKey)
                if level > reachable {
                    problem(.minProtection, minimumProblem(level, frameProtocol, hasKey: hasKey, reachable: reachable))
                } else {
                    profile.minProtection = level
                }
            } else {
                problem(.minProtection, "\"\(text)\" is not plain, encrypted or authenticated")
            }
        }
        return profile
    }

    /// Why a meter can never reach a minimum protection, in words.
    private static func minimumProblem(
        _ level: ProtectionLevel,
        _ frameProtocol: FrameProtocol,
        hasKey: Bool,
        reachable: ProtectionLevel
    ) -> String {
        let why: String
        switch frameProtocol {
        case .cjt188: why = "CJ/T 188 frames have no encryption or MAC"
        case .mbus where hasKey: why = "wired M-Bus has no AFL, so no mode-7 MAC (mode 5 at most)"
        default: why = "without an aes_key its frames can be neither decrypted nor authenticated"
        }
        return "\(level.code) can never be reached by this meter: \(why); at most \(reachable.code)"
    }

    /// Why an address does not fit its protocol, or `nil`.
    public static func addressProblem(_ address: String, _ frameProtocol: FrameProtocol) -> String? {
        switch frameProtocol {
        case .native:
            guard let id = UInt64(address), id > 0, !address.hasPrefix("0") else {
                return "\"\(address)\" is not a native meter id (a decimal number without leading zeros)"
            }
            return nil
        case .cjt188:
            return CJT188Address(label: address) == nil ? "\"\(address)\" is not 14 CJ/T 188 address digits" : nil
        case .wmbus, .mbus:
            return MBusAddress(registryAddress: address) == nil
                ? "\"\(address)\" is not an M-Bus registry address like ELS-12345678-51-03" : nil
        }
    }

    private static func flag(_ text: String?, _ column: Column, _ problem: (Column, String) -> Void) -> Bool {
        switch text?.lowercased() ?? "" {
        case "", "false", "no", "0", "n": return false
        case "true", "yes", "1", "y": return true
        default:
            problem(column, "\"\(text ?? "")\" is not true or false")
            return false
        }
    }

    /// A flow in m³/h with up to 6 decimals, as exact millilitres per hour.
    private static func flow(_ text: String?, _ column: Column, _ problem: (Column, String) -> Void) -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        guard let value = millilitres(fromCubicMetres: text), value > 0, value <= 100_000 * 1_000_000 else {
            problem(column, "\"\(text)\" is not a flow in m³/h (a positive number, at most 6 decimals)")
            return nil
        }
        return value
    }

    /// Parses a non-negative decimal number of cubic metres into exact millilitres, or `nil`.
    public static func millilitres(fromCubicMetres text: some StringProtocol) -> Int64? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].utf8.count <= 12,
            parts[0].utf8.allSatisfy({ (0x30...0x39).contains($0) })
        else { return nil }
        var value = Int64(parts[0]) ?? 0
        value *= 1_000_000
        if parts.count == 2 {
            let fraction = parts[1]
            guard !fraction.isEmpty, fraction.utf8.count <= 6, fraction.utf8.allSatisfy({ (0x30...0x39).contains($0) })
            else { return nil }
            var scaled = Int64(fraction) ?? 0
            for _ in fraction.utf8.count..<6 { scaled *= 10 }
            value += scaled
        }
        return value
    }

    private static func date(_ text: String?, _ column: Column, _ problem: (Column, String) -> Void) -> CivilDate? {
        guard let text, !text.isEmpty else { return nil }
        guard let date = CivilDate(iso: text) else {
            problem(column, "\"\(text)\" is not a date YYYY-MM-DD")
            return nil
        }
        return date
    }

    /// `;`-separated collector ids, each trimmed and checked; a repeated id counts once.
    private static func collectors(_ text: String?, _ problem: (Column, String) -> Void) -> [String] {
        guard let text, !text.isEmpty else { return [] }
        var ids: [String] = []
        for part in text.split(separator: ";", omittingEmptySubsequences: false) {
            let id = String(part).trimmingSpaces
            if let message = CollectorID.problem(id) {
                problem(.collectors, message + " (separate collector ids with ';')")
                return []
            }
            if !ids.contains(id) { ids.append(id) }
        }
        return ids
    }

    private static func key(_ text: String?, _ column: Column, _ problem: (Column, String) -> Void) -> [UInt8]? {
        guard let text, !text.isEmpty else { return nil }
        guard text.utf8.count == 32, let bytes = Hex.decode(text), bytes.count == 16 else {
            // Never echo the cell: it may be a mistyped key.
            problem(column, "not a 16-byte key written as 32 hexadecimal digits")
            return nil
        }
        return bytes
    }

    // MARK: RFC 4180

    fileprivate struct Record {
        var line: Int
        var fields: [String]
    }

    /// Splits bytes into records of fields as they arrive, honouring quotes (a quoted field may span lines and
    /// chunks); CR is dropped, blank lines are skipped, a UTF-8 byte-order mark at the start is ignored.
    fileprivate struct RecordSplitter: Sendable {
        private var fields: [String] = []
        private var field: [UInt8] = []
        private var recordBytes = 0
        private var inQuotes = false
        /// A quote was read inside quotes: the next byte tells whether it was `""` or the closing quote.
        private var pendingQuote = false
        private var line = 1
        private var recordLine = 1
        private var bomBytesChecked = 0
        private var isAtStart = true

        /// Reads `bytes`, appending each record they complete.
        /// - Returns: The line of a record longer than ``MeterCSV/Reader/maximumRecordBytes``, if one was met (the
        ///   splitter must not be fed again).
        mutating func feed(_ bytes: [UInt8], into records: inout [Record]) -> Int? {
            var bytes = bytes[...]
            if isAtStart {
                // A UTF-8 byte-order mark, possibly split across chunks.
                let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
                while bomBytesChecked < 3, let first = bytes.first {
                    guard first == mark[bomBytesChecked] else {
                        isAtStart = false
                        // Bytes of an incomplete mark were content after all.
                        for byte in mark.prefix(bomBytesChecked) { step(byte, into: &records) }
                        break
                    }
                    bomBytesChecked += 1
                    bytes = bytes.dropFirst()
                }
                if bomBytesChecked == 3 { isAtStart = false }
                if isAtStart { return nil }
            }
            for byte in bytes {
                step(byte, into: &records)
                if recordBytes > Reader.maximumRecordBytes { return recordLine }
            }
            return nil
        }

        /// The last record, when the text does not end with a line end.
        mutating func finish() -> Record? {
            if isAtStart {
                isAtStart = false
                var records: [Record] = []
                for byte in [UInt8]([0xEF, 0xBB, 0xBF]).prefix(bomBytesChecked) { step(byte, into: &records) }
            }
            pendingQuote = false
            guard !field.isEmpty || !fields.isEmpty else { return nil }
            var records: [Record] = []
            endRecord(into: &records)
            return records.first
        }

        private mutating func step(_ byte: UInt8, into records: inout [Record]) {
            recordBytes += 1
            if pendingQuote {
                pendingQuote = false
                if byte == UInt8(ascii: "\"") {
                    field.append(byte)
                    return
                }
                inQuotes = false
            }
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    pendingQuote = true
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
                return
            }
            switch byte {
            case UInt8(ascii: "\""):
                inQuotes = true
            case UInt8(ascii: ","):
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
            case UInt8(ascii: "\r"):
                break
            case UInt8(ascii: "\n"):
                endRecord(into: &records)
                line += 1
                recordLine = line
            default:
                field.append(byte)
            }
        }

        private mutating func endRecord(into records: inout [Record]) {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            recordBytes = 0
            if !(fields.count == 1 && fields[0].trimmingSpaces.isEmpty) {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields.removeAll(keepingCapacity: true)
        }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" { view.removeLast() }
        return String(view)
    }
}
