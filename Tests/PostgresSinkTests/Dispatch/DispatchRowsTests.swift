import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

/// The dispatch rows without a server: typed decoding, full equality, the next deadline.
@Suite struct DispatchRowsTests {
    static let opened = Timestamp(secondsSinceEpoch: 1_780_000_000)

    static func ticketColumns(status: String) -> [String?] {
        let micros = { (seconds: Int64) -> String? in String(opened.adding(seconds: seconds).microsecondsSinceEpoch) }
        return [
            "7", "3", "native", "1001", "d1", "f", "methane_detector", "P0", status, "alarm", nil, "1", "2", micros(0),
            micros(300), micros(1800), micros(21_600), micros(86_400),
            status == "open" ? nil : micros(60), nil, nil, nil, nil, nil, nil, nil, nil, "plain",
        ]
    }

    @Test func decodesATicketRowAndItsNextDeadline() throws {
        let ticket = try DispatchTicket(row: PostgresRow(columns: Self.ticketColumns(status: "acknowledged")))
        #expect(ticket.id == 7 && ticket.meterID == 3 && ticket.protocol == .native && !ticket.isRural)
        #expect(ticket.priority == .p0 && ticket.escalationLevel == 1 && ticket.alarmCount == 2)
        #expect(ticket.deadlines.count == 4 && ticket.steps == ["acknowledged": Self.opened.adding(seconds: 60)])
        // Acknowledged: the next deadline is the arrival, not the passed acknowledge_by.
        #expect(ticket.nextDeadline == Self.opened.adding(seconds: 1800))
        #expect(ticket.alarmProtection == .plain && ticket.hasUnauthenticatedAlarms)
        let open = try DispatchTicket(row: PostgresRow(columns: Self.ticketColumns(status: "open")))
        #expect(open.nextDeadline == Self.opened.adding(seconds: 300))
    }

    @Test func aTicketRowWithoutItsIDIsAnErrorNotASkippedRow() {
        var columns = Self.ticketColumns(status: "open")
        columns[0] = nil
        #expect(throws: PostgresError.self) { try DispatchTicket(row: PostgresRow(columns: columns)) }
    }

    @Test func householdFilesDifferingInAnyFieldAreNotEqual() {
        let reading = HouseholdFile.Reading(readAt: Self.opened, volumeMillilitres: 5, valve: .open, quality: .valid)
        var a = HouseholdFile(
            readings: [reading],
            alarms: [],
            tickets: [],
            inspections: [],
            hasContinuousAppliance: false,
            isMethaneDetectorLinked: true,
            customerClass: nil
        )
        var b = a
        #expect(a == b)
        b.readings[0].volumeMillilitres = 6
        #expect(a != b)
        b = a
        a.isMethaneDetectorLinked = false
        #expect(a != b)
    }

    @Test func slaRowsCompareArrivalTimesToo() throws {
        let columns: [String?] = ["P0", "d1", "2", "1", "2", "1", "1", "0", "1", "0", "0", "12.5", "20.0", "22.1"]
        let row = try SLARow(row: PostgresRow(columns: columns))
        #expect(row.deadlines["acknowledge"] == SLARow.Compliance(met: 1, decided: 2))
        #expect(row.arrivalMinutes == SLARow.ArrivalMinutes(p50: 12.5, p90: 20.0, max: 22.1))
        var other = row
        other.arrivalMinutes?.max = 30
        #expect(row != other)
    }
}

/// The active-status list every ticket statement uses is derived from the lifecycle; the partial unique index that
/// keeps one active ticket per meter and condition was created with the same list, so a lifecycle change that
/// forgets to migrate the index fails here.
@Suite struct ActiveStatusListTests {
    @Test func theStatementsStatusListIsTheLifecyclesActiveSetAndTheIndexPredicate() {
        #expect(TicketSQL.active == DispatchSQL.statusList(TicketStatus.active))
        #expect(DispatchSQL.active == "('open', 'acknowledged', 'dispatched', 'on_site', 'made_safe')")
        #expect(
            Migrations.v1.sql.contains(
                "repair_tickets_one_active_idx ON repair_tickets (meter_id, condition)\n    WHERE status IN \(DispatchSQL.active)"
            )
        )
    }
}
