import Foundation
public import GatewayCore
import HTTPTypes
public import Hummingbird
public import PostgresSink

/// The billing and review interfaces over HTTP. Every route needs `Authorization: Bearer <token>` of a configured
/// credential (``AuthenticationMiddleware``) with the group's role, else `401` `unauthenticated` or `403`
/// `forbidden`.
///
/// Billing (role `billing` or `admin`; read-only, `GET` only):
/// * `GET /billing/v1/daily-reads?cursor=C&limit=N`: published days after the opaque cursor `C` (omit it to start
///   at the beginning), as JSON `{"reads":[…],"next_cursor":"…","has_more":bool}`. Keep `next_cursor` and send it
///   next time: every publication arrives exactly once, corrections as later rows (`version` > 1,
///   `is_correction` true) that replace the earlier row of the same meter, basis and day. While `has_more`, a
///   `Link: <…&cursor=next_cursor>; rel="next"` header points at the next page (see ``Page``).
/// * `GET /billing/v1/daily-reads.csv?cursor=C&limit=N`: the same rows as CSV, one line per day, the next cursor in
///   the `Next-Cursor` response header.
/// * `GET /meters/v1/verification-expired?as_of=YYYY-MM-DD&limit=N&cursor=C`: meters past their verification
///   expiry, paginated as every list is (``Page``).
///
/// Review (role `review` or `admin`):
/// * `GET /review/v1/held?limit=N&cursor=C`: readings and days held for review, paginated (``Page``).
/// * `POST /review/v1/decisions` with JSON `{"protocol","meter","basis","read_at","kind"}` (a reading) or
///   `{"protocol","meter","basis","day"}` (a day) plus `"decision":"accept"|"reject"` and `"reason"`. The reviewer
///   recorded is the credential's name; a `reviewer` member is ignored.
///
/// A review decision answers `201`.
///
/// Failures are ``APIError``s: `400` (`bad_cursor_or_limit`, `bad_date`, `bad_review`, `bad_value`), `404`
/// (`not_held`), and the database's `503`/`500`.
public struct BillingAPI: Sendable {
    private let store: BillingStore
    private let credentials: CredentialStore
    private let zone: TimeZoneRules

    /// Creates the API.
    /// - Parameters:
    ///   - store: A writer with its own connection, used for these queries only.
    ///   - credentials: The credentials the routes accept; none refuses every request.
    ///   - zone: The billing day's zone (`validation.billing_day_time_zone`): a date left out means today there.
    public init(store: BillingStore, credentials: CredentialStore, zone: TimeZoneRules = .utc) {
        self.store = store
        self.credentials = credentials
        self.zone = zone
    }

    /// The most rows one page returns.
    public static let maximumPageSize = 5000

