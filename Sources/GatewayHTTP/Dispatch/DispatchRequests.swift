/// `POST /dispatch/v1/tickets/{id}/steps`: `{"step":"acknowledged","note":"…"}`. The actor is the credential's
/// name; an `actor` member is ignored (as are all unknown members).
struct StepRequest: Decodable, Sendable {
    var step: String
    var note: String?
}

/// `POST /dispatch/v1/tickets/{id}/notes`: `{"note":"…"}`; the actor is the credential's name.
struct NoteRequest: Decodable, Sendable {
    var note: String
}

/// `POST /dispatch/v1/tickets`: `{"protocol","meter","reporter","note","condition"}`, a hotline ticket;
/// `condition` defaults to `gas_smell_reported`. `reporter` is the caller; who took the call is the credential's name.
struct ManualTicketRequest: Decodable, Sendable {
    var `protocol`: String
    var meter: String
    var reporter: String
    var note: String?
    var condition: String?
}

/// `POST /dispatch/v1/inspections`: `{"protocol","meter","date","inspector","result","note"}`. `inspector` is who
/// inspected the premises on site, a fact of the visit recorded as given; who recorded it (`recorded_by`) is the
/// credential's name, and a `recorded_by` member is ignored.
struct InspectionRequest: Decodable, Sendable {
    var `protocol`: String
    var meter: String
    var date: String
    var inspector: String
    var result: String
    var note: String?
}
