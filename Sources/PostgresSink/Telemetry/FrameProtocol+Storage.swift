import GatewayCore

extension FrameProtocol {
    /// How `frame_identities.source` stores the protocol (migration v26; `frame_source_name(smallint)` gives the
    /// word back in SQL).
    var storageCode: Int16 {
        switch self {
        case .native: 1
        case .cjt188: 2
        case .wmbus: 3
        case .mbus: 4
        }
    }
}
