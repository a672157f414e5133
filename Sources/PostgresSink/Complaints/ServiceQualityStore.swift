public import GatewayCore
public import GatewayDomain

/// The monthly service-quality report per district (``ServiceQuality``): a handful of grouped statements over the
/// tickets, complaints, return calls and inspections of the month, merged by district (`-` for no district).
public struct ServiceQualityStore: Sendable {
    private let database: any PostgresDatabase

    /// Creates the store.
    /// - Parameter database: Where the statements run.
    public init(_ database: any PostgresDatabase) {
        self.database = database
    }

    /// The report of one month.
    /// - Parameters:
    ///   - year: The year.
    ///   - month: 1…12.
    ///   - zone: The company's zone: the month runs from its first local midnight to the next month's; inspection
    ///     dates are local dates.
    ///   - residentialMonths: Inspection interval of residential premises.
    ///   - nonResidentialMonths: Inspection interval of other premises.
    ///   - district: Only this district, or all.
    /// - Returns: One row per district with households or activity, by district name.
    /// - Throws: ``PostgresError``.
    public func report(
        year: Int,
        month: Int,
        zone: TimeZoneRules,
        residentialMonths: Int,
        nonResidentialMonths: Int,
        district: String? = nil
    ) async throws -> [ServiceQuality] {
        let (start, end) = ServiceQuality.monthSpan(year: year, month: month, zone: zone)
        let first = CivilDate(year: year, month: month, day: 1)
        let last = zone.date(of: end.adding(seconds: -1))
        let conditions = ServiceQuality.networkFaultConditions.map(\.rawValue)
        return try await database.withConnection { connection in
            var rows: [String: ServiceQuality] = [:]
            func update(_ name: String, _ change: (inout ServiceQuality) throws -> Void) rethrows {
                var row = rows[name] ?? ServiceQuality(district: name)
                try change(&row)
                rows[name] = row
            }
            for row in try connection.rows(ServiceQualitySQL.households, [district]) {
                try update(try row.decode(0)) { $0.households = try row.decode(1) }
            }
            for row in try connection.rows(ServiceQualitySQL.emergencies, [start, end, district]) {
                try update(try row.decode(0)) {
                    $0.emergencies = try row.decode(1)
                    $0.emergenciesArrivedInTime = try row.decode(2)
                    $0.arrivalMinutesP50 = try row.decode(3, as: Double?.self)
                    $0.arrivalMinutesP90 = try row.decode(4, as: Double?.self)
                }
            }
            for row in try connection.rows(ServiceQualitySQL.networkFaults, [start, end, conditions, district]) {
                try update(try row.decode(0)) {
                    $0.networkFaults = try row.decode(1)
                    $0.networkFaultsHandledInTime = try row.decode(2)
                    $0.networkFaultsRepairedInTime = try row.decode(3)
                }
            }
            for row in try connection.rows(ServiceQualitySQL.complaints, [start, end, district]) {
                let category = try row.decode(1, as: ComplaintCategory.self)
                try update(try row.decode(0)) {
                    $0.complaintsByCategory[category] = try row.decode(2)
                    $0.complaintsAnsweredInTime += try row.decode(3, as: Int.self)
                }
            }
            for row in try connection.rows(ServiceQualitySQL.returnCalls, [start, end, district]) {
                let outcome = try row.decode(1, as: ReturnCallOutcome.self)
                try update(try row.decode(0)) { $0.returnCalls[outcome] = try row.decode(2) }
            }
            for row in try connection.rows(
                ServiceQualitySQL.inspections,
                ["\(first)", "\(last)", residentialMonths, nonResidentialMonths, district]
            ) {
                try update(try row.decode(0)) {
                    $0.inspectionsDue = try row.decode(1)
                    $0.inspectionsDone = try row.decode(2)
                }
            }
            return rows.values.sorted { $0.district < $1.district }
        }
    }
}

