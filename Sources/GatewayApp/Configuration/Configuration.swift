import Foundation
import GatewayCore
import GatewayDomain
import TOMLKit

/// Everything the gateway can be configured with. Defaults are safe for a single instance on one host.
///
/// Sources, later ones winning: built-in defaults, the TOML file (`--config`), then environment variables named
/// `METER_GATEWAY_<SECTION>_<KEY>` in upper case (for example `METER_GATEWAY_MQTT_PORT=8883`,
/// `METER_GATEWAY_POSTGRES_CONNINFO=…`). Every setting is listed in ``GatewayConfiguration/settings``, which also
/// produces the documented example file `config/meter-gateway.example.toml`.
struct GatewayConfiguration: Sendable, Equatable {
    // [mqtt]
    var mqttHost = "127.0.0.1"
    var mqttPort = 1883
    var mqttClientID = "meter-gateway-1"
    var mqttUsername = ""
    var mqttPassword = ""
    var mqttKeepAliveSeconds = 30
    var mqttSessionExpirySeconds = 7 * 24 * 3600
    var mqttReceiveMaximum = 200
    var mqttTopicPrefix = "gm/v1"
    var mqttSharedGroup = ""
    var mqttSharedSessionExpirySeconds = 0
    var mqttMaxPayloadBytes = AdmissionLadder.defaultMaxPayloadBytes
    var mqttReconnectMinMilliseconds = 500
    var mqttReconnectMaxMilliseconds = 30_000
    var mqttTLSEnabled = false
    var mqttTLSCAFile = ""
    var mqttTLSCertFile = ""
    var mqttTLSKeyFile = ""
    var mqttTLSVerifyHostname = true
    // [postgres]
    var postgresConninfo = "host=127.0.0.1 port=5432 dbname=meter_gateway user=meter_gateway"
    // [spool]
    var spoolDirectory = "/var/lib/meter-gateway/spool"
    var spoolSegmentMegabytes = 64
    var spoolFsyncIntervalMilliseconds = 200
    var spoolMaxBacklogMegabytes = 256
    // [pipeline]
    var pipelineMaxBatchFrames = 2000
    var pipelineRetryMinMilliseconds = 200
    var pipelineRetryMaxMilliseconds = 10_000
    var pipelineAckNative = true
    var pipelineDedupeHorizonDays = 7
    // [meters]
    var metersCJT188ClockOffsetMinutes = 480
    var metersMBusClockOffsetMinutes = 60
    // [tickets]
    var ticketP0UrbanArriveMinutes = 30
    var ticketP0RuralArriveMinutes = 60
    var ticketP0MakeSafeMinutes = 360
    var ticketP1ArriveMinutes = 120
    var ticketP2ArriveMinutes = 1440
    var ticketRepairMinutes = 1440
    var ticketP3ScheduleMinutes = 4320
    // [http]
    var httpEnabled = true
    var httpHost = "127.0.0.1"
    var httpPort = 8080
    var httpReviewToken = ""
    var httpDispatchToken = ""
    // [dispatch]
    var dispatchEnabled = true
    var dispatchEscalationIntervalSeconds = 30
    var dispatchIncidentWindowMinutes = 10
    var dispatchIncidentMinimumMeters = 5
    var dispatchInspectionResidentialMonths = 12
    var dispatchInspectionNonResidentialMonths = 6
    var dispatchValveCloseOnP0 = false
    // [signatures]
    var signaturesEnabled = true
    var signaturesContinuousWarnDays = 1
    var signaturesContinuousEscalateDays = 7
    var signaturesContinuousTicketDays = 30
    var signaturesTotalFlowCutoffPercent = 180
    var signaturesIncreaseCutoffPercent = 140
    var signaturesBand1FromLitresPerHour = 10
    var signaturesBand1LimitMinutes = 720
    var signaturesBand2FromLitresPerHour = 1000
    var signaturesBand2LimitMinutes = 240
    var signaturesBand3FromLitresPerHour = 2500
    var signaturesBand3LimitMinutes = 60
    var signaturesNightRisingNights = 3
    var signaturesNightFloorLitresPerHour = 10
    // [validation]
    var validationEnabled = true
    var validationDelaySeconds = 60
    var validationClockDriftMinutes = 5
    var validationOverloadPercent = 120
    var validationZeroConsumptionDays = 30
    var validationHighUsagePercent = 500
    var validationExtremeUsagePercent = 1000
    var validationLowUsagePercent = 20
    var validationLowUsageFloorLitres = 100
    var validationAverageDailyUseDays = 30
    var validationMinimumHistoryDays = 7
    var validationBoundaryToleranceMinutes = 15
    var validationDayUTCOffsetMinutes = 0
    var validationInServiceMPEPercent = 200
    var validationMPEClass15LowBasisPoints = 300
    var validationMPEClass15HighBasisPoints = 150
    var validationMPEClass10LowBasisPoints = 200
    var validationMPEClass10HighBasisPoints = 100
    var validationMPEClass05LowBasisPoints = 100
    var validationMPEClass05HighBasisPoints = 50
    // [log]
    var logLevel = "info"

