import Foundation
import GatewayCore
import GatewayFleet
import PostgresSink

/// Compares the fault campaign's own records (what each phase published, what native meters got acknowledged)
/// with the database, and renders the campaign table.
///
/// Rules: every generated native frame is stored exactly once (`uplink_frames` and `frame_identities`, with no hole
/// in any meter's counters); every other frame is stored once (one `frame_identities` row with its fingerprint)
/// or quarantined with the expected reason; a frame missing from both is a violation unless the broker
/// never acknowledged its publish or it was published inside a documented broker loss window the script recorded;
/// no natural key holds two rows; every (meter, condition) that raised an alarm has exactly one ticket and every
/// ticket-opening alarm is an event on it; the billing feed's versions of a day have no gap.
/// Owns one libpq connection; use it from one task.
final class FaultChecker {
    /// One phase's outcome, a row of the table.
    struct PhaseRow {
        var phase: Int
        var name: String
        var sent = 0
        var deliveries = 0
        var nativeGenerated = 0
        var nativeAcked = 0
        var stored = 0
        var duplicates = 0
        var lost = 0
        var lostInWindow: [String: Int] = [:]
        var unconfirmed = 0
        var quarantined: [String: Int] = [:]
        var tickets = 0
        var recover: [Double] = []
        var skipped: String?
        var notes: [String] = []
    }

    /// Everything the check found.
    struct Result {
        var rows: [PhaseRow]
        var violations: [String]
        var notes: [String]

        /// The table, the notes and the violations as text.
        func render() -> String {
            let header = [
                "fault", "sent", "acknowledged", "stored", "duplicates", "lost", "quarantined (by reason)", "tickets",
                "seconds to recover",
            ]
            var lines: [[String]] = [header]
            var total = PhaseRow(phase: 0, name: "total")
            for row in rows {
                let sent = row.deliveries != row.sent ? "\(row.sent) (\(row.deliveries) deliveries)" : "\(row.sent)"
                var lost = "\(row.lost)"
                if !row.lostInWindow.isEmpty {
                    lost +=
                        " + "
                        + row.lostInWindow.sorted { $0.key < $1.key }.map { "\($0.value) in \($0.key)" }
                        .joined(separator: ", ")
                }
                if row.unconfirmed > 0 { lost += " (\(row.unconfirmed) publishes unconfirmed)" }
                let quarantined =
                    row.quarantined.isEmpty
                    ? "0"
                    : row.quarantined.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                        .joined(separator: ", ")
                let recover =
                    row.skipped != nil
                    ? "skipped"
                    : row.recover.isEmpty
                        ? "-" : row.recover.map { String(format: "%.1f", $0) }.joined(separator: " / ")
                lines.append([
                    "\(row.phase). \(row.name)", sent, "\(row.nativeAcked)/\(row.nativeGenerated) native",
                    "\(row.stored)",
                    "\(row.duplicates)", lost, quarantined, "\(row.tickets)", recover,
                ])
                total.sent += row.sent
                total.deliveries += row.deliveries
                total.nativeAcked += row.nativeAcked
                total.nativeGenerated += row.nativeGenerated
                total.stored += row.stored
                total.duplicates += row.duplicates
                total.lost += row.lost
                total.tickets += row.tickets
                for count in row.lostInWindow.values { total.lostInWindow["window", default: 0] += count }
                for (reason, count) in row.quarantined { total.quarantined[reason, default: 0] += count }
            }
            lines.append([
                "total", "\(total.sent) (\(total.deliveries) deliveries)",
                "\(total.nativeAcked)/\(total.nativeGenerated) native", "\(total.stored)", "\(total.duplicates)",
                "\(total.lost)" + (total.lostInWindow["window"].map { " + \($0) in windows" } ?? ""),
                "\(total.quarantined.values.reduce(0, +)) frames", "\(total.tickets)", "",
            ])
            var widths = [Int](repeating: 0, count: header.count)
            for line in lines {
                for (column, cell) in line.enumerated() { widths[column] = max(widths[column], cell.count) }
            }
            func format(_ line: [String]) -> String {
                "| "
                    + line.enumerated().map { column, cell in
                        cell + String(repeating: " ", count: widths[column] - cell.count)
                    }.joined(separator: " | ") + " |"
            }
            var text = [
                format(lines[0]),
                "|" + widths.map { String(repeating: "-", count: $0 + 2) }.joined(separator: "|") + "|",
            ]
            text += lines.dropFirst().map(format)
            text.append("")
            text.append(
                "sent: distinct frames (deliveries when frames were published more than once); acknowledged: "
                    + "native frames acked by the gateway after commit (CJ/T 188 and wM-Bus have no app-level ack); "
                    + "quarantined: distinct payloads by reason; lost: frames neither stored nor quarantined "
                    + "(violations), + those lost inside a documented broker window."
            )
            for row in rows {
                if let skipped = row.skipped { text.append("phase \(row.phase) skipped: \(skipped)") }
                for note in row.notes { text.append("phase \(row.phase): \(note)") }
            }
            text += notes
            if violations.isEmpty {
                text.append("RESULT: no violation")
            } else {
                text.append("RESULT: \(violations.count) violation(s):")
                text += violations.prefix(60).map { "  - " + $0 }
                if violations.count > 60 { text.append("  … and \(violations.count - 60) more") }
            }
            return text.joined(separator: "\n")
        }
    }

