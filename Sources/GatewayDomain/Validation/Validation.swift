public import GatewayCore

/// What billing may do with a reading or a day (validation, estimation and editing before billing).
public enum ReadQuality: Int16, Sendable, Hashable, CaseIterable, Comparable {
    /// Passed every rule: billable as is.
    case valid = 0
    /// Filled in by the gateway (linear interpolation between actual reads): billable, marked estimated.
    case estimated = 1
    /// Held for review: not billable until a person accepts it.
    case suspect = 2
    /// Failed a rule that makes it unusable: never billed, never used as an anchor.
    case rejected = 3

    /// The lower-case word used in SQL, JSON and CSV.
    public var name: String {
        switch self {
        case .valid: "valid"
        case .estimated: "estimated"
        case .suspect: "suspect"
        case .rejected: "rejected"
        }
    }

    public init?(name: String) {
        guard let quality = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = quality
    }

    public static func < (lhs: ReadQuality, rhs: ReadQuality) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The reason codes validation keeps on a reading or a day. Each code has one severity: the quality it forces
/// at least (``severity``). Informational codes leave the quality valid.
public struct ValidationReasons: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// The index went down and it was not a rollover: reverse or negative consumption. Rejected.
    public static let indexDecrease = ValidationReasons(rawValue: 1 << 0)
    /// The index wrapped at the register modulus (consumption counted across the wrap). Informational.
    public static let rollover = ValidationReasons(rawValue: 1 << 1)
    /// Consumption since the previous read above 1.2 × Qmax × Δt. Rejected.
    public static let spike = ValidationReasons(rawValue: 1 << 2)
    /// Reported flow above 1.2 × Qmax (the overload limit). Suspect.
    public static let flowAboveMax = ValidationReasons(rawValue: 1 << 3)
    /// Reported flow above zero but below Qmin (no metrological guarantee). Informational.
    public static let flowBelowMin = ValidationReasons(rawValue: 1 << 4)
    /// The meter's clock differs from the receive time by more than the tolerance. Suspect.
    public static let clockDrift = ValidationReasons(rawValue: 1 << 5)
    /// The same reading key arrived with a different value (recorded in `value_conflicts`). Suspect.
    public static let conflictingDuplicate = ValidationReasons(rawValue: 1 << 6)
    /// Zero consumption for the configured number of days with the valve open. Suspect.
    public static let zeroConsumption = ValidationReasons(rawValue: 1 << 7)
    /// Daily use above the high factor × the meter's average daily use. Suspect.
    public static let highUsage = ValidationReasons(rawValue: 1 << 8)
    /// Daily use above the extreme factor × the meter's average daily use. Rejected.
    public static let extremeUsage = ValidationReasons(rawValue: 1 << 9)
    /// Daily use below the low factor × the meter's average daily use. Suspect.
    public static let lowUsage = ValidationReasons(rawValue: 1 << 10)
    /// Read after the meter's verification expired: billable, flagged. Informational.
    public static let verificationExpired = ValidationReasons(rawValue: 1 << 11)
    /// A day's interval data has gaps (filled by estimation when both ends are anchored). Informational.
    public static let intervalGap = ValidationReasons(rawValue: 1 << 12)
    /// A day boundary index was interpolated between actual reads. Forces estimated.
    public static let estimatedBoundary = ValidationReasons(rawValue: 1 << 13)
    /// A day contains a reading held for review. Suspect.
    public static let containsSuspectRead = ValidationReasons(rawValue: 1 << 14)
    /// The meter has no Qmax in the registry: spike and flow checks could not run. Informational.
    public static let noFlowLimits = ValidationReasons(rawValue: 1 << 15)
    /// A reviewer accepted the reading (it is valid whatever the rules said).
    public static let reviewAccepted = ValidationReasons(rawValue: 1 << 16)
    /// A reviewer rejected the reading.
    public static let reviewRejected = ValidationReasons(rawValue: 1 << 17)

