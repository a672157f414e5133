import Foundation
import GatewayCore
import GatewayDomain
import HTTPTypes
public import Hummingbird
public import PostgresSink

/// The billing and review interfaces over HTTP.
///
/// Billing (read-only, `GET` only):
/// * `GET /billing/v1/daily-reads?cursor=C&limit=N`: published days after the opaque cursor `C` (omit it to start
///   at the beginning), as JSON `{"reads":[…],"next_cursor":"…","has_more":bool}`. Keep `next_cursor` and send it
///   next time: every publication arrives exactly once, corrections as later rows (`version` > 1,
///   `is_correction` true) that replace the earlier row of the same meter, basis and day.
/// * `GET /billing/v1/daily-reads.csv?cursor=C&limit=N`: the same rows as CSV, one line per day, the next cursor in
///   the `Next-Cursor` response header.
/// * `GET /meters/v1/verification-expired?as_of=YYYY-MM-DD`: meters past their verification expiry.
///
/// Review (only with a configured token, sent as `Authorization: Bearer <token>`):
/// * `GET /review/v1/held?limit=N`: readings and days held for review.
/// * `POST /review/v1/decisions` with JSON `{"protocol","meter","basis","read_at","kind"}` (a reading) or
///   `{"protocol","meter","basis","day"}` (a day) plus `"decision":"accept"|"reject"`, `"reviewer"`, `"reason"`.
public struct BillingAPI: Sendable {
    private let store: PostgresWriter
    private let reviewToken: String

    /// Creates the API.
    /// - Parameters:
    ///   - store: A writer with its own connection, used for these queries only.
    ///   - reviewToken: The bearer token reviewers send; empty disables the review routes.
    public init(store: PostgresWriter, reviewToken: String) {
        self.store = store
        self.reviewToken = reviewToken
    }

    /// The most rows one page returns.
    public static let maximumPageSize = 5000

