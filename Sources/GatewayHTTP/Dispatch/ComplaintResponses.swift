import GatewayCore
import GatewayDomain
import Hummingbird
import PostgresSink

/// `POST /dispatch/v1/complaints`. `protocol` and `meter` name the household's meter (both or neither); a billing
/// dispute needs them and `disputed_from`/`disputed_to` (`YYYY-MM-DD`, both included).
struct ComplaintRequest: Decodable, Sendable {
    var channel: String
    var category: String
    var `protocol`: String?
    var meter: String?
    var district: String?
    var complainant: String
    var contact: String?
    var confidential: Bool?
    var summary: String
    var request: String?
    var disputedFrom: String?
    var disputedTo: String?

    enum CodingKeys: String, CodingKey {
        case channel, category, `protocol`, meter, district, complainant, contact, confidential, summary, request
        case disputedFrom = "disputed_from"
        case disputedTo = "disputed_to"
    }

    /// The intake, or `400` `bad_complaint` saying which field is wrong.
    func intake() throws(APIError) -> ComplaintIntake {
        guard let channel = ComplaintChannel(rawValue: channel) else {
            throw .badRequest(
                "bad_complaint",
                message: "channel must be one of: " + ComplaintChannel.allCases.map(\.rawValue).joined(separator: ", ")
            )
        }
        guard let category = ComplaintCategory(rawValue: category) else {
            throw .badRequest(
                "bad_complaint",
                message: "category must be one of: "
                    + ComplaintCategory.allCases.map(\.rawValue).joined(separator: ", ")
            )
        }
        var meter: (protocol: FrameProtocol, address: String)?
        switch (self.protocol, self.meter) {
        case (nil, nil): meter = nil
        case (let text?, let address?):
            guard let source = FrameProtocol(rawValue: text) else {
                throw .badRequest("bad_complaint", message: "protocol must be native, cjt188, wmbus or mbus")
            }
            meter = (source, address)
        default: throw .badRequest("bad_complaint", message: "protocol and meter go together")
        }
        var days: ClosedRange<CivilDate>?
        switch (disputedFrom, disputedTo) {
        case (nil, nil): days = nil
        case (let from?, let to?):
            guard let first = CivilDate(iso: from), let last = CivilDate(iso: to), first <= last else {
                throw .badRequest(
                    "bad_complaint",
                    message: "disputed_from and disputed_to must be dates like 2026-02-01, in order"
                )
            }
            days = first...last
        default: throw .badRequest("bad_complaint", message: "disputed_from and disputed_to go together")
        }
        guard !complainant.isEmpty, !summary.isEmpty else {
            throw .badRequest("bad_complaint", message: "complainant and summary must not be empty")
        }
        return ComplaintIntake(
            channel: channel,
            category: category,
            meter: meter,
            district: district,
            complainant: complainant,
            contact: contact,
            isConfidential: confidential ?? false,
            summary: summary,
            request: request,
            disputedDays: days
        )
    }
}

/// `POST /dispatch/v1/complaints/{id}/steps`: `{"step","text","outcome"}`.
struct ComplaintStepRequest: Decodable, Sendable {
    var step: String
    var text: String?
    var outcome: String?
}

/// `POST …/return-call`: `{"outcome","attempts","remarks"}`; `attempts` defaults to 1 (0 for a waiver).
struct ReturnCallRequest: Decodable, Sendable {
    var outcome: String
    var attempts: Int?
    var remarks: String?
}

/// A complaint as the API shows it. The complainant's name and contact are `null` for a confidential complaint.
struct ComplaintResponse: Encodable, Sendable {
    struct Meter: Encodable, Sendable {
        var `protocol`: String
        var id: String
    }

    var id: Int64
    var channel: String
    var category: String
    @ExplicitNull var meter: Meter?
    @ExplicitNull var district: String?
    @ExplicitNull var complainant: String?
    @ExplicitNull var contact: String?
    var confidential: Bool
    var summary: String
    @ExplicitNull var request: String?
    @ExplicitNull var disputedFrom: String?
    @ExplicitNull var disputedTo: String?
    var status: String
    var receivedAt: String
    var receivedBy: String
    var answerBy: String
    var answerByProvisional: Bool
    var steps: TicketResponse.Steps
    @ExplicitNull var notAcceptedReason: String?
    @ExplicitNull var proposal: String?
    @ExplicitNull var answer: String?
    @ExplicitNull var outcome: String?
    var escalationLevel: Int

    enum CodingKeys: String, CodingKey {
        case id, channel, category, meter, district, complainant, contact, confidential, summary, request, status
        case steps, proposal, answer, outcome
        case disputedFrom = "disputed_from"
        case disputedTo = "disputed_to"
        case receivedAt = "received_at"
        case receivedBy = "received_by"
        case answerBy = "answer_by"
        case answerByProvisional = "answer_by_provisional"
        case notAcceptedReason = "not_accepted_reason"
        case escalationLevel = "escalation_level"
    }