    /// The validation rule parameters these settings describe.
    var validationSettings: ValidationSettings {
        var settings = ValidationSettings()
        settings.clockDriftToleranceSeconds = Int64(validationClockDriftMinutes) * 60
        settings.overloadPercent = Int64(validationOverloadPercent)
        settings.zeroConsumptionDays = validationZeroConsumptionDays
        settings.highUsagePercent = Int64(validationHighUsagePercent)
        settings.extremeUsagePercent = Int64(validationExtremeUsagePercent)
        settings.lowUsagePercent = Int64(validationLowUsagePercent)
        settings.lowUsageFloorMillilitres = Int64(validationLowUsageFloorLitres) * 1000
        settings.averageDailyUseDays = validationAverageDailyUseDays
        settings.minimumHistoryDays = validationMinimumHistoryDays
        settings.boundaryToleranceSeconds = Int64(validationBoundaryToleranceMinutes) * 60
        settings.dayUTCOffsetSeconds = Int64(validationDayUTCOffsetMinutes) * 60
        return settings
    }

    /// The leak-signature thresholds these settings describe (`nil` when disabled).
    var signatureSettings: SignatureSettings? {
        guard signaturesEnabled else { return nil }
        var settings = SignatureSettings()
        settings.continuousWarnDays = signaturesContinuousWarnDays
        settings.continuousEscalateDays = signaturesContinuousEscalateDays
        settings.continuousTicketDays = signaturesContinuousTicketDays
        settings.totalFlowCutoffPercent = Int64(signaturesTotalFlowCutoffPercent)
        settings.increaseCutoffPercent = Int64(signaturesIncreaseCutoffPercent)
        settings.flowBands = [
            (Int64(signaturesBand1FromLitresPerHour) * 1000, signaturesBand1LimitMinutes),
            (Int64(signaturesBand2FromLitresPerHour) * 1000, signaturesBand2LimitMinutes),
            (Int64(signaturesBand3FromLitresPerHour) * 1000, signaturesBand3LimitMinutes),
        ].sorted { $0.0 < $1.0 }
        settings.nightRisingNights = signaturesNightRisingNights
        settings.nightFloorMillilitresPerHour = Int64(signaturesNightFloorLitresPerHour) * 1000
        settings.utcOffsetSeconds = Int64(validationDayUTCOffsetMinutes) * 60
        return settings
    }

    /// The first-verification MPE table these settings describe.
    var mpeTable: MPETable {
        var table = MPETable()
        table.class1_5Low = Int64(validationMPEClass15LowBasisPoints)
        table.class1_5High = Int64(validationMPEClass15HighBasisPoints)
        table.class1_0Low = Int64(validationMPEClass10LowBasisPoints)
        table.class1_0High = Int64(validationMPEClass10HighBasisPoints)
        table.class0_5Low = Int64(validationMPEClass05LowBasisPoints)
        table.class0_5High = Int64(validationMPEClass05HighBasisPoints)
        return table
    }

    /// The zones of meter clocks per protocol.
    var meterClocks: MeterClocks {
        MeterClocks(
            cjt188: MeterClock(utcOffsetMinutes: metersCJT188ClockOffsetMinutes),
            mbus: MeterClock(utcOffsetMinutes: metersMBusClockOffsetMinutes)
        )
    }

    /// The ticket policy these settings describe.
    var ticketPolicy: TicketPolicy {
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
                arrive: ticketP0UrbanArriveMinutes,
                makeSafe: ticketP0MakeSafeMinutes,
                repair: ticketRepairMinutes
            ),
            p0Rural: deadlines(
                base.p0Rural,
                arrive: ticketP0RuralArriveMinutes,
                makeSafe: ticketP0MakeSafeMinutes,
                repair: ticketRepairMinutes
            ),
            p1: deadlines(
                base.p1,
                arrive: ticketP1ArriveMinutes,
                makeSafe: ticketP0MakeSafeMinutes,
                repair: ticketRepairMinutes
            ),
            p2: deadlines(base.p2, arrive: ticketP2ArriveMinutes, repair: ticketRepairMinutes),
            p3: deadlines(base.p3, arrive: ticketP3ScheduleMinutes, repair: ticketP3ScheduleMinutes)
        )
    }
}

/// A configuration problem, always naming the setting (`mqtt.port`) and never echoing a secret's value.
struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    var setting: String
    var problem: String
    var description: String { setting.isEmpty ? "configuration: \(problem)" : "configuration: \(setting): \(problem)" }
}

/// One documented setting: where it lives, how it is read and checked.
struct Setting: Sendable {
    enum Kind: Sendable {
        case string(any WritableKeyPath<GatewayConfiguration, String> & Sendable, isSecret: Bool, allowed: [String]?)
        case integer(any WritableKeyPath<GatewayConfiguration, Int> & Sendable, range: ClosedRange<Int>)
        case boolean(any WritableKeyPath<GatewayConfiguration, Bool> & Sendable)
    }

    var section: String
    var key: String
    var kind: Kind
    var help: String

    var name: String { "\(section).\(key)" }
    var environmentName: String {
        "METER_GATEWAY_" + (section + "_" + key).uppercased().replacingOccurrences(of: ".", with: "_")
    }
}