    /// Adds the routes to a router.
    public func register(on router: Router<BasicRequestContext>) {
        let store = store
        let token = reviewToken
        router.get("billing/v1/daily-reads") { request, _ -> Response in
            guard let page = Self.pageRequest(request) else { return Self.error(.badRequest, "bad_cursor_or_limit") }
            let reads = try await store.billingPage(after: page.cursor, limit: page.limit + 1)
            return Self.json(Self.renderPage(reads, limit: page.limit, after: page.cursor))
        }
        router.get("billing/v1/daily-reads.csv") { request, _ -> Response in
            guard let page = Self.pageRequest(request) else { return Self.error(.badRequest, "bad_cursor_or_limit") }
            let reads = try await store.billingPage(after: page.cursor, limit: page.limit + 1)
            let shown = Array(reads.prefix(page.limit))
            var headers: HTTPFields = [.contentType: "text/csv; charset=utf-8"]
            if let name = HTTPField.Name("Next-Cursor") {
                headers[name] = Self.cursor(shown.last?.seq ?? page.cursor)
            }
            if let name = HTTPField.Name("Has-More") { headers[name] = reads.count > page.limit ? "true" : "false" }
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: BillingCSV.render(shown)))
            )
        }
        router.get("meters/v1/verification-expired") { request, _ -> Response in
            let text = request.uri.queryParameters["as_of"].map(String.init) ?? ""
            guard let date = text.isEmpty ? Self.today : CivilDate(iso: text) else {
                return Self.error(.badRequest, "bad_date")
            }
            let meters = try await store.expiredMeters(asOf: date)
            var json = JSONWriter()
            json.beginObject()
            json.field("as_of", string: date.description)
            json.key("meters")
            json.beginArray()
            for meter in meters {
                json.beginObject()
                json.field("protocol", string: meter.protocol.rawValue)
                json.field("meter", string: meter.meter)
                if let district = meter.district {
                    json.field("district", string: district)
                } else {
                    json.fieldNull("district")
                }
                json.field("verification_expires_on", string: meter.expiresOn)
                json.endObject()
            }
            json.endArray()
            json.endObject()
            return Self.json(json.text)
        }
        router.get("review/v1/held") { request, _ -> Response in
            guard Self.authorised(request, token: token) else {
                return Self.error(.unauthorized, "review_token_required")
            }
            let limit = request.uri.queryParameters["limit"].flatMap { Int(String($0)) } ?? 500
            guard (1...Self.maximumPageSize).contains(limit) else { return Self.error(.badRequest, "bad_limit") }
            return Self.json(Self.renderHeld(try await store.heldForReview(limit: limit)))
        }
        router.post("review/v1/decisions") { request, context -> Response in
            guard Self.authorised(request, token: token) else {
                return Self.error(.unauthorized, "review_token_required")
            }
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard let decision = try? JSONDecoder().decode(ReviewRequest.self, from: Data(String(buffer: body).utf8)),
                let parsed = decision.parsed
            else { return Self.error(.badRequest, "bad_review") }
            do {
                try await store.review(
                    meter: (parsed.protocol, decision.meter),
                    basis: parsed.basis,
                    target: parsed.target,
                    decision: parsed.decision,
                    reviewer: decision.reviewer,
                    reason: decision.reason
                )
            } catch let error as PostgresError where error.code == .invalidArgument {
                return Self.error(.notFound, "not_held", message: error.message)
            }
            return Self.json("{\"recorded\":true}")
        }
    }

    // MARK: Requests

    struct PageRequest {
        var cursor: Int64
        var limit: Int
    }

    static func pageRequest(_ request: Request) -> PageRequest? {
        let query = request.uri.queryParameters
        var cursor: Int64 = 0
        if let text = query["cursor"], !text.isEmpty {
            guard let seq = Self.seq(fromCursor: String(text)) else { return nil }
            cursor = seq
        }
        let limit = query["limit"].flatMap { Int(String($0)) } ?? 1000
        guard (1...maximumPageSize).contains(limit) else { return nil }
        return PageRequest(cursor: cursor, limit: limit)
    }

    /// The opaque cursor for a feed position: base64url of `feed:<seq>`.
    public static func cursor(_ seq: Int64) -> String {
        Data("feed:\(seq)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The feed position of a cursor, or `nil` when it was not made by ``cursor(_:)``.
    public static func seq(fromCursor cursor: String) -> Int64? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
            text.hasPrefix("feed:"), let seq = Int64(text.dropFirst(5)), seq >= 0
        else { return nil }
        return seq
    }

    static func authorised(_ request: Request, token: String) -> Bool {
        guard !token.isEmpty, let header = request.headers[.authorization] else { return false }
        let expected = Array("Bearer \(token)".utf8)
        let given = Array(header.utf8)
        // Compare in constant time for equal lengths.
        guard given.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<given.count { difference |= given[index] ^ expected[index] }
        return difference == 0
    }

    static var today: CivilDate { CivilDate(Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970))) }

    struct ReviewRequest: Decodable {
        var `protocol`: String
        var meter: String
        var basis: String?
        var readAt: String?
        var kind: Int16?
        var day: String?
        var decision: String
        var reviewer: String
        var reason: String

        enum CodingKeys: String, CodingKey {
            case `protocol`, meter, basis, kind, day, decision, reviewer, reason
            case readAt = "read_at"
        }

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

    // MARK: Responses

    static func json(_ text: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n"))
        )
    }

    static func error(_ status: HTTPResponse.Status, _ code: String, message: String? = nil) -> Response {
        var json = JSONWriter()
        json.beginObject()
        json.key("error")
        json.beginObject()
        json.field("code", string: code)
        if let message { json.field("message", string: message) }
        json.endObject()
        json.endObject()
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: json.text + "\n"))
        )
    }

    /// The JSON page: the first `limit` of `reads`, the cursor after them, and whether more follow.
    public static func renderPage(_ reads: [BillingRead], limit: Int, after cursor: Int64) -> String {
        let shown = reads.prefix(limit)
        var json = JSONWriter()
        json.beginObject()
        json.key("reads")
        json.beginArray()
        for read in shown {
            json.beginObject()
            json.key("meter")
            json.beginObject()
            json.field("protocol", string: read.protocol.rawValue)
            json.field("id", string: read.meter)
            if let district = read.district {
                json.field("district", string: district)
            } else {
                json.fieldNull("district")
            }
            json.endObject()
            json.field("basis", string: read.basis.name)
            json.field("day", string: read.day)
            json.field("day_start", string: read.dayStart.description)
            json.field("version", integer: read.version)
            json.field("is_correction", bool: read.isCorrection)
            json.field("start_index_ml", integer: read.startIndexMillilitres)
            json.field("end_index_ml", integer: read.endIndexMillilitres)
            json.field("volume_ml", integer: read.volumeMillilitres)
            json.field("quality", string: read.quality.name)
            json.key("reasons")
            json.beginArray()
            for reason in read.reasons { json.string(reason) }
            json.endArray()
            json.key("intervals")
            json.beginArray()
            for interval in read.intervals {
                json.beginObject()
                json.field("start", string: interval.start.description)
                json.field("minutes", integer: read.intervalMinutes ?? 0)
                json.field("volume_ml", integer: interval.volumeMillilitres)
                json.field("quality", string: interval.isEstimated ? "estimated" : "actual")
                json.endObject()
            }
            json.endArray()
            json.endObject()
        }
        json.endArray()
        json.field("next_cursor", string: Self.cursor(shown.last?.seq ?? cursor))
        json.field("has_more", bool: reads.count > limit)
        json.endObject()
        return json.text
    }

    static func renderHeld(_ items: [HeldItem]) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.key("held")
        json.beginArray()
        for item in items {
            json.beginObject()
            json.field("protocol", string: item.protocol.rawValue)
            json.field("meter", string: item.meter)
            json.field("basis", string: item.basis.name)
            switch item.target {
            case .reading(let readAt, let kind):
                json.field("read_at", string: readAt.description)
                json.field("kind", integer: kind.rawValue)
            case .day(let day):
                json.field("day", string: day)
            }
            json.field("volume_ml", integer: item.volumeMillilitres)
            json.key("reasons")
            json.beginArray()
            for reason in item.reasons { json.string(reason) }
            json.endArray()
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return json.text
    }
}

/// The CSV form of billing rows (the HTTP export and `meter-gateway billing export`).
public enum BillingCSV {
    /// The header line.
    public static let header =
        "seq,protocol,meter,district,basis,day,day_start,version,is_correction,start_index_ml,end_index_ml,volume_ml,quality,reasons,interval_minutes,intervals_ml,intervals_estimated"

    /// The header and one line per row.
    public static func render(_ reads: [BillingRead]) -> String {
        var text = header + "\n"
        for read in reads {
            let fields: [String] = [
                String(read.seq), read.protocol.rawValue, read.meter, read.district ?? "", read.basis.name, read.day,
                read.dayStart.description, String(read.version), read.isCorrection ? "true" : "false",
                String(read.startIndexMillilitres), String(read.endIndexMillilitres), String(read.volumeMillilitres),
                read.quality.name, read.reasons.joined(separator: " "), read.intervalMinutes.map(String.init) ?? "",
                read.intervals.map { String($0.volumeMillilitres) }.joined(separator: " "),
                read.intervals.map { $0.isEstimated ? "1" : "0" }.joined(separator: ""),
            ]
            text += fields.map(quoted).joined(separator: ",") + "\n"
        }
        return text
    }

    /// RFC 4180 quoting when the field needs it.
    static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
