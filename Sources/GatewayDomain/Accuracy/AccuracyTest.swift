public import GatewayCore

/// Which limit a meter-accuracy test is judged against.
public enum AccuracyTestKind: String, Sendable, Hashable, CaseIterable {
    /// A test at (re)verification: the class MPE applies.
    case verification
    /// A test of a meter in service (field check): the in-service MPE applies.
    case field
    /// A test of a meter a customer disputes: the in-service MPE applies.
    case dispute
}

/// The outcome of judging one test result.
public enum AccuracyVerdict: String, Sendable, Hashable {
    /// The error is within the limit.
    case pass
    /// The error exceeds the limit.
    case fail
    /// The test flow is outside Qmin … Qmax: the class gives no limit there.
    case outOfRange = "out_of_range"
    /// The meter's class or flow limits are not in the registry.
    case unknown
}

/// One test result judged against the meter's maximum permissible error (domain rules §1.1, §1.3, §1.5).
public struct AccuracyJudgement: Sendable, Equatable {
    public var verdict: AccuracyVerdict
    /// `low` (Qmin ≤ Q < Qt) or `high` (Qt ≤ Q ≤ Qmax), `nil` when out of range or unknown.
    public var band: String?
    /// The limit applied, in hundredths of a percent (300 = ±3 %), `nil` when none applies.
    public var limitBasisPoints: Int64?

    /// Creates a judgement.
    public init(verdict: AccuracyVerdict, band: String?, limitBasisPoints: Int64?) {
        self.verdict = verdict
        self.band = band
        self.limitBasisPoints = limitBasisPoints
    }
}

/// The first-verification maximum permissible errors per class and flow band, in hundredths of a percent.
///
/// The defaults are the class table (MID MI-002 / EN 1359 / OIML R137): class 1.5 ±3 % below Qt and ±1.5 % from Qt
/// to Qmax, class 1.0 ±2 % / ±1 %, class 0.5 ±1 % / ±0.5 %. Each is a setting, for jurisdictions that differ.
public struct MPETable: Sendable, Equatable {
    public var class1_5Low: Int64 = 300
    public var class1_5High: Int64 = 150
    public var class1_0Low: Int64 = 200
    public var class1_0High: Int64 = 100
    public var class0_5Low: Int64 = 100
    public var class0_5High: Int64 = 50

    /// The class table.
    public init() {}

    /// The limit of a class in a band.
    public func limit(_ accuracyClass: AccuracyClass, isLowBand: Bool) -> Int64 {
        switch accuracyClass {
        case .class1_5: isLowBand ? class1_5Low : class1_5High
        case .class1_0: isLowBand ? class1_0Low : class1_0High
        case .class0_5: isLowBand ? class0_5Low : class0_5High
        }
    }
}

/// Judges meter error at a flow point against the class MPE.
///
/// Verification tests use the first-verification MPE of ``MPETable`` for the band (Qmin ≤ Q < Qt low, Qt ≤ Q ≤ Qmax
/// high); in-service tests (field, dispute) use that MPE × `inServicePercent` / 100 (default 200: twice the
/// verification MPE, the German rule and the probable Chinese one). Class 1.0's extra condition (errors of one sign
/// above Qt within 0.5 %) needs the whole curve and is not judged from one point.
public enum AccuracyJudge {
    /// Judges one result.
    /// - Parameters:
    ///   - errorBasisPoints: The measured error E in hundredths of a percent (−60 = −0.60 %).
    ///   - flowMillilitresPerHour: The test flow.
    ///   - accuracyClass: The meter's class, if known.
    ///   - qmin: Qmin, ml/h.
    ///   - qt: Qt, ml/h.
    ///   - qmax: Qmax, ml/h.
    ///   - kind: Verification, field or dispute.
    ///   - table: The first-verification limits.
    ///   - inServicePercent: The in-service limit as a percentage of the verification MPE.
    /// - Returns: The verdict, the band and the limit applied.
    public static func judge(
        errorBasisPoints: Int64,
        flowMillilitresPerHour: Int64,
        accuracyClass: AccuracyClass?,
        qmin: Int64?,
        qt: Int64?,
        qmax: Int64?,
        kind: AccuracyTestKind,
        table: MPETable = MPETable(),
        inServicePercent: Int64 = 200
    ) -> AccuracyJudgement {
        guard let accuracyClass, let qmin, let qt, let qmax else {
            return AccuracyJudgement(verdict: .unknown, band: nil, limitBasisPoints: nil)
        }
        guard flowMillilitresPerHour >= qmin, flowMillilitresPerHour <= qmax else {
            return AccuracyJudgement(verdict: .outOfRange, band: nil, limitBasisPoints: nil)
        }
        let isLow = flowMillilitresPerHour < qt
        let verification = table.limit(accuracyClass, isLowBand: isLow)
        let limit = kind == .verification ? verification : verification * inServicePercent / 100
        let magnitude = errorBasisPoints.magnitude
        return AccuracyJudgement(
            verdict: magnitude <= UInt64(max(0, limit)) ? .pass : .fail,
            band: isLow ? "low" : "high",
            limitBasisPoints: limit
        )
    }

    /// Parses an error percentage with up to two decimals (`-0.6`, `+2.25`, `3`) into hundredths of a percent.
    public static func basisPoints(fromPercent text: some StringProtocol) -> Int64? {
        var body = Substring(text)
        var negative = false
        if let sign = body.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 4,
            parts[0].allSatisfy(\.isASCIIDigit), let whole = Int64(parts[0])
        else { return nil }
        var value = whole * 100
        if parts.count == 2 {
            guard (1...2).contains(parts[1].count), parts[1].allSatisfy(\.isASCIIDigit), let fraction = Int64(parts[1])
            else { return nil }
            value += parts[1].count == 1 ? fraction * 10 : fraction
        }
        return negative ? -value : value
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
