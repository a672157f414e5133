import GatewayDomain

extension GatewayConfiguration {
    /// `[dispatch]`: emergency dispatch: escalation, incident grouping, inspections and the valve policy.
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct Dispatch: Sendable, Equatable {
        var isEnabled = true
        var escalationIntervalSeconds = 30
        var incidentWindowMinutes = 10
        var incidentMinimumMeters = 5
        var inspectionResidentialMonths = 12
        var inspectionNonResidentialMonths = 6
        var valveCloseOnP0 = false
        var maximumOutageHours = 12

        /// The limits of planned-outage announcements.
        var outagePolicy: PlannedOutagePolicy { PlannedOutagePolicy(maximumHours: maximumOutageHours) }
    }
}

extension GatewayConfiguration.Dispatch {
    /// The `[dispatch]` settings, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "dispatch",
            key: "enabled",
            kind: .boolean(\.dispatch.isEnabled),
            help:
                "Publish every ticket event on <prefix>/dispatch/tickets/<priority> (QoS 1, at least once, in order) and escalate missed deadlines."
        ),
        Setting(
            section: "dispatch",
            key: "escalation_interval_seconds",
            kind: .integer(\.dispatch.escalationIntervalSeconds, range: 1...3600),
            help: "How often tickets are checked for a deadline passed without its step (each escalates once)."
        ),
        Setting(
            section: "dispatch",
            key: "incident_window_minutes",
            kind: .integer(\.dispatch.incidentWindowMinutes, range: 1...1440),
            help:
                "Pressure-loss or seismic shut-off alarms from one district within this window count toward a major incident."
        ),
        Setting(
            section: "dispatch",
            key: "incident_min_meters",
            kind: .integer(\.dispatch.incidentMinimumMeters, range: 2...1_000_000),
            help: "Meters of one district in the window that make a major incident grouping their tickets."
        ),
        Setting(
            section: "dispatch",
            key: "valve_close_on_p0",
            kind: .boolean(\.dispatch.valveCloseOnP0),
            help:
                "Send a valve-close downlink to a native meter as soon as it has a P0 ticket, once per ticket, and record the command and the meter's answer on the ticket. Off by default: closing a customer's supply is a utility's policy decision."
        ),
        Setting(
            section: "dispatch",
            key: "max_outage_hours",
            kind: .integer(\.dispatch.maximumOutageHours, range: 1...168),
            help:
                "The longest planned outage a supervisor may announce, from its start to its end (over HTTP and with tickets outage announce). An outage silences the pressure-loss tickets of a whole district, so it is bounded; it must also not end in the past, and it can be cancelled."
        ),
        Setting(
            section: "dispatch",
            key: "inspection_residential_months",
            kind: .integer(\.dispatch.inspectionResidentialMonths, range: 1...120),
            help: "Residential premises are due for a safety inspection this long after the last one."
        ),
        Setting(
            section: "dispatch",
            key: "inspection_non_residential_months",
            kind: .integer(\.dispatch.inspectionNonResidentialMonths, range: 1...120),
            help: "Commercial and industrial premises are due for a safety inspection this long after the last one."
        ),
    ]
}
