import GatewayCore

/// The statements of ``MeterStore``.
enum MeterSQL {
    /// The `meters` column (or expression over the stage row) each import column sets.
    static let meterImportColumns: [(column: MeterCSV.Column, target: String, value: String)] = [
        (.district, "district", "district"),
        (.rural, "is_rural", "is_rural"),
        (.aesKey, "aes_key", "aes_key"),
        (.size, "size", "size"),
        (.qminM3h, "qmin_ml_per_h", "qmin_ml_per_h"),
        (.qtM3h, "qt_ml_per_h", "qt_ml_per_h"),
        (.qmaxM3h, "qmax_ml_per_h", "qmax_ml_per_h"),
        (.accuracyClass, "accuracy_class", "accuracy_class"),
        (.registerDigits, "register_digits", "register_digits"),
        (.customerClass, "customer_class", "customer_class"),
        (.verifiedOn, "verified_on", "date '1970-01-01' + verified_on_days"),
        (.verificationExpiresOn, "verification_expires_on", "date '1970-01-01' + verification_expires_on_days"),
        (.continuousAppliance, "continuous_appliance", "continuous_appliance"),
        (.methaneDetectorLinked, "methane_detector_linked", "methane_detector_linked"),
        (.role, "role", "role"),
    ]

    /// Inserts or updates the staged meters by (protocol, address), setting only `columns` (the rest keep their
    /// value, or their default for a new meter). The last staged row of a repeated meter wins.
    /// With `sealed`, the staged `aes_key` holds the sealed key: it goes to `aes_key_sealed` and the plaintext
    /// column is cleared (and the other way round without).
    static func upsertMeters(columns: Set<MeterCSV.Column>, sealed: Bool = false) -> String {
        var chosen = meterImportColumns.filter { columns.contains($0.column) }
        if let index = chosen.firstIndex(where: { $0.column == .aesKey }) {
            chosen[index].target = sealed ? "aes_key_sealed" : "aes_key"
            chosen.insert((.aesKey, sealed ? "aes_key" : "aes_key_sealed", "NULL::bytea"), at: index)
        }
        let targets = (["protocol", "address"] + chosen.map(\.target)).joined(separator: ", ")
        let values = (["protocol", "address"] + chosen.map(\.value)).joined(separator: ", ")
        let updates = (chosen.map { "\($0.target) = excluded.\($0.target)" } + ["updated_at = now()"])
            .joined(separator: ", ")
        return """
            INSERT INTO meters AS m (\(targets))
            SELECT DISTINCT ON (protocol, address) \(values)
            FROM gw_stage_meters
            ORDER BY protocol, address, seq DESC
            ON CONFLICT (protocol, address) DO UPDATE SET \(updates)
            """
    }

    /// The columns ``RegisteredMeter/init(row:)`` reads.
    static let columns =
        "id, protocol, address, district, is_rural, encode(aes_key, 'hex'), encode(aes_key_sealed, 'hex')"

    static let keyCounts = "SELECT count(aes_key), count(aes_key_sealed) FROM meters"

    static let plaintextKeys = "SELECT \(columns) FROM meters WHERE aes_key IS NOT NULL ORDER BY id FOR UPDATE"

    static let sealedKeys =
        "SELECT \(columns) FROM meters WHERE aes_key_sealed IS NOT NULL ORDER BY id FOR UPDATE"

    static let sealKey = """
        UPDATE meters SET aes_key_sealed = decode($2, 'hex'), aes_key = NULL, updated_at = now()
        WHERE id = $1::bigint
        """

    static let byProtocol = "SELECT \(columns) FROM meters WHERE protocol = $1 ORDER BY id"

    static let byAddress = "SELECT \(columns) FROM meters WHERE protocol = $1 AND address = $2"
}
