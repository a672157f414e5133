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
        var records = splitRecords(text)
        guard !records.isEmpty else {
            return Parsed(
                columns: [],
                rows: [],
                problems: [
                    Problem(line: 1, column: "", message: "the file is empty; the first line must name the columns")
                ],
                rowCount: 0
            )
        }
        let header = records.removeFirst()
        var columns: [Column?] = []
        var problems: [Problem] = []
        for name in header.fields {
            let trimmed = name.trimmingSpaces
            if let column = Column(rawValue: trimmed) {
                if columns.contains(column) {
                    problems.append(Problem(line: header.line, column: trimmed, message: "named twice"))
                }
                columns.append(column)
            } else if trimmed == Self.retiredMACKeyColumn {
                problems.append(
                    Problem(
                        line: header.line,
                        column: trimmed,
                        message: "no longer a column: no supported protocol uses a MAC key apart from aes_key (native "
                            + "frames are MACed with aes_key; OMS mode 7 derives its MAC key from aes_key); remove the "
                            + "column"
                    )
                )
                columns.append(nil)
            } else {
                problems.append(
                    Problem(
                        line: header.line,
                        column: trimmed,
                        message: "unknown column (known: \(Column.allCases.map(\.rawValue).joined(separator: ", ")))"
                    )
                )
                columns.append(nil)
            }
        }
        for required in [Column.protocol, .address] where !columns.contains(required) {
            problems.append(Problem(line: header.line, column: required.rawValue, message: "required column missing"))
        }
        let columnSet = Set(columns.compactMap { $0 })
        guard problems.isEmpty else {
            return Parsed(columns: columnSet, rows: [], problems: problems, rowCount: records.count)
        }
        var rows: [(line: Int, profile: MeterProfile)] = []
        var seen: [String: Int] = [:]
        for record in records {
            var rowProblems: [Problem] = []
            guard record.fields.count == columns.count else {
                problems.append(
                    Problem(
                        line: record.line,
                        column: "",
                        message: "has \(record.fields.count) fields, the header names \(columns.count)"
                    )
                )
                continue
            }
            var cells: [Column: String] = [:]
            for (index, column) in columns.enumerated() {
                if let column { cells[column] = record.fields[index].trimmingSpaces }
            }
            let profile = makeProfile(cells, line: record.line, problems: &rowProblems)
            if let profile, rowProblems.isEmpty {
                let identity = "\(profile.protocol.rawValue)/\(profile.address)"
                if let first = seen[identity] {
                    problems.append(
                        Problem(
                            line: record.line,
                            column: Column.address.rawValue,
                            message: "meter \(profile.address) already appears on line \(first)"
                        )
                    )
                    continue
                }
                seen[identity] = record.line
                rows.append((record.line, profile))
            } else {
                // Report a row's problems in the file's column order.
                let order = Dictionary(columns.enumerated().compactMap { i, c in c.map { ($0.rawValue, i) } }) { a, _ in
                    a
                }
                problems += rowProblems.sorted { (order[$0.column] ?? -1) < (order[$1.column] ?? -1) }
            }
        }
        return Parsed(columns: columnSet, rows: rows, problems: problems, rowCount: records.count)
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

    private struct Record {
        var line: Int
        var fields: [String]
    }

    /// Splits the text into records of fields, honouring quotes (a quoted field may span lines).
    private static func splitRecords(_ text: String) -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // a UTF-8 byte-order mark
        var index = 0
        func endRecord() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll()
            if !(fields.count == 1 && fields[0].trimmingSpaces.isEmpty) {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields.removeAll()
        }
        while index < bytes.count {
            let byte = bytes[index]
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
                        field.append(byte)
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                }
            } else {
                switch byte {
                case UInt8(ascii: "\""):
                    inQuotes = true
                case UInt8(ascii: ","):
                    fields.append(String(decoding: field, as: UTF8.self))
                    field.removeAll()
                case UInt8(ascii: "\r"):
                    break
                case UInt8(ascii: "\n"):
                    endRecord()
                    line += 1
                    recordLine = line
                default:
                    field.append(byte)
                }
            }
            index += 1
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
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
