import GatewayCore
import GatewayDomain

extension GatewayConfiguration {
    /// `[signatures]`: leak-signature detection over interval consumption.
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct Signatures: Sendable, Equatable {
        var isEnabled = true
        var continuousWarnDays = 1
        var continuousEscalateDays = 7
        var continuousTicketDays = 30
        var totalFlowCutoffPercent = 180
        var increaseCutoffPercent = 140
        var band1FromLitresPerHour = 10
        var band1LimitMinutes = 720
        var band2FromLitresPerHour = 1000
        var band2LimitMinutes = 240
        var band3FromLitresPerHour = 2500
        var band3LimitMinutes = 60
        var nightRisingNights = 3
        var nightFloorLitresPerHour = 10
    }
}

extension GatewayConfiguration.Signatures {
    /// The `[signatures]` settings, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "signatures",
            key: "enabled",
            kind: .boolean(\.signatures.isEnabled),
            help: "Look for leak signatures in validated consumption (and balance districts) while validating."
        ),
        Setting(
            section: "signatures",
            key: "continuous_warn_days",
            kind: .integer(\.signatures.continuousWarnDays, range: 1...3650),
            help: "Days in a row without a zero-flow interval before a continuous_flow_warning (no ticket)."
        ),
        Setting(
            section: "signatures",
            key: "continuous_escalate_days",
            kind: .integer(\.signatures.continuousEscalateDays, range: 1...3650),
            help: "… before a continuous_flow_escalated warning (no ticket)."
        ),
        Setting(
            section: "signatures",
            key: "continuous_ticket_days",
            kind: .integer(\.signatures.continuousTicketDays, range: 1...3650),
            help: "… before a continuous_flow_leak ticket (P2). Premises with a continuous appliance are never flagged."
        ),
        Setting(
            section: "signatures",
            key: "total_flow_cutoff_percent",
            kind: .integer(\.signatures.totalFlowCutoffPercent, range: 100...1000),
            help:
                "Over-flow when an interval's flow exceeds this percentage of the size number in m³/h (180 ≈ the micom total-flow cut-off) or Qmax, whichever is lower."
        ),
        Setting(
            section: "signatures",
            key: "increase_cutoff_percent",
            kind: .integer(\.signatures.increaseCutoffPercent, range: 10...1000),
            help:
                "Sudden increase when flow rises between two intervals by more than this percentage of the size number in m³/h."
        ),
        Setting(
            section: "signatures",
            key: "band_1_from_litres_per_hour",
            kind: .integer(\.signatures.band1FromLitresPerHour, range: 1...1_000_000),
            help:
                "Flow band 1 starts here; continuous use within it longer than band_1_limit_minutes is a continuous_flow_timeout."
        ),
        Setting(
            section: "signatures",
            key: "band_1_limit_minutes",
            kind: .integer(\.signatures.band1LimitMinutes, range: 1...100_000),
            help: "Longest continuous use in band 1 (a fan heater: 12 h)."
        ),
        Setting(
            section: "signatures",
            key: "band_2_from_litres_per_hour",
            kind: .integer(\.signatures.band2FromLitresPerHour, range: 1...1_000_000),
            help: "Flow band 2 starts here."
        ),
        Setting(
            section: "signatures",
            key: "band_2_limit_minutes",
            kind: .integer(\.signatures.band2LimitMinutes, range: 1...100_000),
            help: "Longest continuous use in band 2 (4 h)."
        ),
        Setting(
            section: "signatures",
            key: "band_3_from_litres_per_hour",
            kind: .integer(\.signatures.band3FromLitresPerHour, range: 1...1_000_000),
            help: "Flow band 3 starts here."
        ),
        Setting(
            section: "signatures",
            key: "band_3_limit_minutes",
            kind: .integer(\.signatures.band3LimitMinutes, range: 1...100_000),
            help: "Longest continuous use in band 3 (hot water left running: 1 h)."
        ),
        Setting(
            section: "signatures",
            key: "night_rising_nights",
            kind: .integer(\.signatures.nightRisingNights, range: 1...60),
            help: "Nights in a row of a rising minimum night flow (01:00–05:00 local) that raise night_flow_rising."
        ),
        Setting(
            section: "signatures",
            key: "night_floor_litres_per_hour",
            kind: .integer(\.signatures.nightFloorLitresPerHour, range: 0...1_000_000),
            help: "… only when the last minimum is at least this flow."
        ),
    ]
}

extension GatewayConfiguration {
    /// The leak-signature thresholds these settings describe (`nil` when disabled).
    ///
    /// It lives on the whole configuration because signature days follow
    /// the billing zone (`validation.billing_day_time_zone`).
    var signatureSettings: SignatureSettings? {
        signatures.isEnabled ? chartSignatureSettings : nil
    }

    /// The thresholds and zone the charts mark with (`meters plot`, the dispatch API's SVG routes): the configured
    /// ones, whether or not validation looks for signatures.
    var chartSignatureSettings: SignatureSettings {
        var settings = SignatureSettings()
        settings.continuousWarnDays = signatures.continuousWarnDays
        settings.continuousEscalateDays = signatures.continuousEscalateDays
        settings.continuousTicketDays = signatures.continuousTicketDays
        settings.totalFlowCutoffPercent = Int64(signatures.totalFlowCutoffPercent)
        settings.increaseCutoffPercent = Int64(signatures.increaseCutoffPercent)
        settings.flowBands = [
            (Int64(signatures.band1FromLitresPerHour) * 1000, signatures.band1LimitMinutes),
            (Int64(signatures.band2FromLitresPerHour) * 1000, signatures.band2LimitMinutes),
            (Int64(signatures.band3FromLitresPerHour) * 1000, signatures.band3LimitMinutes),
        ].sorted { $0.0 < $1.0 }
        settings.nightRisingNights = signatures.nightRisingNights
        settings.nightFloorMillilitresPerHour = Int64(signatures.nightFloorLitresPerHour) * 1000
        settings.zone = validation.billingZone
        return settings
    }
}
