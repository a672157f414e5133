import GatewayCore
import Testing

@testable import GatewayApp

/// The deadlines of `[tickets]` (README "Dispatch": P0 arrive 30 min urban / 60 min rural, make safe 6 h; P1 2 h;
/// P2 24 h; repair 24 h; P3 scheduled within 72 h) and which setting moves which deadline. A setting wired to the
/// wrong priority would give a crew the wrong time to be on site without any other test noticing.
@Suite struct TicketSettingsTests {
    private static let minute: Int64 = 60
    private static let hour: Int64 = 3600

    @Test func theDefaultsAreTheServiceCommitments() throws {
        let policy = try GatewayConfiguration.load(tomlText: "", environment: [:]).tickets.policy
        let h = Self.hour
        #expect(
            policy.p0Urban
                == .init(
                    acknowledgeSeconds: 5 * 60,
                    arriveSeconds: h / 2,
                    makeSafeSeconds: 6 * h,
                    repairSeconds: 24 * h
                )
        )
        #expect(
            policy.p0Rural
                == .init(acknowledgeSeconds: 5 * 60, arriveSeconds: h, makeSafeSeconds: 6 * h, repairSeconds: 24 * h)
        )
        #expect(
            policy.p1
                == .init(
                    acknowledgeSeconds: 15 * 60,
                    arriveSeconds: 2 * h,
                    makeSafeSeconds: 6 * h,
                    repairSeconds: 24 * h
                )
        )
        #expect(
            policy.p2
                == .init(acknowledgeSeconds: h, arriveSeconds: 24 * h, makeSafeSeconds: 24 * h, repairSeconds: 24 * h)
        )
        #expect(
            policy.p3
                == .init(
                    acknowledgeSeconds: 4 * h,
                    arriveSeconds: 72 * h,
                    makeSafeSeconds: 72 * h,
                    repairSeconds: 72 * h
                )
        )
        #expect(policy == TicketPolicy.serviceCommitments)
    }

    @Test func eachSettingMovesItsOwnDeadline() throws {
        let toml = """
            [tickets]
            p0_urban_arrive_minutes = 11
            p0_rural_arrive_minutes = 22
            p0_make_safe_minutes = 333
            p1_arrive_minutes = 44
            p2_arrive_minutes = 555
            p3_schedule_minutes = 6666
            repair_minutes = 7777
            """
        let policy = try GatewayConfiguration.load(tomlText: toml, environment: [:]).tickets.policy
        let m = Self.minute
        #expect(policy.p0Urban.arriveSeconds == 11 * m && policy.p0Rural.arriveSeconds == 22 * m)
        #expect(policy.p0Urban.makeSafeSeconds == 333 * m && policy.p0Rural.makeSafeSeconds == 333 * m)
        #expect(policy.p1.arriveSeconds == 44 * m && policy.p1.makeSafeSeconds == 333 * m)
        #expect(policy.p2.arriveSeconds == 555 * m)
        #expect(policy.p3.arriveSeconds == 6666 * m && policy.p3.repairSeconds == 6666 * m)
        for deadlines in [policy.p0Urban, policy.p0Rural, policy.p1, policy.p2] {
            #expect(deadlines.repairSeconds == 7777 * m)
        }
        // Acknowledgement deadlines are not settings: they stay the service commitments'.
        #expect(policy.p0Urban.acknowledgeSeconds == 5 * m && policy.p3.acknowledgeSeconds == 4 * Self.hour)
    }
}
