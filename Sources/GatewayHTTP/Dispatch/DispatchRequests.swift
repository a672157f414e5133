/// `POST /dispatch/v1/tickets/{id}/steps`: `{"step":"acknowledged","actor":"…","note":"…"}`.
struct StepRequest: Decodable, Sendable {
    var step: String
    var actor: String
    var note: String?
}

/// `POST /dispatch/v1/tickets/{id}/notes`: `{"actor":"…","note":"…"}`.
struct NoteRequest: Decodable, Sendable {
    var actor: String
    var note: String
}

/// `POST /dispatch/v1/tickets`: `{"protocol","meter","reporter","actor","note","condition"}`, a hotline ticket;
/// `condition` defaults to `gas_smell_reported`.
struct ManualTicketRequest: Decodable, Sendable {
    var `protocol`: String
    var meter: String
    var reporter: String
    var actor: String
    var note: String?
    var condition: String?
}

/// `POST /dispatch/v1/outages`: `{"district","starts_at","ends_at","reason","announced_by"}`.
struct OutageRequest: Decodable, Sendable {
    var district: String
    var startsAt: String
    var endsAt: String
    var reason: String
    var announcedBy: String

    enum CodingKeys: String, CodingKey {
        case district, reason
        case startsAt = "starts_at"
        case endsAt = "ends_at"
        case announcedBy = "announced_by"
    }
}

/// `POST /dispatch/v1/inspections`: `{"protocol","meter","date","inspector","result","note"}`.
struct InspectionRequest: Decodable, Sendable {
    var `protocol`: String
    var meter: String
    var date: String
    var inspector: String
    var result: String
    var note: String?
}