    private let folder: String
    private let connection: PostgresConnection
    private let policy: TicketPolicy

    /// Connects to the campaign database.
    /// - Throws: ``FaultCampaignError`` when the folder is missing, or the connection error.
    init(folder: String, conninfo: String, policy: TicketPolicy) throws {
        guard FileManager.default.fileExists(atPath: folder) else {
            throw FaultCampaignError("the records folder \(folder) does not exist")
        }
        self.folder = folder
        self.policy = policy
        connection = try PostgresConnection.connect(conninfo: conninfo)
    }

    deinit { connection.close() }

    private func scalar(_ sql: String) throws -> Int {
        Int(try connection.query(sql).first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    /// Waits until every generated native frame is stored and the stored counts stop changing for 3 s.
    func waitUntilSettled(timeout: Duration) async throws {
        let generated = try phases().reduce(0) { $0 + ((try nativeReport($1))?.framesGenerated ?? 0) }
        let deadline = ContinuousClock.now + timeout
        var last = -1
        var stable = 0
        while ContinuousClock.now < deadline {
            let native = try scalar("SELECT count(*) FROM uplink_frames")
            let signature = try scalar(
                "SELECT (SELECT count(*) FROM frame_identities) + (SELECT coalesce(sum(repeat_count), 0) FROM quarantine)"
            )
            stable = signature == last ? stable + 1 : 0
            last = signature
            if native >= generated && stable >= 3 { return }
            try await Task.sleep(for: .seconds(1))
        }
    }

    private func phases() throws -> [Int] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
        return Set(names.compactMap { name in Int(name.prefix { $0.isNumber }) }).sorted()
    }

    private func nativeReport(_ phase: Int) throws -> SimulatorReport? {
        let path = "\(folder)/\(phase).native.json"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        // simulate prints log lines on stderr only; the JSON report is the last line of stdout.
        let text = String(decoding: data, as: UTF8.self)
        guard let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }) else {
            throw FaultCampaignError("\(path) holds no simulator report")
        }
        return try JSONDecoder().decode(SimulatorReport.self, from: Data(line.utf8))
    }

    private func frameRecords(_ phase: Int) throws -> [SentFrame] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasPrefix("\(phase)-") && $0.hasSuffix(".frames.json") }.sorted()
        var frames: [SentFrame] = []
        for name in names {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)"))
            do {
                frames += try JSONDecoder().decode(FaultRecord.self, from: data).frames
            } catch {
                throw FaultCampaignError("cannot read the record \(folder)/\(name): \(error)")
            }
        }
        return frames
    }

    /// Runs every check.
    func check() throws -> Result {
        var violations: [String] = []
        var notes: [String] = []

        // The database as it is now.
        var meterIDs: [String: Int64] = [:]
        for row in try connection.query("SELECT protocol, address, id FROM meters") {
            if let proto = row[0], let address = row[1], let id = Int64(row[2] ?? "") {
                meterIDs["\(proto)|\(address)"] = id
            }
        }
        var identities: [Int64: [Int64: Int]] = [:]
        var fingerprints: [Int64: Int] = [:]
        for row in try connection.query("SELECT meter_id, fingerprint, count(*) FROM frame_identities GROUP BY 1, 2") {
            guard let meter = Int64(row[0] ?? ""), let fingerprint = Int64(row[1] ?? ""), let count = Int(row[2] ?? "")
            else { continue }
            identities[meter, default: [:]][fingerprint] = count
            fingerprints[fingerprint, default: 0] += count
        }
        var quarantine: [String: (reason: String, repeats: Int)] = [:]
        var quarantineMatched: Set<String> = []
        for row in try connection.query(
            "SELECT topic, encode(substring(payload from 1 for 64), 'hex'), reason, repeat_count FROM quarantine"
        ) {
            let key = "\(row[0] ?? "")|\((row[1] ?? "").uppercased())"
            let repeats = Int(row[3] ?? "") ?? 0
            if let existing = quarantine[key], existing.reason != (row[2] ?? "") {
                violations.append(
                    "one payload on \(row[0] ?? "") was quarantined with two reasons: \(existing.reason), \(row[2] ?? "?")"
                )
            }
            quarantine[key] = (row[2] ?? "", (quarantine[key]?.repeats ?? 0) + repeats)
        }
        var currentReadings: [Int64: Int] = [:]
        for row in try connection.query(
            "SELECT meter_id, count(*) FROM readings WHERE kind = 0 AND storage = 0 GROUP BY 1"
        ) {
            if let meter = Int64(row[0] ?? ""), let count = Int(row[1] ?? "") { currentReadings[meter] = count }
        }
        var alarmCounts: [Int64: [String: Int]] = [:]
        for row in try connection.query(
            "SELECT meter_id, condition, count(*) FROM alarms WHERE NOT is_cleared GROUP BY 1, 2"
        ) {
            if let meter = Int64(row[0] ?? ""), let condition = row[1], let count = Int(row[2] ?? "") {
                alarmCounts[meter, default: [:]][condition] = count
            }
        }
        var ticketCounts: [Int64: [String: Int]] = [:]
        for row in try connection.query("SELECT meter_id, condition, count(*) FROM repair_tickets GROUP BY 1, 2") {
            if let meter = Int64(row[0] ?? ""), let condition = row[1], let count = Int(row[2] ?? "") {
                ticketCounts[meter, default: [:]][condition] = count
            }
        }

        /// Checks one meter's tickets against its alarms; returns its ticket count.
        func checkTickets(meter: Int64, label: String, phase: Int) -> Int {
            let alarms = alarmCounts[meter] ?? [:]
            let tickets = ticketCounts[meter] ?? [:]
            for (condition, _) in alarms {
                guard let parsed = AlarmCondition(rawValue: condition), policy.opensTicket(parsed, isCleared: false)
                else { continue }
                let count = tickets[condition] ?? 0
                if count != 1 {
                    violations.append(
                        "phase \(phase): meter \(label) raised \(condition) but has \(count) tickets for it (expected 1)"
                    )
                }
            }
            for (condition, _) in tickets where alarms[condition] == nil {
                violations.append(
                    "phase \(phase): meter \(label) has a \(condition) ticket without a \(condition) alarm"
                )
            }
            return tickets.values.reduce(0, +)
        }

        var rows: [PhaseRow] = []
        for phase in try phases() {
            let events = try PhaseEvents(path: "\(folder)/\(phase).events")
            var row = PhaseRow(phase: phase, name: events.name.isEmpty ? "phase \(phase)" : events.name)
            row.recover = events.recoverSeconds
            row.skipped = events.skipped
            row.notes = events.notes
            if let rss = events.peakRSSKilobytes { row.notes.append("gateway peak RSS \(rss / 1024) MiB (VmHWM)") }
            for window in events.windows {
                row.notes.append(
                    "documented loss window \(window.name): \(String(format: "%.1f", window.end - window.start)) s"
                )
            }

            // Native: every generated frame stored exactly once, counters without holes, rows as generated.
            if let report = try nativeReport(phase) {
                let first = FaultFleet.firstNativeMeterID(phase: phase)
                let meters = max(events.nativeMeters, 1)
                let inRange =
                    "meter_id IN (SELECT id FROM meters WHERE protocol = 'native' AND address ~ '^[0-9]+$' "
                    + "AND address::bigint BETWEEN \(first) AND \(first + UInt64(meters) - 1))"
                let stored = try scalar("SELECT count(*) FROM uplink_frames WHERE \(inRange)")
                let identified = try scalar("SELECT count(*) FROM frame_identities WHERE kind = 1 AND \(inRange)")
                let holes = try scalar(
                    """
                    SELECT count(*) FROM (SELECT meter_id FROM uplink_frames WHERE \(inRange) GROUP BY meter_id
                    HAVING max(frame_counter) - min(frame_counter) + 1 <> count(*)) AS h
                    """
                )
                row.nativeGenerated = report.framesGenerated
                row.nativeAcked = report.acked
                row.sent += report.framesGenerated
                row.deliveries += report.framesGenerated
                row.stored += stored
                if stored != report.framesGenerated {
                    violations.append(
                        "phase \(phase): native fleet generated \(report.framesGenerated) frames, \(stored) stored in uplink_frames"
                    )
                    if stored < report.framesGenerated {
                        row.lost += report.framesGenerated - stored
                    } else {
                        row.duplicates += stored - report.framesGenerated
                    }
                }
                if identified != stored {
                    violations.append(
                        "phase \(phase): \(stored) native frames stored but \(identified) frame_identities rows"
                    )
                }
                if holes > 0 {
                    violations.append(
                        "phase \(phase): \(holes) native meters have holes in their stored frame counters"
                    )
                }
                let expected: [(String, String, Int)] = [
                    (
                        "readings (current)", "SELECT count(*) FROM readings WHERE kind = 0 AND \(inRange)",
                        report.readings
                    ),
                    (
                        "readings (frozen totals)", "SELECT count(*) FROM readings WHERE kind = 1 AND \(inRange)",
                        report.frozenTotals
                    ),
                    ("readings (alarm)", "SELECT count(*) FROM readings WHERE kind = 2 AND \(inRange)", report.alarms),
                    (
                        "interval_readings", "SELECT count(*) FROM interval_readings WHERE \(inRange)",
                        report.intervalPoints
                    ),
                    ("alarms", "SELECT count(*) FROM alarms WHERE \(inRange)", report.alarms),
                ]
                for (table, sql, want) in expected {
                    let have = try scalar(sql)
                    if have > want {
                        row.duplicates += have - want
                        violations.append("phase \(phase): native \(table): \(have) rows for \(want) sent (duplicates)")
                    } else if have < want {
                        violations.append("phase \(phase): native \(table): \(have) rows for \(want) sent (missing)")
                    }
                }
                if report.unacked > 0 {
                    row.notes.append("\(report.unacked) native frames stored but their ack never reached the meter")
                }
                let wantedConditions = report.alarmsByCondition.keys.filter {
                    AlarmCondition(rawValue: $0).map { policy.opensTicket($0, isCleared: false) } ?? false
                }
                var nativeTickets = 0
                for index in 0..<meters {
                    let address = String(first + UInt64(index))
                    guard let id = meterIDs["native|\(address)"] else {
                        violations.append("phase \(phase): native meter \(address) is not registered")
                        continue
                    }
                    nativeTickets += checkTickets(meter: id, label: address, phase: phase)
                }
                if nativeTickets != wantedConditions.count {
                    violations.append(
                        "phase \(phase): native fleet raised \(wantedConditions.count) ticket conditions (one meter each), \(nativeTickets) tickets exist"
                    )
                }
                row.tickets += nativeTickets
            }

            // CJ/T 188 and wireless M-Bus: stored once or quarantined as expected.
            var storedPerMeter: [Int64: Int] = [:]
            var alarmFramesPerMeter: [Int64: [String: Int]] = [:]
            var phaseMeters: [Int64: String] = [:]
            for frame in try frameRecords(phase) {
                row.sent += 1
                row.deliveries += frame.deliveries
                let key = "\(frame.topic)|\(frame.hex)"
                let label = "\(frame.kind) frame \(frame.hex.prefix(24))… on \(frame.topic)"
                if frame.mustBeStored {
                    guard let proto = frame.meterProtocol, let address = frame.meterAddress,
                        let meter = meterIDs["\(proto)|\(address)"]
                    else {
                        violations.append("phase \(phase): the meter of \(label) is not registered")
                        continue
                    }
                    phaseMeters[meter] = address
                    let count = identities[meter]?[frame.fingerprint] ?? 0
                    if count >= 1 {
                        row.stored += 1
                        storedPerMeter[meter, default: 0] += 1
                        if let alarm = frame.alarm { alarmFramesPerMeter[meter, default: [:]][alarm, default: 0] += 1 }
                        if count > 1 {
                            row.duplicates += count - 1
                            violations.append("phase \(phase): \(label) is stored under \(count) identities")
                        }
                        if let reason = quarantine[key]?.reason {
                            quarantineMatched.insert(key)
                            violations.append("phase \(phase): \(label) is stored and also quarantined as \(reason)")
                        }
                    } else if let quarantined = quarantine[key] {
                        quarantineMatched.insert(key)
                        violations.append(
                            "phase \(phase): \(label) should be stored but is quarantined as \(quarantined.reason)"
                        )
                    } else if frame.confirmed == 0 {
                        row.unconfirmed += 1
                    } else if let window = events.window(containing: frame.lastSentAt)
                        ?? events.window(containing: frame.firstSentAt)
                    {
                        row.lostInWindow[window.name, default: 0] += 1
                    } else {
                        row.lost += 1
                        violations.append(
                            "phase \(phase): \(label) (acknowledged by the broker at \(String(format: "%.1f", frame.lastSentAt))) is neither stored nor quarantined"
                        )
                    }
                } else if let expected = frame.expectedReason {
                    if (fingerprints[frame.fingerprint] ?? 0) > 0 {
                        violations.append("phase \(phase): hostile \(label) was stored")
                        continue
                    }
                    guard let quarantined = quarantine[key] else {
                        if frame.confirmed == 0 {
                            row.unconfirmed += 1
                        } else if let window = events.window(containing: frame.lastSentAt) {
                            row.lostInWindow[window.name, default: 0] += 1
                        } else {
                            row.lost += 1
                            violations.append("phase \(phase): hostile \(label) is neither quarantined nor stored")
                        }
                        continue
                    }
                    quarantineMatched.insert(key)
                    row.quarantined[quarantined.reason, default: 0] += 1
                    if expected != "*" && expected != quarantined.reason {
                        violations.append(
                            "phase \(phase): \(label) quarantined as \(quarantined.reason), expected \(expected)"
                        )
                    }
                    if quarantined.repeats < frame.confirmed
                        || (events.kills == 0 && quarantined.repeats > frame.deliveries)
                    {
                        violations.append(
                            "phase \(phase): \(label) delivered \(frame.confirmed)…\(frame.deliveries) times, quarantine repeat_count \(quarantined.repeats)"
                        )
                    }
                }
            }
            for (meter, label) in phaseMeters {
                let stored = storedPerMeter[meter] ?? 0
                let readings = currentReadings[meter] ?? 0
                if readings != stored {
                    if readings > stored { row.duplicates += readings - stored }
                    violations.append(
                        "phase \(phase): meter \(label): \(stored) frames stored, \(readings) current readings"
                    )
                }
                for (condition, frames) in alarmFramesPerMeter[meter] ?? [:] {
                    let alarms = alarmCounts[meter]?[condition] ?? 0
                    if alarms != frames {
                        if alarms > frames { row.duplicates += alarms - frames }
                        violations.append(
                            "phase \(phase): meter \(label): \(frames) \(condition) frames stored, \(alarms) alarm rows"
                        )
                    }
                }
                row.tickets += checkTickets(meter: meter, label: label, phase: phase)
            }
            rows.append(row)
        }

        // Whole-database checks.
        let unexpected = quarantine.keys.filter { !quarantineMatched.contains($0) }.sorted()
        for key in unexpected.prefix(10) {
            violations.append("quarantine row no phase sent: \(key.prefix(120)) (\(quarantine[key]?.reason ?? ""))")
        }
        if unexpected.count > 10 { violations.append("… \(unexpected.count - 10) more unexpected quarantine rows") }
        let sameBytes = try scalar(
            "SELECT count(*) FROM (SELECT 1 FROM frame_identities GROUP BY meter_id, fingerprint HAVING count(*) > 1) AS d"
        )
        if sameBytes > 0 { violations.append("frame_identities: \(sameBytes) payloads stored under two identities") }
        let withoutEvent = try scalar(
            """
            SELECT count(*) FROM alarms a WHERE NOT a.is_cleared
            AND a.condition NOT IN ('\(AlarmCondition.continuousFlowWarning.rawValue)', '\(AlarmCondition.continuousFlowEscalated.rawValue)')
            AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.alarm_id = a.id)
            """
        )
        if withoutEvent > 0 { violations.append("\(withoutEvent) ticket-opening alarms are no event on any ticket") }
        let nativeAlarmDuplicates = try scalar(
            """
            SELECT count(*) FROM (SELECT 1 FROM alarms WHERE frame_counter IS NOT NULL
            GROUP BY meter_id, frame_counter, raw_code, is_cleared HAVING count(*) > 1) AS d
            """
        )
        if nativeAlarmDuplicates > 0 {
            violations.append("alarms: \(nativeAlarmDuplicates) native alarm frames stored as two alarm rows")
        }
        let activeTwice = try scalar(
            """
            SELECT count(*) FROM (SELECT 1 FROM repair_tickets
            WHERE status IN ('open', 'acknowledged', 'dispatched', 'on_site', 'made_safe')
            GROUP BY meter_id, condition HAVING count(*) > 1) AS d
            """
        )
        if activeTwice > 0 {
            violations.append("repair_tickets: \(activeTwice) meters have two active tickets of one condition")
        }
        try checkProtection(scalar: scalar, violations: &violations, notes: &notes)
        let conflicts = try scalar("SELECT count(*) FROM value_conflicts")
        if conflicts > 0 {
            violations.append(
                "value_conflicts: \(conflicts) natural keys arrived with a second value (a frame stored twice with other bytes)"
            )
        }
        let feedGaps = try scalar(
            """
            SELECT count(*) FROM (SELECT 1 FROM billing_feed GROUP BY meter_id, basis, day
            HAVING max(version) <> count(*) OR min(version) <> 1) AS g
            """
        )
        let feedDays = try scalar("SELECT count(*) FROM billing_feed")
        if feedGaps > 0 { violations.append("billing_feed: \(feedGaps) meter days with a gap in their versions") }
        notes.append(
            "billing feed: \(feedDays) day versions published, \(feedGaps) with a version gap; native counters checked "
                + "for holes per meter; CJ/T 188 / wM-Bus: one current reading per stored frame"
        )
        return Result(rows: rows, violations: violations, notes: notes)
    }

    /// Protection levels: every row carries the level its protocol and security mode give, and every ticket an
    /// alarm below `authenticated` acted on shows it (the dispatch API's `unauthenticated_alarms`).
    private func checkProtection(
        scalar: (String) throws -> Int,
        violations: inout [String],
        notes: inout [String]
    ) throws {
        let checks: [(String, String)] = [
            (
                "native readings or alarms not authenticated",
                "SELECT (SELECT count(*) FROM readings WHERE frame_source_name(source) = 'native' "
                    + "AND reading_protection(protection_flags) <> 'authenticated') "
                    + "+ (SELECT count(*) FROM alarms WHERE source = 'native' AND protection <> 'authenticated')"
            ),
            (
                "CJ/T 188 readings or alarms not plain",
                "SELECT (SELECT count(*) FROM readings WHERE frame_source_name(source) = 'cjt188' "
                    + "AND reading_protection(protection_flags) <> 'plain') "
                    + "+ (SELECT count(*) FROM alarms WHERE source = 'cjt188' AND protection <> 'plain')"
            ),
            (
                "readings of a keyed wireless M-Bus meter stored below its minimum",
                "SELECT count(*) FROM readings r JOIN meters m ON m.id = r.meter_id "
                    + "WHERE m.protocol = 'wmbus' AND reading_protection(r.protection_flags) < m.min_protection"
            ),
            (
                "mode-5 status alarms (outside the encryption) not stored plain",
                "SELECT count(*) FROM alarms a JOIN readings r ON r.meter_id = a.meter_id AND r.read_at = a.raised_at "
                    + "WHERE a.source = 'wmbus' AND reading_protection(r.protection_flags) = 'encrypted' "
                    + "AND a.raw_code IN (2, 3, 4, 8, 16) AND a.protection <> 'plain'"
            ),
        ]
        for (what, sql) in checks {
            let count = try scalar(sql)
            if count > 0 { violations.append("protection: \(count) \(what)") }
        }
        let flagged = try scalar(
            """
            SELECT count(*) FROM repair_tickets t WHERE (SELECT min(a.protection) FROM ticket_events e
                JOIN alarms a ON a.id = e.alarm_id WHERE e.ticket_id = t.id) < 'authenticated'
            """
        )
        let plainAlarms = try scalar("SELECT count(*) FROM alarms WHERE protection = 'plain' AND source = 'wmbus'")
        // The forged status bytes of the hostile burst: the tickets of meters that require protection were opened by
        // plain alarms (they send nothing else), so each must show a plain weakest alarm.
        let unflagged = try scalar(
            """
            SELECT count(*) FROM repair_tickets t JOIN meters m ON m.id = t.meter_id
            WHERE m.protocol = 'wmbus' AND m.min_protection > 'plain' AND coalesce((SELECT min(a.protection)
                FROM ticket_events e JOIN alarms a ON a.id = e.alarm_id WHERE e.ticket_id = t.id), 'authenticated')
                <> 'plain'
            """
        )
        if unflagged > 0 { violations.append("protection: \(unflagged) tickets of forged status alarms not marked") }
        notes.append(
            "protection: \(plainAlarms) plain wM-Bus alarms stored (forged status bytes among them); \(flagged) "
                + "tickets marked unauthenticated_alarms"
        )
    }
}
