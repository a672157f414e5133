import GatewayCore
import GatewayDomain
import Hummingbird
import PostgresSink

extension DispatchAPI {
    /// Adds the planned-outage routes (`supervisor`): list, announce, cancel. See ``DispatchAPI``.
    /// - Parameter group: The `dispatch/v1/outages` group of the router.
    func registerOutages(on group: RouterGroup<GatewayRequestContext>, store: DispatchStore) {
        group.add(middleware: AuthenticationMiddleware(credentials, requiring: .supervisor))
        group.get { request, _ -> Response in
            let page = try Page(request, list: "outages", keyCount: 1...1)
            let district = request.uri.queryParameters["district"].map(String.init)
            var afterOutage: Int64?
            if let key = page.after {
                guard let id = Int64(key[0]) else { throw APIError.badRequest("bad_cursor_or_limit") }
                afterOutage = id
            }
            let rows = try await store.currentOutages(
                district: district,
                afterOutage: afterOutage,
                limit: page.limit + 1
            )
            let (outages, next) = page.slice(rows, list: "outages") { ["\($0.id)"] }
            return try Page.response(
                OutageListResponse(outages: outages.map(OutageDetail.init), nextCursor: next),
                nextCursor: next,
                for: request
            )
        }
        group.post { request, context -> Response in
            let body = try await request.decodeJSON(
                as: OutageRequest.self,
                context: context,
                orRefuseWith: "bad_outage"
            )
            guard let start = Timestamp(iso: body.startsAt), let end = Timestamp(iso: body.endsAt) else {
                throw APIError.badRequest(
                    "bad_outage",
                    message: "starts_at and ends_at must be like 2026-11-24T08:00:00Z"
                )
            }
            do {
                let id = try await store.announceOutage(
                    district: body.district,
                    from: start,
                    to: end,
                    reason: body.reason,
                    by: try context.actor()
                )
                return try GatewayJSONEncoder().created(OutageResponse(outageID: id))
            } catch let refusal as PlannedOutagePolicy.Refusal {
                let code = refusal.reason == .emptyWindow ? "bad_outage" : refusal.reason.rawValue
                throw APIError.badRequest(code, message: refusal.message)
            } catch let error as PostgresError where error.code == .invalidArgument {
                throw APIError.badRequest("bad_outage", message: error.message)
            }
        }
        group.post("{id}/cancel") { request, context -> OutageDetail in
            guard let id = context.parameters.get("id").flatMap({ Int64($0) }) else {
                throw APIError.badRequest("bad_id")
            }
            let body = try await request.decodeJSON(
                as: OutageCancelRequest.self,
                context: context,
                orRefuseWith: "bad_cancellation"
            )
            let cancelled: PlannedOutage?
            do {
                cancelled = try await store.cancelOutage(id, reason: body.reason, by: try context.actor())
            } catch let refusal as PlannedOutagePolicy.Refusal {
                throw APIError(.conflict, refusal.reason.rawValue, message: refusal.message)
            } catch let error as PostgresError where error.code == .invalidArgument {
                throw APIError.badRequest("bad_cancellation", message: error.message)
            }
            guard let cancelled else { throw APIError.notFound("no_such_outage") }
            return OutageDetail(cancelled)
        }
    }
}

/// `POST /dispatch/v1/outages`: `{"district","starts_at","ends_at","reason"}`. Who announced it is the credential's
/// name; an `announced_by` member is ignored.
struct OutageRequest: Decodable, Sendable {
    var district: String
    var startsAt: String
    var endsAt: String
    var reason: String

    enum CodingKeys: String, CodingKey {
        case district, reason
        case startsAt = "starts_at"
        case endsAt = "ends_at"
    }
}

/// `POST /dispatch/v1/outages/{id}/cancel`: `{"reason":"…"}`.
struct OutageCancelRequest: Decodable, Sendable {
    var reason: String
}

/// `POST /dispatch/v1/outages`: `{"outage_id":…}`.
struct OutageResponse: ResponseEncodable, Sendable {
    var outageID: Int64

    enum CodingKeys: String, CodingKey {
        case outageID = "outage_id"
    }
}

/// One outage with its audit: `{"id","district","starts_at","ends_at","reason","announced_by","announced_at",
/// "cancelled_at","cancelled_by","cancel_reason"}` (the last three `null` while it stands).
struct OutageDetail: ResponseEncodable, Sendable {
    var id: Int64
    var district: String
    var startsAt: String
    var endsAt: String
    var reason: String
    var announcedBy: String
    var announcedAt: String
    @ExplicitNull var cancelledAt: String?
    @ExplicitNull var cancelledBy: String?
    @ExplicitNull var cancelReason: String?

    enum CodingKeys: String, CodingKey {
        case id, district, reason
        case startsAt = "starts_at"
        case endsAt = "ends_at"
        case announcedBy = "announced_by"
        case announcedAt = "announced_at"
        case cancelledAt = "cancelled_at"
        case cancelledBy = "cancelled_by"
        case cancelReason = "cancel_reason"
    }

    init(_ outage: PlannedOutage) {
        id = outage.id
        district = outage.district
        startsAt = "\(outage.startsAt)"
        endsAt = "\(outage.endsAt)"
        reason = outage.reason
        announcedBy = outage.announcedBy
        announcedAt = "\(outage.announcedAt)"
        cancelledAt = outage.cancelledAt.map { "\($0)" }
        cancelledBy = outage.cancelledBy
        cancelReason = outage.cancelReason
    }
}

/// `GET /dispatch/v1/outages`: `{"outages":[…],"next_cursor":…}` (see ``Page``).
struct OutageListResponse: Encodable, Sendable {
    var outages: [OutageDetail]
    @ExplicitNull var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case outages
        case nextCursor = "next_cursor"
    }
}
