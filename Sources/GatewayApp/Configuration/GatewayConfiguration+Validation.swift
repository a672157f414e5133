import GatewayCore
import GatewayDomain

extension GatewayConfiguration {
    /// `[validation]`: validation before billing (VEE): plausibility rules, error tolerances and the billing day.
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct Validation: Sendable, Equatable {
        var isEnabled = true
        var delaySeconds = 60
        var clockDriftMinutes = 5
        var overloadPercent = 120
        var zeroConsumptionDays = 30
        var highUsagePercent = 500
        var extremeUsagePercent = 1000
        var lowUsagePercent = 20
        var lowUsageFloorLitres = 100
        var averageDailyUseDays = 30
        var minimumHistoryDays = 7
        var boundaryToleranceMinutes = 15
        var dayUTCOffsetMinutes = 0
        var billingDayTimeZone = ""
        /// The zone of billing days, resolved from ``billingDayTimeZone`` or ``dayUTCOffsetMinutes`` at load.
        var billingZone = TimeZoneRules.utc
        var inServiceMPEPercent = 200
        var mpeClass15LowBasisPoints = 300
        var mpeClass15HighBasisPoints = 150
        var mpeClass10LowBasisPoints = 200
        var mpeClass10HighBasisPoints = 100
        var mpeClass05LowBasisPoints = 100
        var mpeClass05HighBasisPoints = 50
    }
}

extension GatewayConfiguration.Validation {
    /// The `[validation]` settings, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "validation",
            key: "enabled",
            kind: .boolean(\.validation.isEnabled),
            help: "Validate readings and publish billing days as data arrives."
        ),
        Setting(
            section: "validation",
            key: "delay_seconds",
            kind: .integer(\.validation.delaySeconds, range: 0...86_400),
            help:
                "Validate a meter this long after its first new data, so a burst of frames is validated once. Days are billed only after they end, so this delays nothing billing sees by more than this."
        ),
        Setting(
            section: "validation",
            key: "clock_drift_tolerance_minutes",
            kind: .integer(\.validation.clockDriftMinutes, range: 1...1440),
            help: "A reading whose meter clock differs from its receive time by more than this is held (clock_drift)."
        ),
        Setting(
            section: "validation",
            key: "overload_percent",
            kind: .integer(\.validation.overloadPercent, range: 100...1000),
            help:
                "Flow and consumption ceiling as a percentage of the meter's Qmax (120: the overload ratio 1.2). Above it: flow_above_max (held), spike (rejected)."
        ),
        Setting(
            section: "validation",
            key: "zero_consumption_days",
            kind: .integer(\.validation.zeroConsumptionDays, range: 1...3650),
            help: "Days of zero consumption with the valve open after which a day is held (zero_consumption)."
        ),
        Setting(
            section: "validation",
            key: "high_usage_percent",
            kind: .integer(\.validation.highUsagePercent, range: 100...100_000),
            help: "A day above this percentage of the meter's average daily use is held (high_usage)."
        ),
        Setting(
            section: "validation",
            key: "extreme_usage_percent",
            kind: .integer(\.validation.extremeUsagePercent, range: 100...100_000),
            help: "A day above this percentage of the meter's average daily use is rejected (extreme_usage)."
        ),
        Setting(
            section: "validation",
            key: "low_usage_percent",
            kind: .integer(\.validation.lowUsagePercent, range: 0...100),
            help: "A day below this percentage of the meter's average daily use is held (low_usage)."
        ),
        Setting(
            section: "validation",
            key: "low_usage_floor_litres",
            kind: .integer(\.validation.lowUsageFloorLitres, range: 0...1_000_000),
            help: "No low-use check for meters whose average daily use is below this (vacant or seasonal premises)."
        ),
        Setting(
            section: "validation",
            key: "average_daily_use_days",
            kind: .integer(\.validation.averageDailyUseDays, range: 1...366),
            help: "Days of history the average daily use is taken over (valid and estimated days only)."
        ),
        Setting(
            section: "validation",
            key: "minimum_history_days",
            kind: .integer(\.validation.minimumHistoryDays, range: 1...366),
            help: "Fewer days of history than this: no high/low use check."
        ),
        Setting(
            section: "validation",
            key: "boundary_tolerance_minutes",
            kind: .integer(\.validation.boundaryToleranceMinutes, range: 0...720),
            help:
                "A reading this close to midnight anchors the day boundary as an actual read; otherwise the boundary is interpolated and the day is estimated."
        ),
        Setting(
            section: "validation",
            key: "in_service_mpe_percent",
            kind: .integer(\.validation.inServiceMPEPercent, range: 100...1000),
            help:
                "Field and dispute accuracy tests are judged against the class MPE times this percentage (200: twice the verification MPE)."
        ),
        Setting(
            section: "validation",
            key: "verification_mpe_class_1_5_low_bp",
            kind: .integer(\.validation.mpeClass15LowBasisPoints, range: 1...10_000),
            help: "First-verification MPE in hundredths of a percent, class 1.5, Qmin ≤ Q < Qt (±3 %)."
        ),
        Setting(
            section: "validation",
            key: "verification_mpe_class_1_5_high_bp",
            kind: .integer(\.validation.mpeClass15HighBasisPoints, range: 1...10_000),
            help: "First-verification MPE in hundredths of a percent, class 1.5, Qt ≤ Q ≤ Qmax (±1.5 %)."
        ),
        Setting(
            section: "validation",
            key: "verification_mpe_class_1_0_low_bp",
            kind: .integer(\.validation.mpeClass10LowBasisPoints, range: 1...10_000),
            help: "First-verification MPE in hundredths of a percent, class 1.0, Qmin ≤ Q < Qt (±2 %)."
        ),
        Setting(
            section: "validation",
            key: "verification_mpe_class_1_0_high_bp",
            kind: .integer(\.validation.mpeClass10HighBasisPoints, range: 1...10_000),
            help: "First-verification MPE in hundredths of a percent, class 1.0, Qt ≤ Q ≤ Qmax (±1 %)."
        ),
        Setting(
            section: "validation",
            key: "verification_mpe_class_0_5_low_bp",
            kind: .integer(\.validation.mpeClass05LowBasisPoints, range: 1...10_000),
            help: "First-verification MPE in hundredths of a percent, class 0.5, Qmin ≤ Q < Qt (±1 %)."
        ),
        Setting(
            section: "validation",
            key: "verification_mpe_class_0_5_high_bp",
            kind: .integer(\.validation.mpeClass05HighBasisPoints, range: 1...10_000),
            help: "First-verification MPE in hundredths of a percent, class 0.5, Qt ≤ Q ≤ Qmax (±0.5 %)."
        ),
        Setting(
            section: "validation",
            key: "billing_day_time_zone",
            kind: .string(\.validation.billingDayTimeZone, isSecret: false, allowed: nil),
            help:
                "Zone of billing days: an IANA name (Europe/Berlin, Asia/Shanghai), whose summer time they follow (a "
                + "23-hour day in spring, a 25-hour one in autumn), or a fixed offset (+08:00). Empty: "
                + "billing_day_utc_offset_minutes. Also the zone of leak-signature days and nights."
        ),
        Setting(
            section: "validation",
            key: "billing_day_utc_offset_minutes",
            kind: .integer(\.validation.dayUTCOffsetMinutes, range: -720...840),
            help:
                "Older form: zone of billing days as a fixed offset, minutes east of UTC (480 for China Standard "
                + "Time). Give this or billing_day_time_zone, not both."
        ),
    ]
}

