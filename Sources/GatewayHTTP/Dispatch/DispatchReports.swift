import Foundation
import GatewayCore
import Hummingbird
import PostgresSink

/// `GET /dispatch/v1/reports/sla`: `{"rows":[…]}`, one row per priority and district with the share of each
/// deadline met (`null` when none was decided) and the arrival minutes (`null` when nobody arrived yet).
struct SLAReportResponse: ResponseEncodable, Sendable {
    struct Deadline: Encodable, Sendable {
        var met: Int
        var decided: Int
        /// `met / decided` rounded to four decimals, `null` when `decided` is 0.
        @ExplicitNull var share: Double?

        init(met: Int, decided: Int) {
            self.met = met
            self.decided = decided
            // Rounded as the report has always printed it (`%.4f`).
            self.share = decided > 0 ? Double(String(format: "%.4f", Double(met) / Double(decided))) : nil
        }
    }

    struct ArrivalMinutes: Encodable, Sendable {
        var p50: Double
        var p90: Double
        var max: Double
    }

    struct Row: Encodable, Sendable {
        var priority: String
        var district: String
        var tickets: Int
        var acknowledge: Deadline
        var arrive: Deadline
        var makeSafe: Deadline
        var repair: Deadline
        @ExplicitNull var arrivalMinutes: ArrivalMinutes?

        enum CodingKeys: String, CodingKey {
            case priority, district, tickets, acknowledge, arrive, repair
            case makeSafe = "make_safe"
            case arrivalMinutes = "arrival_minutes"
        }

        init(_ row: SLARow) {
            func deadline(_ name: String) -> Deadline {
                let counts = row.deadlines[name] ?? SLARow.Compliance(met: 0, decided: 0)
                return Deadline(met: counts.met, decided: counts.decided)
            }
            self.priority = row.priority
            self.district = row.district
            self.tickets = row.tickets
            self.acknowledge = deadline("acknowledge")
            self.arrive = deadline("arrive")
            self.makeSafe = deadline("make_safe")
            self.repair = deadline("repair")
            self.arrivalMinutes = row.arrivalMinutes.map { ArrivalMinutes(p50: $0.p50, p90: $0.p90, max: $0.max) }
        }
    }

    var rows: [Row]

    init(_ rows: [SLARow]) {
        self.rows = rows.map(Row.init)
    }
}

/// `GET /dispatch/v1/reports/inspections-due`: `{"as_of":"YYYY-MM-DD","due":[…]}`.
struct InspectionsDueResponse: Encodable, Sendable {
    struct Item: Encodable, Sendable {
        var `protocol`: String
        var meter: String
        @ExplicitNull var district: String?
        var customerClass: String
        @ExplicitNull var lastInspection: String?
        var dueOn: String

        enum CodingKeys: String, CodingKey {
            case `protocol`, meter, district
            case customerClass = "customer_class"
            case lastInspection = "last_inspection"
            case dueOn = "due_on"
        }
    }

    var asOf: String
    var due: [Item]
    @ExplicitNull var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case due
        case asOf = "as_of"
        case nextCursor = "next_cursor"
    }

    init(asOf date: CivilDate, due: [InspectionDue], nextCursor: String? = nil) {
        self.asOf = date.description
        self.nextCursor = nextCursor
        self.due = due.map {
            Item(
                protocol: $0.protocol.rawValue,
                meter: $0.meter,
                district: $0.district,
                customerClass: $0.customerClass,
                lastInspection: $0.lastInspection,
                dueOn: $0.dueOn
            )
        }
    }
}

/// `POST /dispatch/v1/tickets`: `{"ticket_id":…,"opened":bool}` (`false`: the report joined an open ticket).
struct ManualTicketResponse: ResponseEncodable, Sendable {
    var ticketID: Int64
    var opened: Bool

    enum CodingKeys: String, CodingKey {
        case opened
        case ticketID = "ticket_id"
    }
}