    init(_ complaint: Complaint) {
        id = complaint.id
        channel = complaint.channel.rawValue
        category = complaint.category.rawValue
        meter = complaint.protocol.flatMap { source in complaint.meter.map { Meter(protocol: source.rawValue, id: $0) }
        }
        district = complaint.district
        complainant = complaint.isConfidential ? nil : complaint.complainant
        contact = complaint.isConfidential ? nil : complaint.contact
        confidential = complaint.isConfidential
        summary = complaint.summary
        request = complaint.request
        disputedFrom = complaint.disputedFrom.map { "\($0)" }
        disputedTo = complaint.disputedTo.map { "\($0)" }
        status = complaint.status.rawValue
        receivedAt = "\(complaint.receivedAt)"
        receivedBy = complaint.receivedBy
        answerBy = "\(complaint.answerBy)"
        answerByProvisional = complaint.isAnswerByProvisional
        steps = TicketResponse.Steps(
            taken: ComplaintStep.allCases.compactMap { step in
                complaint.steps[step.rawValue].map { (step.rawValue, "\($0)") }
            }
        )
        notAcceptedReason = complaint.notAcceptedReason
        proposal = complaint.proposal
        answer = complaint.answer
        outcome = complaint.outcome?.rawValue
        escalationLevel = complaint.escalationLevel
    }
}

/// `GET /dispatch/v1/complaints`: `{"complaints":[…],"next_cursor":…}`.
struct ComplaintListResponse: Encodable, Sendable {
    var complaints: [ComplaintResponse]
    @ExplicitNull var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case complaints
        case nextCursor = "next_cursor"
    }
}

/// One complaint event: `{"id","complaint_id","at","kind","actor","detail"}`.
struct ComplaintEventResponse: ResponseEncodable, Sendable {
    var id: Int64
    var complaintID: Int64
    var at: String
    var kind: String
    var actor: String
    @ExplicitNull var detail: String?

    enum CodingKeys: String, CodingKey {
        case id, at, kind, actor, detail
        case complaintID = "complaint_id"
    }

    init(_ event: ComplaintEvent) {
        id = event.id
        complaintID = event.complaintID
        at = "\(event.at)"
        kind = event.kind
        actor = event.actor
        detail = event.detail
    }
}

/// A return call: `{"outcome","attempts","remarks","actor","at"}`.
struct ReturnCallResponse: Encodable, Sendable {
    var outcome: String
    var attempts: Int
    @ExplicitNull var remarks: String?
    var actor: String
    var at: String

    init(_ call: ReturnCallRecord) {
        outcome = call.outcome.rawValue
        attempts = call.attempts
        remarks = call.remarks
        actor = call.actor
        at = "\(call.at)"
    }
}

/// `GET /dispatch/v1/complaints/{id}`: `{"complaint","events","return_call"}`.
struct ComplaintDetailResponse: ResponseEncodable, Sendable {
    var complaint: ComplaintResponse
    var events: [ComplaintEventResponse]
    @ExplicitNull var returnCall: ReturnCallResponse?

    enum CodingKeys: String, CodingKey {
        case complaint, events
        case returnCall = "return_call"
    }
}

/// `GET /dispatch/v1/complaints/{id}/dispute`: `{"complaint","accuracy_tests","days","billing_versions"}`.
struct DisputeFileResponse: ResponseEncodable, Sendable {
    struct Test: Encodable, Sendable {
        var id: Int64
        var testedOn: String
        var flowMlPerH: Int64
        var errorBp: Int
        var verdict: String
        @ExplicitNull var limitBp: Int?
        var tester: String
        @ExplicitNull var note: String?

        enum CodingKeys: String, CodingKey {
            case id, verdict, tester, note
            case testedOn = "tested_on"
            case flowMlPerH = "flow_ml_per_h"
            case errorBp = "error_bp"
            case limitBp = "limit_bp"
        }
    }

    struct Day: Encodable, Sendable {
        var day: String
        var basis: Int
        var volumeMl: Int64
        var quality: String
        var reasons: [String]
        var version: Int
        var publishedVersion: Int

        enum CodingKeys: String, CodingKey {
            case day, basis, quality, reasons, version
            case volumeMl = "volume_ml"
            case publishedVersion = "published_version"
        }
    }

    struct Version: Encodable, Sendable {
        var seq: Int64
        var day: String
        var basis: Int
        var version: Int
        var isCorrection: Bool
        var volumeMl: Int64
        var quality: String
        var publishedAt: String

        enum CodingKeys: String, CodingKey {
            case seq, day, basis, version, quality
            case isCorrection = "is_correction"
            case volumeMl = "volume_ml"
            case publishedAt = "published_at"
        }
    }

    var complaint: ComplaintResponse
    var accuracyTests: [Test]
    var days: [Day]
    var billingVersions: [Version]

    enum CodingKeys: String, CodingKey {
        case complaint, days
        case accuracyTests = "accuracy_tests"
        case billingVersions = "billing_versions"
    }

    init(_ file: DisputeFile) {
        complaint = ComplaintResponse(file.complaint)
        accuracyTests = file.accuracyTests.map {
            Test(
                id: $0.id,
                testedOn: $0.testedOn,
                flowMlPerH: $0.flowMillilitresPerHour,
                errorBp: $0.errorBasisPoints,
                verdict: $0.verdict,
                limitBp: $0.limitBasisPoints,
                tester: $0.tester,
                note: $0.note
            )
        }
        days = file.days.map {
            Day(
                day: $0.day,
                basis: $0.basis,
                volumeMl: $0.volumeMillilitres,
                quality: $0.quality,
                reasons: $0.reasons,
                version: $0.version,
                publishedVersion: $0.publishedVersion
            )
        }
        billingVersions = file.billingVersions.map {
            Version(
                seq: $0.seq,
                day: $0.day,
                basis: $0.basis,
                version: $0.version,
                isCorrection: $0.isCorrection,
                volumeMl: $0.volumeMillilitres,
                quality: $0.quality,
                publishedAt: "\($0.publishedAt)"
            )
        }
    }
}
