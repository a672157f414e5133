import GatewayCore
import GatewayDomain
import PostgresSink

/// `POST /review/v1/decisions`: `{"protocol","meter","basis","read_at","kind"}` (a reading) or
/// `{"protocol","meter","basis","day"}` (a day), plus `"decision":"accept"|"reject"` and `"reason"`. The reviewer is
/// the credential's name; a `reviewer` member is ignored.
struct ReviewRequest: Decodable, Sendable {
    var `protocol`: String
    var meter: String
    var basis: String?
    var readAt: String?
    var kind: Int16?
    var day: String?
    var decision: String
    var reason: String

    enum CodingKeys: String, CodingKey {
        case `protocol`, meter, basis, kind, day, decision, reason
        case readAt = "read_at"
    }

    /// The decision in the store's terms, or `nil` when a value is unknown or both or neither of `read_at` and
    /// `day` are given.
    var parsed: (protocol: FrameProtocol, basis: VolumeBasis, target: HeldItem.Target, decision: ReviewDecision)? {
        guard let source = FrameProtocol(rawValue: self.protocol),
            let decision = ReviewDecision(rawValue: decision),
            let basis = VolumeBasis(name: basis ?? "unspecified")
        else { return nil }
        switch (readAt, day) {
        case (let text?, nil):
            guard let at = Timestamp(iso: text), let kind = ReadingKind(rawValue: kind ?? 0) else { return nil }
            return (source, basis, .reading(readAt: at, kind: kind), decision)
        case (nil, let day?):
            return (source, basis, .day(day), decision)
        default:
            return nil
        }
    }
}
