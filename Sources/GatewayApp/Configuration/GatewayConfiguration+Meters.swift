import GatewayCore

extension GatewayConfiguration {
    /// `[meters]`: facts about meters that their frames do not carry, such as the zone of their clocks.
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct Meters: Sendable, Equatable {
        var cjt188ClockOffsetMinutes = 480
        var mbusClockOffsetMinutes = 60
    }
}

extension GatewayConfiguration.Meters {
    /// The `[meters]` settings, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "meters",
            key: "cjt188_clock_utc_offset_minutes",
            kind: .integer(\.meters.cjt188ClockOffsetMinutes, range: -720...840),
            help:
                "Zone of CJ/T 188 meter clocks, in minutes east of UTC (they carry no zone). 480 = China Standard Time."
        ),
        Setting(
            section: "meters",
            key: "mbus_clock_utc_offset_minutes",
            kind: .integer(\.meters.mbusClockOffsetMinutes, range: -720...840),
            help:
                "Zone of wireless and wired M-Bus meter clocks, in minutes east of UTC (they carry no zone). 60 = Central European Time; a fixed offset does not follow summer time."
        ),
    ]
}

extension GatewayConfiguration.Meters {
    /// The zones of meter clocks per protocol.
    var clocks: MeterClocks {
        MeterClocks(
            cjt188: MeterClock(utcOffsetMinutes: cjt188ClockOffsetMinutes),
            mbus: MeterClock(utcOffsetMinutes: mbusClockOffsetMinutes)
        )
    }
}
