import GatewayCore
import GatewayDomain

extension GatewayConfiguration {
    /// `[tickets]`: the service commitments: how soon a ticket of each priority must be attended and repaired.
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct Tickets: Sendable, Equatable {
        var p0UrbanArriveMinutes = 30
        var p0RuralArriveMinutes = 60
        var p0MakeSafeMinutes = 360
        var p1ArriveMinutes = 120
        var p2ArriveMinutes = 1440
        var repairMinutes = 1440
        var p3ScheduleMinutes = 4320
    }
}

extension GatewayConfiguration.Tickets {
    /// The `[tickets]` settings, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "tickets",
            key: "p0_urban_arrive_minutes",
            kind: .integer(\.tickets.p0UrbanArriveMinutes, range: 1...10_080),
            help: "P0 (uncontrolled escape) arrival deadline in urban districts."
        ),
        Setting(
            section: "tickets",
            key: "p0_rural_arrive_minutes",
            kind: .integer(\.tickets.p0RuralArriveMinutes, range: 1...10_080),
            help: "P0 arrival deadline in rural districts."
        ),
        Setting(
            section: "tickets",
            key: "p0_make_safe_minutes",
            kind: .integer(\.tickets.p0MakeSafeMinutes, range: 1...10_080),
            help: "P0/P1 make-safe deadline (network faults handled within 6 h)."
        ),
        Setting(
            section: "tickets",
            key: "p1_arrive_minutes",
            kind: .integer(\.tickets.p1ArriveMinutes, range: 1...10_080),
            help: "P1 (controlled escape) arrival deadline."
        ),
        Setting(
            section: "tickets",
            key: "p2_arrive_minutes",
            kind: .integer(\.tickets.p2ArriveMinutes, range: 1...10_080),
            help: "P2 (suspected leak) visit deadline."
        ),
        Setting(
            section: "tickets",
            key: "repair_minutes",
            kind: .integer(\.tickets.repairMinutes, range: 1...43_200),
            help: "Repair deadline for P0–P2 (repaired within 24 h)."
        ),
        Setting(
            section: "tickets",
            key: "p3_schedule_minutes",
            kind: .integer(\.tickets.p3ScheduleMinutes, range: 1...43_200),
            help: "P3 (device fault) visit and repair deadline."
        ),
    ]
}

extension GatewayConfiguration.Tickets {
    /// The ticket policy these settings describe.
    var policy: TicketPolicy {
        typealias D = TicketPolicy.Deadlines
        let minute: Int64 = 60
        let base = TicketPolicy.serviceCommitments
        func deadlines(_ from: D, arrive: Int, makeSafe: Int? = nil, repair: Int) -> D {
            D(
                acknowledgeSeconds: from.acknowledgeSeconds,
                arriveSeconds: Int64(arrive) * minute,
                makeSafeSeconds: makeSafe.map { Int64($0) * minute }
                    ?? max(from.makeSafeSeconds, Int64(arrive) * minute),
                repairSeconds: Int64(repair) * minute
            )
        }
        return TicketPolicy(
            p0Urban: deadlines(
                base.p0Urban,
                arrive: p0UrbanArriveMinutes,
                makeSafe: p0MakeSafeMinutes,
                repair: repairMinutes
            ),
            p0Rural: deadlines(
                base.p0Rural,
                arrive: p0RuralArriveMinutes,
                makeSafe: p0MakeSafeMinutes,
                repair: repairMinutes
            ),
            p1: deadlines(
                base.p1,
                arrive: p1ArriveMinutes,
                makeSafe: p0MakeSafeMinutes,
                repair: repairMinutes
            ),
            p2: deadlines(base.p2, arrive: p2ArriveMinutes, repair: repairMinutes),
            p3: deadlines(base.p3, arrive: p3ScheduleMinutes, repair: p3ScheduleMinutes)
        )
    }
}

extension GatewayConfiguration {
    /// The rules the stores apply to alarms: the `[tickets]` policy and the `[dispatch]` major-incident rule.
    var ticketRules: TicketRules {
        TicketRules(
            policy: tickets.policy,
            incidents: MajorIncidentRule(
                windowSeconds: Int64(dispatch.incidentWindowMinutes) * 60,
                minimumMeters: dispatch.incidentMinimumMeters
            )
        )
    }
}
