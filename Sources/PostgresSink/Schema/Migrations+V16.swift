extension Migrations {
    /// v16: the record layouts (DIF/VIF chains) of full M-Bus frames, per meter and format signature, so that any
    /// gateway can decode a compact frame (CI 79/7B/73) that names one. Written by the ingest writer in the same
    /// transaction as the full frame's rows (an idempotent upsert: `first_seen` stays, `last_seen` only rises);
    /// read with the meter registry. A meter's layouts go with the meter.
    static let v16 = Migration(
        version: 16,
        name: "mbus format layouts for compact frames",
        sql: """
            CREATE TABLE mbus_format_layouts (
                meter_id bigint NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
                signature integer NOT NULL CHECK (signature BETWEEN 0 AND 65535),
                chain bytea NOT NULL CHECK (octet_length(chain) BETWEEN 1 AND 255),
                first_seen timestamptz NOT NULL,
                last_seen timestamptz NOT NULL,
                CHECK (last_seen >= first_seen),
                PRIMARY KEY (meter_id, signature)
            );
            """
    )
}