    /// Every code with its name and severity, in bit order.
    public static let catalogue: [(reason: ValidationReasons, name: String, severity: ReadQuality)] = [
        (.indexDecrease, "index_decrease", .rejected),
        (.rollover, "rollover", .valid),
        (.spike, "spike", .rejected),
        (.flowAboveMax, "flow_above_max", .suspect),
        (.flowBelowMin, "flow_below_min", .valid),
        (.clockDrift, "clock_drift", .suspect),
        (.conflictingDuplicate, "conflicting_duplicate", .suspect),
        (.zeroConsumption, "zero_consumption", .suspect),
        (.highUsage, "high_usage", .suspect),
        (.extremeUsage, "extreme_usage", .rejected),
        (.lowUsage, "low_usage", .suspect),
        (.verificationExpired, "verification_expired", .valid),
        (.intervalGap, "interval_gap", .valid),
        (.estimatedBoundary, "estimated_boundary", .estimated),
        (.containsSuspectRead, "contains_suspect_read", .suspect),
        (.noFlowLimits, "no_flow_limits", .valid),
        (.reviewAccepted, "review_accepted", .valid),
        (.reviewRejected, "review_rejected", .rejected),
    ]

    /// The names of the set codes, in bit order (for SQL `text[]`, JSON and CSV).
    public var names: [String] { Self.catalogue.filter { contains($0.reason) }.map(\.name) }

    /// The codes named, or `nil` if a name is unknown.
    public init?(names: [String]) {
        var reasons = ValidationReasons()
        for name in names {
            guard let entry = Self.catalogue.first(where: { $0.name == name }) else { return nil }
            reasons.insert(entry.reason)
        }
        self = reasons
    }

    /// The quality these codes force: the most severe of them (valid when none is set).
    public var severity: ReadQuality {
        Self.catalogue.reduce(ReadQuality.valid) { worst, entry in
            contains(entry.reason) ? max(worst, entry.severity) : worst
        }
    }
}

/// The rule parameters, with the defaults of domain rules §3.3 (each a setting under `[validation]`).
public struct ValidationSettings: Sendable, Equatable {
    /// Flow and spike ceiling as a percentage of Qmax (120 = 1.2 × Qmax, the overload ratio Qr/Qmax).
    public var overloadPercent: Int64 = 120
    /// Clock drift tolerance against the receive time.
    public var clockDriftToleranceSeconds: Int64 = 300
    /// Days of zero consumption with the valve open before a day is held.
    public var zeroConsumptionDays: Int = 30
    /// High use: daily volume above this percentage of the average daily use (500 = 5 ×). Suspect.
    public var highUsagePercent: Int64 = 500
    /// Extreme use: above this percentage of the average daily use (1000 = 10 ×). Rejected.
    public var extremeUsagePercent: Int64 = 1000
    /// Low use: below this percentage of the average daily use (20 = 0.2 ×). Suspect.
    public var lowUsagePercent: Int64 = 20
    /// Days of history the average daily use is taken over.
    public var averageDailyUseDays: Int = 30
    /// Fewer valid days of history than this: no high/low check.
    public var minimumHistoryDays: Int = 7
    /// Average daily use below this (millilitres) is too small for a low-use check (vacant or seasonal premises).
    public var lowUsageFloorMillilitres: Int64 = 100_000
    /// A read within this distance of a day boundary anchors it as actual; otherwise the boundary is interpolated.
    public var boundaryToleranceSeconds: Int64 = 900
    /// The zone of billing days: a day runs from one local midnight to the next (23 or 25 hours across a
    /// summer-time change).
    public var billingZone: TimeZoneRules = .utc

    public init() {}
}

/// What validation needs from the registry about one meter.
public struct MeterLimits: Sendable, Equatable {
    public var qminMillilitresPerHour: Int64?
    public var qmaxMillilitresPerHour: Int64?
    /// The registry's register modulus; when `nil`, the modulus the reading itself carries is used.
    public var registerModulusMillilitres: Int64?
    /// The first instant after the verification expired.
    public var verificationExpiresAt: Timestamp?

    public init(
        qminMillilitresPerHour: Int64? = nil,
        qmaxMillilitresPerHour: Int64? = nil,
        registerModulusMillilitres: Int64? = nil,
        verificationExpiresAt: Timestamp? = nil
    ) {
        self.qminMillilitresPerHour = qminMillilitresPerHour
        self.qmaxMillilitresPerHour = qmaxMillilitresPerHour
        self.registerModulusMillilitres = registerModulusMillilitres
        self.verificationExpiresAt = verificationExpiresAt
    }
}