/// The statements of ``ServiceQualityStore``; `$1`/`$2` are the month's start and end (µs), the last parameter the
/// district filter (NULL: all).
enum ServiceQualitySQL {
    private static func instant(_ micros: String) -> String { ValidationSQL.instant(micros) }

    static let households = """
        SELECT coalesce(district, '-'), count(*)::integer FROM meters
        WHERE role = 'customer' AND ($1::text IS NULL OR district = $1)
        GROUP BY 1
        """

    static let emergencies = """
        SELECT coalesce(m.district, '-'), count(*)::integer,
            count(*) FILTER (WHERE t.on_site_at <= t.arrive_by)::integer,
            round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM t.on_site_at - t.opened_at) / 60))
                ::numeric, 1),
            round((percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM t.on_site_at - t.opened_at) / 60))
                ::numeric, 1)
        FROM repair_tickets t JOIN meters m ON m.id = t.meter_id
        WHERE t.priority = 'P0' AND t.opened_at >= \(instant("$1")) AND t.opened_at < \(instant("$2"))
            AND ($3::text IS NULL OR m.district = $3)
        GROUP BY 1
        """

    static let networkFaults = """
        SELECT coalesce(m.district, '-'), count(*)::integer,
            count(*) FILTER (WHERE coalesce(t.made_safe_at, t.resolved_at)
                <= t.opened_at + \(ServiceQuality.networkHandledHours) * interval '1 hour')::integer,
            count(*) FILTER (WHERE t.resolved_at
                <= t.opened_at + \(ServiceQuality.networkRepairedHours) * interval '1 hour')::integer
        FROM repair_tickets t JOIN meters m ON m.id = t.meter_id
        WHERE (t.condition = ANY ($3::text[]) OR t.incident_id IS NOT NULL)
            AND t.opened_at >= \(instant("$1")) AND t.opened_at < \(instant("$2"))
            AND ($4::text IS NULL OR m.district = $4)
        GROUP BY 1
        """

    static let complaints = """
        SELECT coalesce(district, '-'), category, count(*)::integer,
            count(*) FILTER (WHERE coalesce(answered_at, not_accepted_at) <= answer_by)::integer
        FROM complaints
        WHERE received_at >= \(instant("$1")) AND received_at < \(instant("$2"))
            AND ($3::text IS NULL OR district = $3)
        GROUP BY 1, 2
        """

    static let returnCalls = """
        SELECT coalesce(m.district, c.district, '-'), r.outcome, count(*)::integer
        FROM return_calls r
        LEFT JOIN repair_tickets t ON t.id = r.ticket_id
        LEFT JOIN meters m ON m.id = t.meter_id
        LEFT JOIN complaints c ON c.id = r.complaint_id
        WHERE r.at >= \(instant("$1")) AND r.at < \(instant("$2"))
            AND ($3::text IS NULL OR coalesce(m.district, c.district) = $3)
        GROUP BY 1, 2
        """

    /// $1 first day, $2 last day of the month, $3 residential months, $4 non-residential months, $5 district. A
    /// customer premises is due when its last inspection before the month (else its registration) plus its interval
    /// falls on or before the month's last day; done when it was inspected within the month.
    static let inspections = """
        SELECT district, count(*) FILTER (WHERE due <= $2::date)::integer,
            count(*) FILTER (WHERE due <= $2::date AND done)::integer
        FROM (
            SELECT coalesce(m.district, '-') AS district,
                (coalesce(
                    (SELECT max(i.inspected_on) FROM inspections i
                        WHERE i.meter_id = m.id AND i.inspected_on < $1::date),
                    m.registered_at::date)
                + CASE WHEN coalesce(m.customer_class, 'residential') = 'residential' THEN $3::integer
                    ELSE $4::integer END * interval '1 month')::date AS due,
                EXISTS (SELECT 1 FROM inspections i
                    WHERE i.meter_id = m.id AND i.inspected_on BETWEEN $1::date AND $2::date) AS done
            FROM meters m
            WHERE m.role = 'customer' AND ($5::text IS NULL OR m.district = $5)
        ) AS d
        GROUP BY 1
        """
}