extension GatewayConfiguration.Validation {
    /// The validation rule parameters these settings describe.
    var rules: ValidationSettings {
        var settings = ValidationSettings()
        settings.clockDriftToleranceSeconds = Int64(clockDriftMinutes) * 60
        settings.overloadPercent = Int64(overloadPercent)
        settings.zeroConsumptionDays = zeroConsumptionDays
        settings.highUsagePercent = Int64(highUsagePercent)
        settings.extremeUsagePercent = Int64(extremeUsagePercent)
        settings.lowUsagePercent = Int64(lowUsagePercent)
        settings.lowUsageFloorMillilitres = Int64(lowUsageFloorLitres) * 1000
        settings.averageDailyUseDays = averageDailyUseDays
        settings.minimumHistoryDays = minimumHistoryDays
        settings.boundaryToleranceSeconds = Int64(boundaryToleranceMinutes) * 60
        settings.billingZone = billingZone
        return settings
    }

    /// The first-verification MPE table these settings describe.
    var mpeTable: MPETable {
        var table = MPETable()
        table.class1_5Low = Int64(mpeClass15LowBasisPoints)
        table.class1_5High = Int64(mpeClass15HighBasisPoints)
        table.class1_0Low = Int64(mpeClass10LowBasisPoints)
        table.class1_0High = Int64(mpeClass10HighBasisPoints)
        table.class0_5Low = Int64(mpeClass05LowBasisPoints)
        table.class0_5High = Int64(mpeClass05HighBasisPoints)
        return table
    }
}