/// A reviewer's decision on one suspect reading. It outlasts revalidation.
public enum ReviewDecision: String, Sendable, Hashable {
    case accept
    case reject
}

/// One register reading of a meter's billing channel (storage 0, tariff 0, one basis), as stored.
public struct IndexRead: Sendable, Equatable {
    public var readAt: Timestamp
    public var receivedAt: Timestamp
    public var kind: ReadingKind
    public var volumeMillilitres: Int64
    /// The modulus the frame carried (0 = unknown).
    public var registerModulusMillilitres: Int64
    public var flowMillilitresPerHour: Int64?
    public var valve: ValveState
    /// A different value arrived under the same key (`value_conflicts`).
    public var hasConflict: Bool
    public var review: ReviewDecision?
    /// How the read was protected (`readings.protection`).
    public var protection: ProtectionLevel

    public init(
        readAt: Timestamp,
        receivedAt: Timestamp,
        kind: ReadingKind,
        volumeMillilitres: Int64,
        registerModulusMillilitres: Int64 = 0,
        flowMillilitresPerHour: Int64? = nil,
        valve: ValveState = .unknown,
        hasConflict: Bool = false,
        review: ReviewDecision? = nil,
        protection: ProtectionLevel = .plain
    ) {
        self.readAt = readAt
        self.receivedAt = receivedAt
        self.kind = kind
        self.volumeMillilitres = volumeMillilitres
        self.registerModulusMillilitres = registerModulusMillilitres
        self.flowMillilitresPerHour = flowMillilitresPerHour
        self.valve = valve
        self.hasConflict = hasConflict
        self.review = review
        self.protection = protection
    }
}

/// The outcome for one reading.
public struct ReadVerdict: Sendable, Equatable {
    public var quality: ReadQuality
    public var reasons: ValidationReasons
    /// Consumption since the previous usable read (across a rollover), `nil` for the first read.
    public var consumptionMillilitres: Int64?
}

/// One interval of a day, actual or estimated.
public struct IntervalValue: Sendable, Equatable {
    public var start: Timestamp
    public var minutes: Int16
    public var volumeMillilitres: Int64
    public var isEstimated: Bool
    /// How a reported interval was protected (`interval_readings.protection`); an estimated one is not used for the
    /// day's protection (it comes from the day's boundaries).
    public var protection: ProtectionLevel

    public init(
        start: Timestamp,
        minutes: Int16,
        volumeMillilitres: Int64,
        isEstimated: Bool,
        protection: ProtectionLevel = .plain
    ) {
        self.start = start
        self.minutes = minutes
        self.volumeMillilitres = volumeMillilitres
        self.isEstimated = isEstimated
        self.protection = protection
    }
}

/// A billing day's determinants: start and end index, volume, quality, reasons and interval data.
public struct DailyDeterminant: Sendable, Equatable {
    /// The day's first instant (in the billing zone).
    public var dayStart: Timestamp
    public var startIndexMillilitres: Int64
    public var endIndexMillilitres: Int64
    public var volumeMillilitres: Int64
    public var quality: ReadQuality
    public var reasons: ValidationReasons
    /// The day's intervals when the meter reports interval data (actual and estimated), else empty.
    public var intervals: [IntervalValue]
    /// The last valve state the day's reads reported.
    public var valve: ValveState
    /// The weakest protection of what the day was derived from: the reads its boundaries came from (both reads
    /// around an interpolated boundary) and its reported intervals.
    public var protection: ProtectionLevel

    /// Creates a day.
    public init(
        dayStart: Timestamp,
        startIndexMillilitres: Int64,
        endIndexMillilitres: Int64,
        volumeMillilitres: Int64,
        quality: ReadQuality,
        reasons: ValidationReasons,
        intervals: [IntervalValue],
        valve: ValveState,
        protection: ProtectionLevel = .plain
    ) {
        self.dayStart = dayStart
        self.startIndexMillilitres = startIndexMillilitres
        self.endIndexMillilitres = endIndexMillilitres
        self.volumeMillilitres = volumeMillilitres
        self.quality = quality
        self.reasons = reasons
        self.intervals = intervals
        self.valve = valve
        self.protection = protection
    }

    /// The estimated intervals only.
    public var estimatedIntervals: [IntervalValue] { intervals.filter(\.isEstimated) }
}
