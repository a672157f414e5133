import Foundation
public import GatewayDomain
import Hummingbird

/// The columns of the monthly service-quality report, the same in the API's JSON (one flat object per district),
/// its CSV and `meter-gateway complaints report`: the district, then numbers (`null`/empty where a rate has no
/// base, e.g. no households).
public enum ServiceQualityColumns {
    /// Column names, in order; `district` first.
    public static let names: [String] =
        [
            "district", "households", "emergencies", "emergencies_arrived_in_time", "arrival_minutes_p50",
            "arrival_minutes_p90", "network_faults", "network_faults_handled_6h", "network_faults_repaired_24h",
            "complaints", "complaints_answered_in_time", "complaints_per_10k_households",
        ] + ComplaintCategory.allCases.map { "complaints_per_10k_\($0.rawValue)" }
        + [
            "return_calls", "follow_up_call_rate", "satisfaction_rate",
        ] + ReturnCallOutcome.allCases.map { "return_calls_\($0.rawValue)" }
        + ["inspections_due", "inspections_done"]

    /// The numbers of a row, in the order of ``names`` after `district`.
    /// - Parameter row: One district's figures.
    /// - Returns: One value per numeric column; `nil` where a rate has no base.
    public static func values(_ row: ServiceQuality) -> [Double?] {
        func number(_ value: Int) -> Double? { Double(value) }
        func rounded(_ value: Double?, _ places: Double = 10_000) -> Double? {
            value.map { ($0 * places).rounded() / places }
        }
        return [
            number(row.households), number(row.emergencies), number(row.emergenciesArrivedInTime),
            row.arrivalMinutesP50, row.arrivalMinutesP90, number(row.networkFaults),
            number(row.networkFaultsHandledInTime), number(row.networkFaultsRepairedInTime), number(row.complaints),
            number(row.complaintsAnsweredInTime), rounded(row.complaintsPer10kHouseholdsTotal, 100),
        ] + ComplaintCategory.allCases.map { rounded(row.complaintsPer10kHouseholds($0), 100) }
            + [number(row.returnCallCases), rounded(row.followUpCallRate), rounded(row.satisfactionRate)]
            + ReturnCallOutcome.allCases.map { number(row.returnCalls[$0] ?? 0) }
            + [number(row.inspectionsDue), number(row.inspectionsDone)]
    }

    /// A number as the CSV writes it: an integer without a decimal point, else as Swift prints it; empty for `nil`.
    public static func text(_ value: Double?) -> String {
        guard let value else { return "" }
        if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// The report as RFC 4180 CSV with a header line.
    /// - Parameter rows: The districts.
    /// - Returns: The CSV text, CRLF line ends.
    public static func csv(_ rows: [ServiceQuality]) -> String {
        func quoted(_ field: String) -> String {
            guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
            return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        var lines = [names.joined(separator: ",")]
        for row in rows {
            lines.append(([quoted(row.district)] + values(row).map(text)).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

/// One district of `GET /dispatch/v1/reports/service-quality`: a flat object with the ``ServiceQualityColumns``.
struct ServiceQualityRowResponse: Encodable, Sendable {
    var row: ServiceQuality

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(row.district, forKey: Key(stringValue: "district"))
        for (name, value) in zip(ServiceQualityColumns.names.dropFirst(), ServiceQualityColumns.values(row)) {
            if let value {
                if value.rounded() == value, abs(value) < 1e15 {
                    try container.encode(Int64(value), forKey: Key(stringValue: name))
                } else {
                    try container.encode(value, forKey: Key(stringValue: name))
                }
            } else {
                try container.encodeNil(forKey: Key(stringValue: name))
            }
        }
    }
}

/// `GET /dispatch/v1/reports/service-quality`: `{"month","zone","districts":[…]}`.
struct ServiceQualityReportResponse: ResponseEncodable, Sendable {
    var month: String
    var zone: String
    var districts: [ServiceQualityRowResponse]
}
