extension Migrations {
    /// v13: meter keys sealed at rest.
    ///
    /// * `meters.aes_key_sealed`: the meter's AES-128 key sealed with AES-256-GCM under the master key of
    ///   `meters.master_key_file` (``MeterKeySealer``): 12 bytes nonce, 16 bytes ciphertext, 16 bytes tag, the
    ///   meter's protocol and address bound as associated data (a sealed key copied to another meter does not open).
    ///   A meter holds its key in `aes_key` (plaintext, as before v13, still read so existing databases keep
    ///   working) or in `aes_key_sealed`, never both; `meters seal-keys` moves plaintext keys into the sealed column.
    ///
    /// Versions 11 and 12 are other changes'; versions are applied in order whatever the gaps.
    static let v13 = Migration(
        version: 13,
        name: "meters.aes_key_sealed: meter keys sealed with a master key",
        sql: """
            ALTER TABLE meters
                ADD COLUMN aes_key_sealed bytea CHECK (aes_key_sealed IS NULL OR octet_length(aes_key_sealed) = 44),
                ADD CONSTRAINT meters_one_key_form CHECK (aes_key IS NULL OR aes_key_sealed IS NULL);
            """
    )
}
