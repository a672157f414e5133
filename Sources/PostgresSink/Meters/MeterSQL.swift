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
        (.minProtection, "min_protection", "min_protection"),
    ]

    /// Inserts or updates the staged meters by (protocol, address), setting only `columns` (the rest keep their
    /// value, or their default for a new meter). The last staged row of a repeated meter wins.
    ///
    /// `min_protection` is always set on a new meter (the staged value is the default of its key when the file
    /// does not say) and, on an existing one, when the import sets it or the key: a key given or removed without
    /// a minimum moves the minimum to the default of the new key (`encrypted` with one, `plain` without).
    ///
    /// With `sealed`, the staged `aes_key` holds the sealed key: it goes to `aes_key_sealed` and the plaintext
    /// column is cleared (and the other way round without).
    static func upsertMeters(columns: Set<MeterCSV.Column>, sealed: Bool = false) -> String {
        var columns = columns
        if columns.contains(.aesKey) { columns.insert(.minProtection) }
        func keyForm(
            _ list: [(column: MeterCSV.Column, target: String, value: String)]
        ) -> [(
            column: MeterCSV.Column, target: String, value: String
        )] {
            var list = list
            if let index = list.firstIndex(where: { $0.column == .aesKey }) {
                list[index].target = sealed ? "aes_key_sealed" : "aes_key"
                list.insert((.aesKey, sealed ? "aes_key" : "aes_key_sealed", "NULL::bytea"), at: index)
            }
            return list
        }
        let inserted = keyForm(meterImportColumns.filter { columns.contains($0.column) || $0.column == .minProtection })
        let chosen = keyForm(meterImportColumns.filter { columns.contains($0.column) })
        let targets = (["protocol", "address"] + inserted.map(\.target)).joined(separator: ", ")
        let values = (["protocol", "address"] + inserted.map(\.value)).joined(separator: ", ")
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
        "id, protocol, address, district, is_rural, encode(aes_key, 'hex'), min_protection::text, "
        + "encode(aes_key_sealed, 'hex')"

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

    // MARK: Collector assignments (`collector_meters`, v12)

    /// Every assignment, for the registry.
    static let allAssignments = "SELECT meter_id, collector FROM collector_meters ORDER BY collector, meter_id"

    /// Assigns meter $1 to the collectors $2 (a text array); returns the pairs that were new.
    static let assign = """
        INSERT INTO collector_meters (meter_id, collector)
        SELECT $1::bigint, c FROM unnest($2::text[]) AS c
        ON CONFLICT DO NOTHING
        """

    /// Removes meter $1 from the collectors $2 (a text array).
    static let unassign = "DELETE FROM collector_meters WHERE meter_id = $1::bigint AND collector = ANY ($2::text[])"

    /// The assignments with their meters, optionally of one collector ($1) and/or one meter ($2).
    static let listAssignments = """
        SELECT c.collector, m.protocol, m.address, c.meter_id
        FROM collector_meters c JOIN meters m ON m.id = c.meter_id
        WHERE ($1::text IS NULL OR c.collector = $1) AND ($2::bigint IS NULL OR c.meter_id = $2)
        ORDER BY c.collector, m.protocol, m.address
        """

    /// The ids of the staged meters, after the upsert: (protocol, address, id).
    static let stagedMeterIDs = """
        SELECT m.protocol, m.address, m.id
        FROM meters m JOIN (SELECT DISTINCT protocol, address FROM gw_stage_meters) s USING (protocol, address)
        """

    /// The meters a streaming import has read so far, with the line each first appeared on (dropped at commit).
    static let createImportSeen = """
        CREATE TEMPORARY TABLE gw_import_seen (
            protocol text NOT NULL, address text NOT NULL, line integer NOT NULL, PRIMARY KEY (protocol, address)
        ) ON COMMIT DROP
        """

    /// Records a batch's meters ($1 protocols, $2 addresses, $3 lines): the first line of each meter is kept.
    static let insertImportSeen = """
        INSERT INTO gw_import_seen
        SELECT b.protocol, b.address, b.line
        FROM unnest($1::text[], $2::text[], $3::integer[]) AS b(protocol, address, line)
        ORDER BY b.line
        ON CONFLICT (protocol, address) DO NOTHING
        """

    /// The lines of a batch ($1, $2, $3 as above) whose meter appeared on an earlier line, with that line.
    static let importRepeats = """
        SELECT b.line, s.line
        FROM unnest($1::text[], $2::text[], $3::integer[]) AS b(protocol, address, line)
        JOIN gw_import_seen s USING (protocol, address)
        WHERE s.line <> b.line
        ORDER BY b.line
        """

    /// Removes every assignment of the meters $1 (a bigint array); an import that names `collectors` replaces them.
    static let clearAssignments = "DELETE FROM collector_meters WHERE meter_id = ANY ($1::bigint[])"

    /// Inserts the pairs ($1 meter ids, $2 collectors, pairwise).
    static let insertAssignments = """
        INSERT INTO collector_meters (meter_id, collector)
        SELECT meter_id, collector FROM unnest($1::bigint[], $2::text[]) AS p (meter_id, collector)
        ON CONFLICT (meter_id, collector) DO NOTHING
        """
}
