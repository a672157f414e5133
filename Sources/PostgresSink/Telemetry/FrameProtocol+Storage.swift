import GatewayCore

extension FrameProtocol {
    /// How `frame_identities.source` (migration v26) and `readings.source` (v28) store the protocol
    /// (`frame_source_name(smallint)` gives the word back in SQL).
    var storageCode: Int16 {
        switch self {
        case .native: 1
        case .cjt188: 2
        case .wmbus: 3
        case .mbus: 4
        }
    }
}

extension ReadingRecord {
    /// How `readings.protection_flags` (migration v28) stores ``protection`` and ``keySource``, coded as
    /// `interval_point_flags(protection, key_source, 0)` codes an interval point: bits 0–1 the level (0 plain,
    /// 1 encrypted, 2 authenticated), bits 2–3 the key (0 none, 1 meter, 2 default). `reading_protection(smallint)` and
    /// `reading_key_source(smallint)` give the enum and the word back in SQL.
    var protectionFlags: Int16 {
        let key: Int16 =
            switch keySource {
            case nil: 0
            case .meter: 1
            case .manufacturerDefault: 2
            }
        return Int16(protection.rawValue) | key << 2
    }
}