extension GatewayConfiguration {
    /// Every setting, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "mqtt",
            key: "host",
            kind: .string(\.mqttHost, isSecret: false, allowed: nil),
            help: "Broker host name or address."
        ),
        Setting(
            section: "mqtt",
            key: "port",
            kind: .integer(\.mqttPort, range: 1...65535),
            help: "Broker port (1883 plain, 8883 TLS by convention)."
        ),
        Setting(
            section: "mqtt",
            key: "client_id",
            kind: .string(\.mqttClientID, isSecret: false, allowed: nil),
            help:
                "Fixed client id. With clean start off the broker keeps this session's queued QoS 1 frames while the gateway is down; give every instance its own id."
        ),
        Setting(
            section: "mqtt",
            key: "username",
            kind: .string(\.mqttUsername, isSecret: false, allowed: nil),
            help: "User name; empty for none."
        ),
        Setting(
            section: "mqtt",
            key: "password",
            kind: .string(\.mqttPassword, isSecret: true, allowed: nil),
            help: "Password; empty for none. Prefer the environment variable METER_GATEWAY_MQTT_PASSWORD over the file."
        ),
        Setting(
            section: "mqtt",
            key: "keepalive_seconds",
            kind: .integer(\.mqttKeepAliveSeconds, range: 5...3600),
            help: "MQTT keep-alive interval."
        ),
        Setting(
            section: "mqtt",
            key: "session_expiry_seconds",
            kind: .integer(\.mqttSessionExpirySeconds, range: 0...Int(UInt32.max)),
            help:
                "MQTT v5 session expiry: how long the broker keeps the session (and queues frames) after a disconnect."
        ),
        Setting(
            section: "mqtt",
            key: "receive_maximum",
            kind: .integer(\.mqttReceiveMaximum, range: 1...65535),
            help: "MQTT v5 receive maximum: QoS 1 frames the broker may have in flight to the gateway."
        ),
        Setting(
            section: "mqtt",
            key: "topic_prefix",
            kind: .string(\.mqttTopicPrefix, isSecret: false, allowed: nil),
            help:
                "Topic prefix. Uplinks: <prefix>/up/<protocol>/<meter id>; downlinks: <prefix>/down/<protocol>/<meter id>."
        ),
        Setting(
            section: "mqtt",
            key: "shared_group",
            kind: .string(\.mqttSharedGroup, isSecret: false, allowed: nil),
            help:
                "If set, subscribe as $share/<group>/… so several instances split the fleet (MQTT v5 shared subscription). "
                + "Each instance then connects with clean start and mqtt.shared_session_expiry_seconds instead of a "
                + "persistent session: a persistent member that dies would keep its share of frames, alarms included, "
                + "queued at the broker until its session expires; a clean member's share goes to the living members "
                + "at once. Frames in flight to a member when it dies (at most mqtt.receive_maximum, acknowledged by "
                + "the broker's rules only) are lost inside the broker: native meters resend them (no app ack), other "
                + "protocols' frames in that window are lost."
        ),
        Setting(
            section: "mqtt",
            key: "shared_session_expiry_seconds",
            kind: .integer(\.mqttSharedSessionExpirySeconds, range: 0...3600),
            help:
                "Session expiry of an instance in a shared group (clean start). 0 hands a dead member's share to the "
                + "others at once; a few seconds let a member that restarts at once keep its in-flight frames."
        ),
        Setting(
            section: "mqtt",
            key: "max_payload_bytes",
            kind: .integer(\.mqttMaxPayloadBytes, range: 64...1_048_576),
            help:
                "Largest payload admitted (default: a little above the largest frame a supported protocol allows). "
                + "A larger one is quarantined as frame_too_large with its first 64 bytes and its size, never spooled whole."
        ),
        Setting(
            section: "mqtt",
            key: "reconnect_min_ms",
            kind: .integer(\.mqttReconnectMinMilliseconds, range: 10...600_000),
            help: "Shortest reconnect delay."
        ),
        Setting(
            section: "mqtt",
            key: "reconnect_max_ms",
            kind: .integer(\.mqttReconnectMaxMilliseconds, range: 100...3_600_000),
            help: "Longest reconnect delay; delays grow exponentially with full jitter up to this."
        ),
        Setting(section: "mqtt.tls", key: "enabled", kind: .boolean(\.mqttTLSEnabled), help: "Connect with TLS."),
        Setting(
            section: "mqtt.tls",
            key: "ca_file",
            kind: .string(\.mqttTLSCAFile, isSecret: false, allowed: nil),
            help: "PEM file of trusted CAs (required with TLS)."
        ),
        Setting(
            section: "mqtt.tls",
            key: "cert_file",
            kind: .string(\.mqttTLSCertFile, isSecret: false, allowed: nil),
            help: "Client certificate (PEM) for mutual TLS; empty for none."
        ),
        Setting(
            section: "mqtt.tls",
            key: "key_file",
            kind: .string(\.mqttTLSKeyFile, isSecret: false, allowed: nil),
            help: "Client private key (PEM) for mutual TLS; empty for none."
        ),
        Setting(
            section: "mqtt.tls",
            key: "verify_hostname",
            kind: .boolean(\.mqttTLSVerifyHostname),
            help: "Check the broker certificate's host name. Leave on."
        ),
        Setting(
            section: "postgres",
            key: "conninfo",
            kind: .string(\.postgresConninfo, isSecret: true, allowed: nil),
            help:
                "libpq connection string. Put the password in PGPASSWORD or ~/.pgpass, or set METER_GATEWAY_POSTGRES_CONNINFO."
        ),
        Setting(
            section: "spool",
            key: "directory",
            kind: .string(\.spoolDirectory, isSecret: false, allowed: nil),
            help:
                "Folder of the durable spool (local disk). Every received frame is written here before it is acknowledged to the broker."
        ),
        Setting(
            section: "spool",
            key: "segment_mb",
            kind: .integer(\.spoolSegmentMegabytes, range: 1...4096),
            help: "Spool segment size."
        ),
        Setting(
            section: "spool",
            key: "fsync_interval_ms",
            kind: .integer(\.spoolFsyncIntervalMilliseconds, range: 0...60_000),
            help:
                "fdatasync the spool at most this often. A process crash loses nothing; an OS crash or power cut loses at most this interval of received frames. 0 syncs every frame."
        ),
        Setting(
            section: "spool",
            key: "max_backlog_mb",
            kind: .integer(\.spoolMaxBacklogMegabytes, range: 1...1_048_576),
            help: "Received-but-uncommitted bytes at which the gateway stops reading from the broker (backpressure)."
        ),
        Setting(
            section: "pipeline",
            key: "max_batch_frames",
            kind: .integer(\.pipelineMaxBatchFrames, range: 1...100_000),
            help: "Most frames per database transaction."
        ),
        Setting(
            section: "pipeline",
            key: "retry_min_ms",
            kind: .integer(\.pipelineRetryMinMilliseconds, range: 10...600_000),
            help: "First delay before retrying a failed database commit."
        ),
        Setting(
            section: "pipeline",
            key: "retry_max_ms",
            kind: .integer(\.pipelineRetryMaxMilliseconds, range: 10...3_600_000),
            help: "Longest delay between commit retries."
        ),
        Setting(
            section: "pipeline",
            key: "ack_native",
            kind: .boolean(\.pipelineAckNative),
            help: "Send the native protocol's application ack (with server time) to the meter after each commit."
        ),
        Setting(
            section: "pipeline",
            key: "dedupe_horizon_days",
            kind: .integer(\.pipelineDedupeHorizonDays, range: 1...3650),
            help:
                "How long a stored frame's identity is kept to recognise a redelivery (spool replay, broker "
                + "redelivery, retained message, meter retry) as a duplicate. Frames without a counter or meter clock "
                + "are known only by it."
        ),
        Setting(
            section: "meters",
            key: "cjt188_clock_utc_offset_minutes",
            kind: .integer(\.metersCJT188ClockOffsetMinutes, range: -720...840),
            help:
                "Zone of CJ/T 188 meter clocks, in minutes east of UTC (they carry no zone). 480 = China Standard Time."
        ),
        Setting(
            section: "meters",
            key: "mbus_clock_utc_offset_minutes",
            kind: .integer(\.metersMBusClockOffsetMinutes, range: -720...840),
            help:
                "Zone of wireless and wired M-Bus meter clocks, in minutes east of UTC (they carry no zone). 60 = Central European Time; a fixed offset does not follow summer time."
        ),
        Setting(
            section: "tickets",
            key: "p0_urban_arrive_minutes",
            kind: .integer(\.ticketP0UrbanArriveMinutes, range: 1...10_080),
            help: "P0 (uncontrolled escape) arrival deadline in urban districts."
        ),
        Setting(
            section: "tickets",
            key: "p0_rural_arrive_minutes",
            kind: .integer(\.ticketP0RuralArriveMinutes, range: 1...10_080),
            help: "P0 arrival deadline in rural districts."
        ),
        Setting(
            section: "tickets",
            key: "p0_make_safe_minutes",
            kind: .integer(\.ticketP0MakeSafeMinutes, range: 1...10_080),
            help: "P0/P1 make-safe deadline (network faults handled within 6 h)."
        ),
        Setting(
            section: "tickets",
            key: "p1_arrive_minutes",
            kind: .integer(\.ticketP1ArriveMinutes, range: 1...10_080),
            help: "P1 (controlled escape) arrival deadline."
        ),
        Setting(
            section: "tickets",
            key: "p2_arrive_minutes",
            kind: .integer(\.ticketP2ArriveMinutes, range: 1...10_080),
            help: "P2 (suspected leak) visit deadline."
        ),
        Setting(
            section: "tickets",
            key: "repair_minutes",
            kind: .integer(\.ticketRepairMinutes, range: 1...43_200),
            help: "Repair deadline for P0–P2 (repaired within 24 h)."
        ),
        Setting(
            section: "tickets",
            key: "p3_schedule_minutes",
            kind: .integer(\.ticketP3ScheduleMinutes, range: 1...43_200),
            help: "P3 (device fault) visit and repair deadline."
        ),
        Setting(
            section: "http",
            key: "enabled",
            kind: .boolean(\.httpEnabled),
            help: "Serve /healthz, /readyz and /metrics."
        ),
        Setting(
            section: "http",
            key: "host",
            kind: .string(\.httpHost, isSecret: false, allowed: nil),
            help: "HTTP listen address."
        ),
        Setting(section: "http", key: "port", kind: .integer(\.httpPort, range: 1...65535), help: "HTTP listen port."),
        Setting(
            section: "http",
            key: "review_token",
            kind: .string(\.httpReviewToken, isSecret: true, allowed: nil),
            help:
                "Bearer token reviewers send to accept or reject held reads over HTTP (POST /review/v1/decisions). Empty disables review over HTTP; the billing API is read-only either way."
        ),
        Setting(
            section: "http",
            key: "dispatch_token",
            kind: .string(\.httpDispatchToken, isSecret: true, allowed: nil),
            help:
                "Bearer token of the dispatch API (/dispatch/v1/…: tickets, lifecycle steps, hotline tickets, outages, reports). Empty disables it."
        ),
        Setting(
            section: "dispatch",
            key: "enabled",
            kind: .boolean(\.dispatchEnabled),
            help:
                "Publish every ticket event on <prefix>/dispatch/tickets/<priority> (QoS 1, at least once, in order) and escalate missed deadlines."
        ),
        Setting(
            section: "dispatch",
            key: "escalation_interval_seconds",
            kind: .integer(\.dispatchEscalationIntervalSeconds, range: 1...3600),
            help: "How often tickets are checked for a deadline passed without its step (each escalates once)."
        ),
        Setting(
            section: "dispatch",
            key: "incident_window_minutes",
            kind: .integer(\.dispatchIncidentWindowMinutes, range: 1...1440),
            help:
                "Pressure-loss or seismic shut-off alarms from one district within this window count toward a major incident."
        ),
        Setting(
            section: "dispatch",
            key: "incident_min_meters",
            kind: .integer(\.dispatchIncidentMinimumMeters, range: 2...1_000_000),
            help: "Meters of one district in the window that make a major incident grouping their tickets."
        ),
        Setting(
            section: "dispatch",
            key: "valve_close_on_p0",
            kind: .boolean(\.dispatchValveCloseOnP0),
            help:
                "Send a valve-close downlink to a native meter as soon as it has a P0 ticket, once per ticket, and record the command and the meter's answer on the ticket. Off by default: closing a customer's supply is a utility's policy decision."
        ),
        Setting(
            section: "dispatch",
            key: "inspection_residential_months",
            kind: .integer(\.dispatchInspectionResidentialMonths, range: 1...120),
            help: "Residential premises are due for a safety inspection this long after the last one."
        ),
        Setting(
            section: "dispatch",
            key: "inspection_non_residential_months",
            kind: .integer(\.dispatchInspectionNonResidentialMonths, range: 1...120),
            help: "Commercial and industrial premises are due for a safety inspection this long after the last one."
        ),
        Setting(
            section: "signatures",
            key: "enabled",
            kind: .boolean(\.signaturesEnabled),
            help: "Look for leak signatures in validated consumption (and balance districts) while validating."
        ),
        Setting(
            section: "signatures",
            key: "continuous_warn_days",
            kind: .integer(\.signaturesContinuousWarnDays, range: 1...3650),
            help: "Days in a row without a zero-flow interval before a continuous_flow_warning (no ticket)."
        ),
        Setting(
            section: "signatures",
            key: "continuous_escalate_days",
            kind: .integer(\.signaturesContinuousEscalateDays, range: 1...3650),
            help: "… before a continuous_flow_escalated warning (no ticket)."
        ),
        Setting(
            section: "signatures",
            key: "continuous_ticket_days",
            kind: .integer(\.signaturesContinuousTicketDays, range: 1...3650),
            help: "… before a continuous_flow_leak ticket (P2). Premises with a continuous appliance are never flagged."
        ),
        Setting(
            section: "signatures",
            key: "total_flow_cutoff_percent",
            kind: .integer(\.signaturesTotalFlowCutoffPercent, range: 100...1000),
            help:
                "Over-flow when an interval's flow exceeds this percentage of the size number in m³/h (180 ≈ the micom total-flow cut-off) or Qmax, whichever is lower."
        ),
        Setting(
            section: "signatures",
            key: "increase_cutoff_percent",
            kind: .integer(\.signaturesIncreaseCutoffPercent, range: 10...1000),
            help:
                "Sudden increase when flow rises between two intervals by more than this percentage of the size number in m³/h."
        ),
        Setting(
            section: "signatures",
            key: "band_1_from_litres_per_hour",
            kind: .integer(\.signaturesBand1FromLitresPerHour, range: 1...1_000_000),
            help:
                "Flow band 1 starts here; continuous use within it longer than band_1_limit_minutes is a continuous_flow_timeout."
        ),
        Setting(
            section: "signatures",
            key: "band_1_limit_minutes",
            kind: .integer(\.signaturesBand1LimitMinutes, range: 1...100_000),
            help: "Longest continuous use in band 1 (a fan heater: 12 h)."
        ),
        Setting(
            section: "signatures",
            key: "band_2_from_litres_per_hour",
            kind: .integer(\.signaturesBand2FromLitresPerHour, range: 1...1_000_000),
            help: "Flow band 2 starts here."
        ),
        Setting(
            section: "signatures",
            key: "band_2_limit_minutes",
            kind: .integer(\.signaturesBand2LimitMinutes, range: 1...100_000),
            help: "Longest continuous use in band 2 (4 h)."
        ),
        Setting(
            section: "signatures",
            key: "band_3_from_litres_per_hour",
            kind: .integer(\.signaturesBand3FromLitresPerHour, range: 1...1_000_000),
            help: "Flow band 3 starts here."
        ),
        Setting(
            section: "signatures",
            key: "band_3_limit_minutes",
            kind: .integer(\.signaturesBand3LimitMinutes, range: 1...100_000),
            help: "Longest continuous use in band 3 (hot water left running: 1 h)."
        ),
        Setting(
            section: "signatures",
            key: "night_rising_nights",
            kind: .integer(\.signaturesNightRisingNights, range: 1...60),
            help: "Nights in a row of a rising minimum night flow (01:00–05:00 local) that raise night_flow_rising."
        ),
        Setting(
            section: "signatures",
            key: "night_floor_litres_per_hour",
            kind: .integer(\.signaturesNightFloorLitresPerHour, range: 0...1_000_000),
            help: "… only when the last minimum is at least this flow."
        ),
        Setting(
            section: "validation",
            key: "enabled",
            kind: .boolean(\.validationEnabled),
            help: "Validate readings and publish billing days as data arrives."
        ),
        Setting(
            section: "validation",
            key: "delay_seconds",
            kind: .integer(\.validationDelaySeconds, range: 0...86_400),
            help:
                "Validate a meter this long after its first new data, so a burst of frames is validated once. Days are billed only after they end, so this delays nothing billing sees by more than this."
        ),
        Setting(
            section: "validation",
            key: "clock_drift_tolerance_minutes",
            kind: .integer(\.validationClockDriftMinutes, range: 1...1440),
            help: "A reading whose meter clock differs from its receive time by more than this is held (clock_drift)."
        ),
        Setting(
            section: "validation",
            key: "overload_percent",
            kind: .integer(\.validationOverloadPercent, range: 100...1000),
            help:
                "Flow and consumption ceiling as a percentage of the meter's Qmax (120: the overload ratio 1.2). Above it: flow_above_max (held), spike (rejected)."
        ),
        Setting(
            section: "validation",
            key: "zero_consumption_days",
            kind: .integer(\.validationZeroConsumptionDays, range: 1...3650),
            help: "Days of zero consumption with the valve open after which a day is held (zero_consumption)."
        ),
        Setting(
            section: "validation",
            key: "high_usage_percent",
            kind: .integer(\.validationHighUsagePercent, range: 100...100_000),
            help: "A day above this percentage of the meter's average daily use is held (high_usage)."
        ),
        Setting(
            section: "validation",
            key: "extreme_usage_percent",
            kind: .integer(\.validationExtremeUsagePercent, range: 100...100_000),
            help: "A day above this percentage of the meter's average daily use is rejected (extreme_usage)."
        ),
        Setting(
            section: "validation",
            key: "low_usage_percent",
            kind: .integer(\.validationLowUsagePercent, range: 0...100),
            help: "A day below this percentage of the meter's average daily use is held (low_usage)."
        ),
        Setting(
            section: "validation",
            key: "low_usage_floor_litres",
            kind: .integer(\.validationLowUsageFloorLitres, range: 0...1_000_000),
            help: "No low-use check for meters whose average daily use is below this (vacant or seasonal premises)."
        ),
        Setting(
            section: "validation",
            key: "average_daily_use_days",
            kind: .integer(\.validationAverageDailyUseDays, range: 1...366),
            help: "Days of history the average daily use is taken over (valid and estimated days only)."
        ),
        Setting(
            section: "validation",
            key: "minimum_history_days",
            kind: .integer(\.validationMinimumHistoryDays, range: 1...366),
            help: "Fewer days of history than this: no high/low use check."
        ),
        Setting(
            section: "validation",
            key: "boundary_tolerance_minutes",
            kind: .integer(\.validationBoundaryToleranceMinutes, range: 0...720),
            help:
                "A reading this close to midnight anchors the day boundary as an actual read; otherwise the boundary is interpolated and the day is estimated."
        ),
        Setting(
            section: "validation",
            key: "in_service_mpe_percent",
            kind: .integer(\.validationInServiceMPEPercent, range: 100...1000),
            help:
                "Field and dispute accuracy tests are judged against the class MPE times this percentage (200: twice the verification MPE)."
        ),
        Setting(
            section: "validation",
            key: "verification_mpe_class_1_5_low_bp",
            kind: .integer(\.validationMPEClass15LowBasisPoints, range: 1...10_000),
            help: "First-verification MPE in hundredths of a percent, class 1.5, Qmin ≤ Q < Qt (±3 %)."
        ),
        Setting(
            section: "validation",
            key: "verification_mpe_class_1_5_high_bp",
            kind: .integer(\.validationMPEClass15HighBasisPoints, range: 1...10_000),
            help: "First-verification MPE in hundredths of a percent, class 1.5, Qt ≤ Q ≤ Qmax (±1.5 %)."
        ),
        Setting(
            section: "validation",
            key: "verification_mpe_class_1_0_low_bp",
            kind: .integer(\.validationMPEClass10LowBasisPoints, range: 1...10_000),
            help: "First-verification MPE in hundredths of a percent, class 1.0, Qmin ≤ Q < Qt (±2 %)."
        ),
        Setting(
            section: "validation",
            key: "verification_mpe_class_1_0_high_bp",
            kind: .integer(\.validationMPEClass10HighBasisPoints, range: 1...10_000),
            help: "First-verification MPE in hundredths of a percent, class 1.0, Qt ≤ Q ≤ Qmax (±1 %)."
        ),
        Setting(
            section: "validation",
            key: "verification_mpe_class_0_5_low_bp",
            kind: .integer(\.validationMPEClass05LowBasisPoints, range: 1...10_000),
            help: "First-verification MPE in hundredths of a percent, class 0.5, Qmin ≤ Q < Qt (±1 %)."
        ),
        Setting(
            section: "validation",
            key: "verification_mpe_class_0_5_high_bp",
            kind: .integer(\.validationMPEClass05HighBasisPoints, range: 1...10_000),
            help: "First-verification MPE in hundredths of a percent, class 0.5, Qt ≤ Q ≤ Qmax (±0.5 %)."
        ),
        Setting(
            section: "validation",
            key: "billing_day_utc_offset_minutes",
            kind: .integer(\.validationDayUTCOffsetMinutes, range: -720...840),
            help: "Zone of billing days, minutes east of UTC (480 for China Standard Time)."
        ),
        Setting(
            section: "log",
            key: "level",
            kind: .string(
                \.logLevel,
                isSecret: false,
                allowed: ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            ),
            help: "Log level."
        ),
    ]

    /// Reads defaults, then the TOML text (if any), then the environment; checks every value.
    /// - Parameters:
    ///   - tomlText: The configuration file's text, or `nil` for none.
    ///   - environment: Variables to apply as overrides (normally the process environment).
    /// - Throws: ``ConfigurationError`` naming the first bad setting.
    static func load(tomlText: String?, environment: [String: String]) throws -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        if let tomlText {
            let table: TOMLTable
            do {
                table = try TOMLTable(string: tomlText)
            } catch let error as TOMLParseError {
                throw ConfigurationError(
                    setting: "",
                    problem:
                        "file is not valid TOML at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)"
                )
            }
            try configuration.apply(table: table, prefix: "")
        }
        for setting in settings {
            if let text = environment[setting.environmentName] {
                try configuration.assign(setting, fromText: text, origin: setting.environmentName)
            }
        }
        for name in environment.keys where name.hasPrefix("METER_GATEWAY_") {
            if !settings.contains(where: { $0.environmentName == name }) {
                throw ConfigurationError(setting: name, problem: "unknown environment setting")
            }
        }
        try configuration.validateCombinations()
        return configuration
    }

    private mutating func apply(table: TOMLTable, prefix: String) throws {
        for (key, value) in table {
            let name = prefix.isEmpty ? key : "\(prefix).\(key)"
            if let nested = value.table {
                guard Self.settings.contains(where: { $0.section == name || $0.section.hasPrefix(name + ".") }) else {
                    throw ConfigurationError(setting: name, problem: "unknown section")
                }
                try apply(table: nested, prefix: name)
                continue
            }
            guard let setting = Self.settings.first(where: { $0.name == name }) else {
                throw ConfigurationError(setting: name, problem: "unknown setting")
            }
            switch setting.kind {
            case .string:
                guard let text = value.string else {
                    throw ConfigurationError(setting: name, problem: "must be a string")
                }
                try assign(setting, fromText: text, origin: name)
            case .integer:
                guard let number = value.int else {
                    throw ConfigurationError(setting: name, problem: "must be an integer")
                }
                try assign(setting, fromText: String(number), origin: name)
            case .boolean:
                guard let flag = value.bool else {
                    throw ConfigurationError(setting: name, problem: "must be true or false")
                }
                try assign(setting, fromText: flag ? "true" : "false", origin: name)
            }
        }
    }

    private mutating func assign(_ setting: Setting, fromText text: String, origin: String) throws {
        let name = origin == setting.name ? setting.name : "\(setting.name) (from \(origin))"
        switch setting.kind {
        case .string(let path, let isSecret, let allowed):
            if let allowed, !allowed.contains(text) {
                let shown = isSecret ? "the given value" : "\"\(text)\""
                throw ConfigurationError(
                    setting: name,
                    problem: "\(shown) is not one of \(allowed.joined(separator: ", "))"
                )
            }
            self[keyPath: path] = text
        case .integer(let path, let range):
            guard let number = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigurationError(setting: name, problem: "\"\(text)\" is not an integer")
            }
            guard range.contains(number) else {
                throw ConfigurationError(
                    setting: name,
                    problem: "\(number) is outside \(range.lowerBound)…\(range.upperBound)"
                )
            }
            self[keyPath: path] = number
        case .boolean(let path):
            switch text.lowercased() {
            case "true", "1", "yes", "on": self[keyPath: path] = true
            case "false", "0", "no", "off": self[keyPath: path] = false
            default: throw ConfigurationError(setting: name, problem: "\"\(text)\" is not true or false")
            }
        }
    }

    private func validateCombinations() throws {
        if mqttHost.isEmpty { throw ConfigurationError(setting: "mqtt.host", problem: "must not be empty") }
        if mqttClientID.isEmpty || mqttClientID.contains(where: { $0.isWhitespace }) {
            throw ConfigurationError(setting: "mqtt.client_id", problem: "must be a non-empty id without spaces")
        }
        if mqttTopicPrefix.isEmpty || mqttTopicPrefix.contains("#") || mqttTopicPrefix.contains("+")
            || mqttTopicPrefix.hasSuffix("/")
        {
            throw ConfigurationError(
                setting: "mqtt.topic_prefix",
                problem: "must be non-empty, without wildcards or a trailing /"
            )
        }
        if mqttSharedGroup.contains("/") || mqttSharedGroup.contains("#") || mqttSharedGroup.contains("+") {
            throw ConfigurationError(setting: "mqtt.shared_group", problem: "must not contain /, # or +")
        }
        if mqttReconnectMinMilliseconds > mqttReconnectMaxMilliseconds {
            throw ConfigurationError(setting: "mqtt.reconnect_min_ms", problem: "must not exceed mqtt.reconnect_max_ms")
        }
        if mqttTLSEnabled && mqttTLSCAFile.isEmpty {
            throw ConfigurationError(setting: "mqtt.tls.ca_file", problem: "is required when mqtt.tls.enabled is true")
        }
        if mqttTLSCertFile.isEmpty != mqttTLSKeyFile.isEmpty {
            throw ConfigurationError(
                setting: "mqtt.tls.key_file",
                problem: "cert_file and key_file must be given together"
            )
        }
        for (setting, path) in [
            ("mqtt.tls.ca_file", mqttTLSCAFile), ("mqtt.tls.cert_file", mqttTLSCertFile),
            ("mqtt.tls.key_file", mqttTLSKeyFile),
        ]
        where mqttTLSEnabled && !path.isEmpty && !FileManager.default.isReadableFile(atPath: path) {
            throw ConfigurationError(setting: setting, problem: "file \(path) is not readable")
        }
        if validationHighUsagePercent >= validationExtremeUsagePercent {
            throw ConfigurationError(
                setting: "validation.high_usage_percent",
                problem: "must be below validation.extreme_usage_percent"
            )
        }
        if !httpDispatchToken.isEmpty && httpDispatchToken.utf8.count < 16 {
            throw ConfigurationError(setting: "http.dispatch_token", problem: "must be at least 16 characters")
        }
        if !httpReviewToken.isEmpty && httpReviewToken.utf8.count < 16 {
            throw ConfigurationError(setting: "http.review_token", problem: "must be at least 16 characters")
        }
        if mqttUsername.isEmpty && !mqttPassword.isEmpty {
            throw ConfigurationError(setting: "mqtt.password", problem: "is set but mqtt.username is empty")
        }
        if postgresConninfo.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ConfigurationError(setting: "postgres.conninfo", problem: "must not be empty")
        }
        if spoolDirectory.isEmpty { throw ConfigurationError(setting: "spool.directory", problem: "must not be empty") }
        if pipelineRetryMinMilliseconds > pipelineRetryMaxMilliseconds {
            throw ConfigurationError(setting: "pipeline.retry_min_ms", problem: "must not exceed pipeline.retry_max_ms")
        }
        if ticketP0UrbanArriveMinutes > ticketP0RuralArriveMinutes {
            throw ConfigurationError(
                setting: "tickets.p0_urban_arrive_minutes",
                problem: "must not exceed tickets.p0_rural_arrive_minutes"
            )
        }
    }

    /// The documented example file: every setting with its help text and default.
    static func exampleFile() -> String {
        let defaults = GatewayConfiguration()
        var lines = [
            "# meter-gateway configuration. Every setting is shown with its default.",
            "# Each can be overridden by an environment variable METER_GATEWAY_<SECTION>_<KEY>, e.g. METER_GATEWAY_MQTT_PORT.",
            "# Start-up stops with a message naming the setting when a value is invalid.",
        ]
        var section = ""
        for setting in settings {
            if setting.section != section {
                section = setting.section
                lines.append("")
                lines.append("[\(section)]")
            }
            lines.append("# \(setting.help) (env \(setting.environmentName))")
            switch setting.kind {
            case .string(let path, _, let allowed):
                if let allowed { lines.append("# One of: \(allowed.joined(separator: ", ")).") }
                lines.append("\(setting.key) = \"\(defaults[keyPath: path])\"")
            case .integer(let path, let range):
                lines.append("# Range \(range.lowerBound)…\(range.upperBound).")
                lines.append("\(setting.key) = \(defaults[keyPath: path])")
            case .boolean(let path):
                lines.append("\(setting.key) = \(defaults[keyPath: path])")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
