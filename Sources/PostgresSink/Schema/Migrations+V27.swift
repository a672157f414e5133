extension Migrations {
    /// v27: `uplink_frames` without its primary key (issue 13 point 3, bytes per meter-day).
    ///
    /// The key (`meter_id`, `frame_counter`) took about 46 of the table's ~114 bytes per native frame and guarded
    /// nothing the writer does not already guarantee: a native frame's rows are written only when its identity —
    /// its meter and authenticated frame counter, unique in `frame_identities` — is new in the same transaction
    /// (duplicates and replays are taken out of the batch before any row is written), so no two frames of one
    /// meter with one counter are ever logged while the meter's counter identities are known. Nothing reads the
    /// table by that key: the fleet report counts its rows, the fault campaign counts and groups them. What the key
    /// did do was drop, without a word, the log row of a frame whose counter a meter had used before a
    /// `meters reset-counter` (which forgets the meter's counter identities after a re-key): such a frame is stored
    /// (readings, alarms) and is now logged as well. The foreign key to `meters` stays.
    static let v27 = Migration(
        version: 27,
        name: "uplink_frames without its primary key",
        sql: """
            ALTER TABLE uplink_frames DROP CONSTRAINT uplink_frames_pkey;
            """
    )
}