    /// Adds the routes to a router made by ``GatewayHTTPServer/makeRouter(readiness:metrics:)``.
    /// - Parameter router: The router.
    public func register(on router: Router<GatewayRequestContext>) {
        let store = store
        let zone = zone
        let billing = router.group("billing/v1")
            .add(middleware: AuthenticationMiddleware(credentials, requiring: .billing))
        billing.get("daily-reads") { request, _ -> Response in
            let page = try Self.pageRequest(request)
            let reads = try await store.billingPage(after: page.cursor, limit: page.limit + 1)
            let body = BillingPageResponse(reads, limit: page.limit, after: page.cursor)
            return try Page.response(body, nextCursor: body.hasMore ? body.nextCursor : nil, for: request)
        }
        billing.get("daily-reads.csv") { request, _ -> Response in
            let page = try Self.pageRequest(request)
            let reads = try await store.billingPage(after: page.cursor, limit: page.limit + 1)
            let shown = Array(reads.prefix(page.limit))
            var headers: HTTPFields = [.contentType: "text/csv; charset=utf-8"]
            if let name = HTTPField.Name("Next-Cursor") {
                headers[name] = Self.cursor(shown.last?.seq ?? page.cursor)
            }
            if let name = HTTPField.Name("Has-More") { headers[name] = reads.count > page.limit ? "true" : "false" }
            if reads.count > page.limit, let name = HTTPField.Name("Link") {
                headers[name] = Page.link(next: Self.cursor(shown.last?.seq ?? page.cursor), for: request)
            }
            return Response(
                status: .ok,
                headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: BillingCSV.render(shown)))
            )
        }
        let meters = router.group("meters/v1")
            .add(middleware: AuthenticationMiddleware(credentials, requiring: .billing))
        meters.get("verification-expired") { request, _ -> Response in
            let page = try Page(request, list: "verification-expired", keyCount: 3...3)
            let text = request.uri.queryParameters["as_of"].map(String.init) ?? ""
            guard let date = text.isEmpty ? zone.date(of: WallClock.now()) : CivilDate(iso: text) else {
                throw APIError.badRequest("bad_date")
            }
            var after: (expiresOn: CivilDate, protocol: FrameProtocol, address: String)?
            if let key = page.after {
                guard let expiresOn = CivilDate(iso: key[0]), let source = FrameProtocol(rawValue: key[1]) else {
                    throw APIError.badRequest("bad_cursor_or_limit")
                }
                after = (expiresOn, source, key[2])
            }
            let rows = try await store.expiredMeters(asOf: date, after: after, limit: page.limit + 1)
            let (meters, next) = page.slice(rows, list: "verification-expired") {
                [$0.expiresOn, $0.protocol.rawValue, $0.meter]
            }
            return try Page.response(
                ExpiredMetersResponse(asOf: date, meters: meters, nextCursor: next),
                nextCursor: next,
                for: request
            )
        }

        let review = router.group("review/v1")
            .add(middleware: AuthenticationMiddleware(credentials, requiring: .review))
        review.get("held") { request, _ -> Response in
            let page = try Page(request, list: "held", keyCount: 4...7)
            let rows = try await store.heldForReview(after: try Self.heldPosition(page.after), limit: page.limit + 1)
            let (held, next) = page.slice(rows, list: "held") { Self.cursorKey($0.position) }
            return try Page.response(HeldResponse(held, nextCursor: next), nextCursor: next, for: request)
        }
        review.post("decisions") { request, context -> Response in
            let decision = try await request.decodeJSON(
                as: ReviewRequest.self,
                context: context,
                orRefuseWith: "bad_review"
            )
            guard let parsed = decision.parsed else { throw APIError.badRequest("bad_review") }
            do {
                try await store.review(
                    meter: (parsed.protocol, decision.meter),
                    basis: parsed.basis,
                    target: parsed.target,
                    decision: parsed.decision,
                    reviewer: try context.actor(),
                    reason: decision.reason
                )
            } catch let error as PostgresError where error.code == .invalidArgument {
                throw APIError.notFound("not_held", message: error.message)
            }
            return try GatewayJSONEncoder().created(RecordedResponse())
        }
    }

    // MARK: Requests

    /// The cursor key of a held item: `r`, read time (µs), meter id, kind, basis, storage, tariff; or `d`, day,
    /// meter id, basis.
    static func cursorKey(_ position: HeldPosition?) -> [String] {
        switch position {
        case .reading(let readAt, let meterID, let kind, let basis, let storage, let tariff):
            ["r", "\(readAt.microsecondsSinceEpoch)", "\(meterID)", "\(kind)", "\(basis)", "\(storage)", "\(tariff)"]
        case .day(let day, let meterID, let basis): ["d", day, "\(meterID)", "\(basis)"]
        case nil: []
        }
    }

    /// The held item a cursor key names (``cursorKey(_:)``), or `nil` for none.
    /// - Throws: ``APIError`` `400` `bad_cursor_or_limit` for a key no held item can have.
    static func heldPosition(_ key: [String]?) throws(APIError) -> HeldPosition? {
        guard let key else { return nil }
        let numbers = key.dropFirst(key.first == "d" ? 2 : 1).map { Int64($0) }
        switch (key.first, numbers.count) {
        case ("r", 6):
            if let micros = numbers[0], let meterID = numbers[1], let kind = numbers[2].flatMap({ Int16(exactly: $0) }),
                let basis = numbers[3].flatMap({ Int16(exactly: $0) }),
                let storage = numbers[4].flatMap({ Int16(exactly: $0) }),
                let tariff = numbers[5].flatMap({ Int16(exactly: $0) })
            {
                return .reading(
                    readAt: Timestamp(microsecondsSinceEpoch: micros),
                    meterID: meterID,
                    kind: kind,
                    basis: basis,
                    storage: storage,
                    tariff: tariff
                )
            }
        case ("d", 2):
            if CivilDate(iso: key[1]) != nil, let meterID = numbers[0],
                let basis = numbers[1].flatMap({ Int16(exactly: $0) })
            {
                return .day(day: key[1], meterID: meterID, basis: basis)
            }
        default: break
        }
        throw .badRequest("bad_cursor_or_limit")
    }

    struct PageRequest {
        var cursor: Int64
        var limit: Int
    }

    /// The cursor and limit of a page request.
    /// - Throws: ``APIError`` `400` `bad_cursor_or_limit`.
    static func pageRequest(_ request: Request) throws(APIError) -> PageRequest {
        let query = request.uri.queryParameters
        var cursor: Int64 = 0
        if let text = query["cursor"], !text.isEmpty {
            guard let seq = Self.seq(fromCursor: String(text)) else { throw .badRequest("bad_cursor_or_limit") }
            cursor = seq
        }
        var limit = 1000
        if let text = query["limit"] {
            // `limit=abc` is refused, not read as the default: a client that sent it did not get the page it asked for.
            guard let value = Int(String(text)), (1...maximumPageSize).contains(value) else {
                throw .badRequest(
                    "bad_cursor_or_limit",
                    message: "limit must be an integer from 1 to \(maximumPageSize)"
                )
            }
            limit = value
        }
        return PageRequest(cursor: cursor, limit: limit)
    }

    /// The opaque cursor for a feed position: base64url of `feed:<seq>`.
    /// - Parameter seq: The feed position.
    /// - Returns: The cursor.
    public static func cursor(_ seq: Int64) -> String {
        Data("feed:\(seq)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The feed position of a cursor, or `nil` when it was not made by ``cursor(_:)``.
    /// - Parameter cursor: The cursor a client sent.
    /// - Returns: The feed position, or `nil`.
    public static func seq(fromCursor cursor: String) -> Int64? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
            text.hasPrefix("feed:"), let seq = Int64(text.dropFirst(5)), seq >= 0
        else { return nil }
        return seq
    }

    // MARK: Responses

    /// The JSON page, as `GET /billing/v1/daily-reads` sends it (without the trailing newline): the first `limit`
    /// of `reads`, the cursor after them, and whether more follow.
    /// - Parameters:
    ///   - reads: Up to `limit + 1` rows after the cursor; one more than `limit` means more follow.
    ///   - limit: The page size asked for.
    ///   - cursor: The feed position the page starts after.
    /// - Returns: The JSON text.
    public static func renderPage(_ reads: [BillingRead], limit: Int, after cursor: Int64) -> String {
        do {
            return try GatewayJSONEncoder().text(BillingPageResponse(reads, limit: limit, after: cursor))
        } catch {
            // A page holds only strings, integers and booleans, which always encode.
            preconditionFailure("a billing page did not encode: \(error)")
        }
    }
}
