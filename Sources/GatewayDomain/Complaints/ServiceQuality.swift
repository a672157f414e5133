public import GatewayCore

/// The monthly service-quality figures of one district, as reported to the supervising department: emergency
/// response, network faults, complaints, return calls and safety inspections (ARCHITECTURE "Service commitments").
///
/// The counts come from the store; the rates here are derived from them, so the rule for each is in one place.
public struct ServiceQuality: Sendable, Equatable {
    /// Conditions that make a ticket a network (pipeline) fault, beside any ticket grouped into a major incident.
    public static let networkFaultConditions: [AlarmCondition] = [
        .pressureLow, .networkLeakSuspected, .seismicShutOff,
    ]
    /// A network fault is handled (made safe) within this many hours of its ticket's opening.
    public static let networkHandledHours = 6
    /// A network fault is repaired within this many hours of its ticket's opening.
    public static let networkRepairedHours = 24

    public var district: String
    /// Customer meters of the district (one per household).
    public var households: Int
    /// P0 tickets opened in the month.
    public var emergencies: Int
    /// Of those, the crew arrived by the arrival deadline.
    public var emergenciesArrivedInTime: Int
    /// Minutes from opening to arrival over the P0 tickets with an arrival: median and 90th percentile.
    public var arrivalMinutesP50: Double?
    public var arrivalMinutesP90: Double?
    /// Network-fault tickets opened in the month, those made safe within 6 h and those repaired within 24 h.
    public var networkFaults: Int
    public var networkFaultsHandledInTime: Int
    public var networkFaultsRepairedInTime: Int
    /// Complaints received in the month, by category.
    public var complaintsByCategory: [ComplaintCategory: Int]
    /// Of those, answered (or told why not accepted) by the answer deadline.
    public var complaintsAnsweredInTime: Int
    /// Return calls recorded in the month (tickets and complaints) by outcome.
    public var returnCalls: [ReturnCallOutcome: Int]
    /// Premises due for a safety inspection by the month's end, and those of them inspected in the month.
    public var inspectionsDue: Int
    public var inspectionsDone: Int

    /// Creates the figures of one district; counts not given are 0.
    public init(
        district: String,
        households: Int = 0,
        emergencies: Int = 0,
        emergenciesArrivedInTime: Int = 0,
        arrivalMinutesP50: Double? = nil,
        arrivalMinutesP90: Double? = nil,
        networkFaults: Int = 0,
        networkFaultsHandledInTime: Int = 0,
        networkFaultsRepairedInTime: Int = 0,
        complaintsByCategory: [ComplaintCategory: Int] = [:],
        complaintsAnsweredInTime: Int = 0,
        returnCalls: [ReturnCallOutcome: Int] = [:],
        inspectionsDue: Int = 0,
        inspectionsDone: Int = 0
    ) {
        self.district = district
        self.households = households
        self.emergencies = emergencies
        self.emergenciesArrivedInTime = emergenciesArrivedInTime
        self.arrivalMinutesP50 = arrivalMinutesP50
        self.arrivalMinutesP90 = arrivalMinutesP90
        self.networkFaults = networkFaults
        self.networkFaultsHandledInTime = networkFaultsHandledInTime
        self.networkFaultsRepairedInTime = networkFaultsRepairedInTime
        self.complaintsByCategory = complaintsByCategory
        self.complaintsAnsweredInTime = complaintsAnsweredInTime
        self.returnCalls = returnCalls
        self.inspectionsDue = inspectionsDue
        self.inspectionsDone = inspectionsDone
    }

    /// Complaints received in the month.
    public var complaints: Int { complaintsByCategory.values.reduce(0, +) }

    /// Complaints of a category per 10,000 households (`nil` without households).
    public func complaintsPer10kHouseholds(_ category: ComplaintCategory) -> Double? {
        Self.ratio(complaintsByCategory[category] ?? 0, households).map { $0 * 10_000 }
    }

    /// All complaints per 10,000 households.
    public var complaintsPer10kHouseholdsTotal: Double? { Self.ratio(complaints, households).map { $0 * 10_000 } }

    /// Return calls recorded in the month, waivers included.
    public var returnCallCases: Int { returnCalls.values.reduce(0, +) }

    /// Share of the cases whose return call was made (not waived): satisfied, not satisfied or unreachable.
    public var followUpCallRate: Double? {
        Self.ratio(returnCallCases - (returnCalls[.waived] ?? 0), returnCallCases)
    }

    /// Share of satisfied customers among those reached.
    public var satisfactionRate: Double? {
        let satisfied = returnCalls[.satisfied] ?? 0
        return Self.ratio(satisfied, satisfied + (returnCalls[.notSatisfied] ?? 0))
    }

    /// `part / whole`, or `nil` when `whole` is 0.
    public static func ratio(_ part: Int, _ whole: Int) -> Double? {
        whole == 0 ? nil : Double(part) / Double(whole)
    }

    /// The instants a calendar month spans in a zone: its first local midnight and the next month's.
    /// - Parameters:
    ///   - year: The year.
    ///   - month: 1…12.
    ///   - zone: The company's zone.
    /// - Returns: `[start, end)`.
    public static func monthSpan(year: Int, month: Int, zone: TimeZoneRules) -> (start: Timestamp, end: Timestamp) {
        let next =
            month == 12 ? CivilDate(year: year + 1, month: 1, day: 1) : CivilDate(year: year, month: month + 1, day: 1)
        return (zone.startOfDay(CivilDate(year: year, month: month, day: 1)), zone.startOfDay(next))
    }
}
