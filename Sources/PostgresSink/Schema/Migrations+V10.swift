extension Migrations {
    /// v10: replay protection, and no separate MAC key.
    ///
    /// * `counter_marks`: per meter and counter kind (1 native frame counter, 2 OMS mode-7 message counter), the
    ///   highest authenticated counter stored (`high_water`) and the highest counter whose frame identity was
    ///   pruned (`forgotten_through`); -1 means none. The ingest transaction locks a batch's rows in (meter_id,
    ///   kind) order before its identity inserts, judges frames with GatewayCore's `ReplayRule` and raises
    ///   `high_water` with `greatest()`;
    ///   pruning `frame_identities` raises `forgotten_through` in the same statement. Native marks are seeded from
    ///   `uplink_frames` (every stored native frame): `high_water` its highest counter, `forgotten_through` the
    ///   highest counter the identity log no longer holds.
    /// * `meters.mac_key` goes: no supported protocol uses a MAC key registered apart from the meter's key (native
    ///   MACs with the meter's key; OMS mode 7 derives K_mac from it by the KDF). The column was never read.
    ///
    /// Version 9 is another change's; versions are applied in order whatever the gaps.
    static let v10 = Migration(
        version: 10,
        name: "counter high-water marks for replay protection; drop meters.mac_key",
        sql: """
            CREATE TABLE counter_marks (
                meter_id bigint NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
                kind smallint NOT NULL CHECK (kind IN (1, 2)),
                high_water bigint NOT NULL CHECK (high_water BETWEEN -1 AND 4294967295),
                forgotten_through bigint NOT NULL DEFAULT -1 CHECK (forgotten_through BETWEEN -1 AND 4294967295),
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (meter_id, kind)
            );

            INSERT INTO counter_marks (meter_id, kind, high_water, forgotten_through)
            SELECT u.meter_id, 1, max(u.frame_counter),
                coalesce(max(u.frame_counter) FILTER (WHERE f.meter_id IS NULL), -1)
            FROM uplink_frames u
            LEFT JOIN frame_identities f ON f.meter_id = u.meter_id AND f.kind = 1 AND f.identity = u.frame_counter
            WHERE u.frame_counter BETWEEN 0 AND 4294967295
            GROUP BY u.meter_id;

            ALTER TABLE meters DROP COLUMN mac_key;
            """
    )
}
