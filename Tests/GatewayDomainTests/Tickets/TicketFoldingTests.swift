import GatewayCore
import GatewayDomain
import Testing

/// The ticket rules for a batch of stored alarms, without a database.
@Suite struct TicketFoldingTests {
    static let t0 = Timestamp(secondsSinceEpoch: 1_780_000_000)
    static let now = t0.adding(seconds: 3_600)
    static let policy = TicketPolicy.serviceCommitments

    static func alarm(
        _ id: Int64,
        meter: Int64 = 1,
        _ condition: AlarmCondition = .methaneDetector,
        _ priority: TicketPriority = .p0,
        at seconds: Int64,
        cleared: Bool = false,
        rural: Bool = false,
        outage: Int64? = nil
    ) -> StoredAlarm {
        StoredAlarm(
            id: id,
            meterID: meter,
            condition: condition,
            priority: priority,
            raisedAt: t0.adding(seconds: seconds - 2),
            receivedAt: t0.adding(seconds: seconds),
            isCleared: cleared,
            opensTicket: policy.opensTicket(condition, isCleared: cleared),
            isRural: rural,
            district: "north",
            outageID: outage
        )
    }

    static func active(
        _ id: Int64,
        meter: Int64 = 1,
        _ condition: AlarmCondition,
        _ priority: TicketPriority,
        _ status: TicketStatus = .open
    ) -> ActiveTicket {
        ActiveTicket(
            id: id,
            meterID: meter,
            condition: condition,
            priority: priority,
            status: status,
            openedAt: t0,
            lastAlarmAt: t0,
            alarmCount: 1,
            deadlines: TicketFolding.deadlines(from: t0, priority: priority, isRural: false, policy: policy)
        )
    }

    static func plan(_ alarms: [StoredAlarm], active: [ActiveTicket] = []) -> TicketPlan {
        TicketFolding.plan(alarms: alarms, active: active, policy: policy, now: now)
    }

    @Test func theFirstAlarmOpensATicketAndTheNextJoinsIt() throws {
        // Given out of order: the fold goes by arrival.
        let plan = Self.plan([Self.alarm(11, at: 20), Self.alarm(10, at: 10)])
        #expect(plan.newTicketCount == 1)
        let ticket = try #require(plan.tickets.first)
        #expect(ticket.reference == .new(0))
        #expect(ticket.firstAlarmID == 10 && ticket.alarmCount == 2 && ticket.status == .open)
        #expect(ticket.openedAt == Self.t0.adding(seconds: 10) && ticket.lastAlarmAt == Self.t0.adding(seconds: 20))
        #expect(plan.events.map(\.kind) == [.opened, .alarm])
        #expect(plan.events.map(\.alarmID) == [10, 11])
        #expect(plan.events.first?.detail == "priority P0")
        // P0 urban: acknowledge 5 min, arrive 30 min, counted from the opening alarm's receipt.
        #expect(ticket.deadlines.instants[.arrive] == Self.t0.adding(seconds: 10 + 1_800))
        #expect(ticket.deadlines.instants[.acknowledge] == Self.t0.adding(seconds: 10 + 300))
    }

    @Test func aRuralMeterGetsTheLongerP0Arrival() throws {
        let plan = Self.plan([Self.alarm(1, at: 0, rural: true)])
        #expect(try #require(plan.tickets.first).deadlines.instants[.arrive] == Self.t0.adding(seconds: 3_600))
    }

    @Test func aMoreUrgentAlarmRaisesThePriorityAndTightensTheDeadlines() throws {
        let plan = Self.plan([
            Self.alarm(1, .overFlow, .p1, at: 0),
            Self.alarm(2, .overFlow, .p0, at: 600),
            Self.alarm(3, .overFlow, .p1, at: 900),
        ])
        let ticket = try #require(plan.tickets.first)
        #expect(ticket.priority == .p0)
        #expect(plan.events.map(\.kind) == [.opened, .alarm, .priorityRaised, .alarm])
        #expect(plan.events[2].detail == "P1 -> P0" && plan.events[2].alarmID == 2)
        // Arrival: P1 from 0 s is 2 h; P0 from 600 s is 600 + 30 min, earlier, so it wins.
        #expect(ticket.deadlines.instants[.arrive] == Self.t0.adding(seconds: 600 + 1_800))
        // Repair: 24 h for both, the earlier start wins.
        #expect(ticket.deadlines.instants[.repair] == Self.t0.adding(seconds: 86_400))
    }

    @Test func anAlarmJoinsTheStoredActiveTicketAndALessUrgentOneChangesNothingButTheCount() throws {
        let stored = Self.active(42, .overFlow, .p0)
        let plan = Self.plan([Self.alarm(5, .overFlow, .p2, at: 60)], active: [stored])
        #expect(plan.newTicketCount == 0)
        let ticket = try #require(plan.tickets.first)
        #expect(ticket.reference == .stored(42) && ticket.priority == .p0 && ticket.alarmCount == 2)
        #expect(ticket.deadlines == stored.deadlines)
        #expect(plan.events.map(\.kind) == [.alarm] && plan.events.first?.ticket == .stored(42))
    }

