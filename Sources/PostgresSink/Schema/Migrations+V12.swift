extension Migrations {
    /// v12: collectors speak only for their meters.
    ///
    /// `collector_meters` assigns meters to collectors, one row per (meter, collector): a wireless meter heard by
    /// several collectors has several rows. A join table rather than an array column on `meters`, because both
    /// directions are asked (a meter's collectors for the registry and `meters collectors list`, a collector's meters
    /// for the same command and for an operator replacing a collector), assigning and unassigning are one-row
    /// statements with no read-modify-write of an array, the primary key forbids a repeated pair, and the foreign key
    /// removes a deleted meter's assignments. The collector id is the last level of its uplink topic
    /// (`<prefix>/up/collector/<collector id>`) and, with the broker ACL, its MQTT client id; the CHECK keeps it to
    /// the characters GatewayCore's `CollectorID` accepts (no MQTT wildcard or level separator).
    ///
    /// Nothing is seeded: no stored row records which collector forwarded it. Frames on collector topics are
    /// quarantined `collector_not_assigned` until their meters are assigned (`meters collectors assign`, or the
    /// `collectors` column of `meters import`); `quarantine replay --reason collector_not_assigned` then admits them.
    ///
    /// Versions 10, 11 and 13 are other changes'; versions are applied in order whatever the gaps.
    static let v12 = Migration(
        version: 12,
        name: "meters assigned to collectors",
        sql: """
            CREATE TABLE collector_meters (
                meter_id bigint NOT NULL REFERENCES meters (id) ON DELETE CASCADE,
                collector text NOT NULL CHECK (collector ~ '^[A-Za-z0-9._:-]{1,64}$'),
                assigned_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (meter_id, collector)
            );
            CREATE INDEX collector_meters_collector_idx ON collector_meters (collector, meter_id);
            """
    )
}
