import Foundation
import GatewayCore
import GatewayDomain
public import PostgresSink

/// The CSV form of billing rows (the HTTP export and `meter-gateway billing export`). The last column, `protection`,
/// is the weakest protection of what the day was derived from (`plain`, `encrypted`, `authenticated`).
public enum BillingCSV {
    /// The header line.
    public static let header =
        "seq,protocol,meter,district,basis,day,day_start,version,is_correction,start_index_ml,end_index_ml,volume_ml,quality,reasons,interval_minutes,intervals_ml,intervals_estimated,protection"

    /// The header and one line per row.
    public static func render(_ reads: [BillingRead]) -> String {
        var text = header + "\n"
        for read in reads {
            let fields: [String] = [
                String(read.seq), read.protocol.rawValue, read.meter, read.district ?? "", read.basis.name, read.day,
                read.dayStart.description, String(read.version), read.isCorrection ? "true" : "false",
                String(read.startIndexMillilitres), String(read.endIndexMillilitres), String(read.volumeMillilitres),
                read.quality.name, read.reasons.joined(separator: " "), read.intervalMinutes.map(String.init) ?? "",
                read.intervals.map { String($0.volumeMillilitres) }.joined(separator: " "),
                read.intervals.map { $0.isEstimated ? "1" : "0" }.joined(separator: ""), read.protection.code,
            ]
            text += fields.map(quoted).joined(separator: ",") + "\n"
        }
        return text
    }

    /// RFC 4180 quoting when the field needs it.
    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