    @Test func clearingNeverClosesAGasTicket() throws {
        let plan = Self.plan([Self.alarm(7, at: 60, cleared: true)], active: [Self.active(3, .methaneDetector, .p0)])
        #expect(plan.events.map(\.kind) == [.alarmCleared])
        #expect(plan.tickets.first?.status == .open)
    }

    @Test func aClearedDeviceFaultResolvesItsTicketOnlyBeforeACrewIsSent() throws {
        let open = Self.plan(
            [Self.alarm(7, .batteryLow, .p3, at: 60, cleared: true)],
            active: [Self.active(3, .batteryLow, .p3, .acknowledged)]
        )
        #expect(open.events.map(\.kind) == [.alarmCleared, .resolved])
        #expect(open.events.last?.detail == TicketFolding.autoResolvedDetail)
        #expect(open.tickets.first?.status == .resolved && open.tickets.first?.resolvedAt == Self.now)

        let dispatched = Self.plan(
            [Self.alarm(7, .batteryLow, .p3, at: 60, cleared: true)],
            active: [Self.active(3, .batteryLow, .p3, .dispatched)]
        )
        #expect(dispatched.events.map(\.kind) == [.alarmCleared])
        #expect(dispatched.tickets.first?.status == .dispatched)
    }

    @Test func aFaultRaisedAgainAfterItsAutoResolveInTheSameBatchOpensANewTicket() throws {
        let plan = Self.plan([
            Self.alarm(1, .batteryLow, .p3, at: 0),
            Self.alarm(2, .batteryLow, .p3, at: 10, cleared: true),
            Self.alarm(3, .batteryLow, .p3, at: 20),
        ])
        #expect(plan.tickets.map(\.reference) == [.new(0), .new(1)])
        #expect(plan.tickets.map(\.status) == [.resolved, .open])
        #expect(plan.events.map(\.kind) == [.opened, .alarmCleared, .resolved, .opened])
        #expect(plan.events.map(\.ticket) == [.new(0), .new(0), .new(0), .new(1)])
    }

    @Test func aClearedAlarmWithoutATicketAndAWarningOpenNothing() {
        let plan = Self.plan([
            Self.alarm(1, at: 0, cleared: true),
            Self.alarm(2, .continuousFlowWarning, .p2, at: 5),
        ])
        #expect(plan.tickets.isEmpty && plan.events.isEmpty && plan.explained.isEmpty)
    }

    @Test func aPlannedOutageExplainsPressureLossButNeverAGasAlarm() throws {
        let plan = Self.plan([
            Self.alarm(1, .pressureLow, .p0, at: 0, outage: 9),
            Self.alarm(2, .methaneDetector, .p0, at: 0, outage: 9),
        ])
        #expect(plan.explained.map(\.alarmID) == [1] && plan.explained.map(\.outageID) == [9])
        #expect(plan.tickets.map(\.condition) == [.methaneDetector])
    }

    @Test func newTicketsAreNumberedInKeyOrderAcrossMeters() {
        let plan = Self.plan([
            Self.alarm(1, meter: 2, at: 0),
            Self.alarm(2, meter: 1, .tiltOrRemoval, .p1, at: 0),
            Self.alarm(3, meter: 1, at: 0),
        ])
        #expect(plan.tickets.map(\.meterID) == [1, 1, 2])
        #expect(plan.tickets.map(\.condition) == [.methaneDetector, .tiltOrRemoval, .methaneDetector])
        #expect(plan.tickets.map(\.reference) == [.new(0), .new(1), .new(2)])
    }
}

/// When alarms of many meters make a major incident.
@Suite struct MajorIncidentRuleTests {
    static let now = Timestamp(secondsSinceEpoch: 1_780_000_000)

    @Test func onlyRaisedIncidentConditionsOfMetersWithADistrictCount() {
        let rule = MajorIncidentRule()
        func alarm(_ condition: AlarmCondition, district: String?, cleared: Bool = false) -> StoredAlarm {
            StoredAlarm(
                id: 1,
                meterID: 1,
                condition: condition,
                priority: .p0,
                raisedAt: Self.now,
                receivedAt: Self.now,
                isCleared: cleared,
                district: district
            )
        }
        let keys = rule.keys(of: [
            alarm(.seismicShutOff, district: "south"),
            alarm(.pressureLow, district: "north"),
            alarm(.pressureLow, district: "north"),
            alarm(.pressureLow, district: "east", cleared: true),
            alarm(.pressureLow, district: nil),
            alarm(.methaneDetector, district: "west"),
        ])
        #expect(
            keys == [
                .init(district: "north", condition: .pressureLow), .init(district: "south", condition: .seismicShutOff),
            ]
        )
    }

    @Test func theThresholdAndTheWindowComeFromTheRule() {
        let rule = MajorIncidentRule(windowSeconds: 600, minimumMeters: 5)
        #expect(rule.windowStart(at: Self.now) == Self.now.adding(seconds: -600))
        #expect(MajorIncidentRule.staleBefore(Self.now) == Self.now.adding(seconds: -86_400))
        let key = MajorIncidentRule.Key(district: "north", condition: .pressureLow)
        let four = MajorIncidentRule.Count(key: key, meters: 4, firstAlarmAt: Self.now, lastAlarmAt: Self.now)
        var five = four
        five.meters = 5
        #expect(rule.incidents(among: [four]).isEmpty)
        #expect(rule.incidents(among: [four, five]) == [five])
    }
}
