import GatewayCore
import GatewayDomain
import HTTPTypes
import Hummingbird
import PostgresSink

extension DispatchAPI {
    /// Adds the chart routes (role `dispatch`, in the dispatch group so its authentication applies):
    ///
    /// * `GET /dispatch/v1/meters/{protocol}/{meter}/consumption.svg?days=N&ticket=ID` — the meter's
    ///   ``ConsumptionChart`` over the last `days` local days (default 30, 1…366) of the signatures' zone; with
    ///   `ticket`, the days end with the day that ticket opened and the chart marks what raised it.
    ///   `{protocol}`/`{meter}` are the ticket JSON's `meter.protocol` and `meter.id`.
    /// * `GET /dispatch/v1/districts/{district}/balance.svg?days=N` — the district's ``DistrictBalanceChart``.
    ///
    /// `200` with `Content-Type: image/svg+xml`; `400` `bad_days`, `bad_protocol`, `bad_ticket`; `404`
    /// `no_such_meter`, `no_such_ticket` (not a ticket of that meter), `no_such_district` (no meter there), all in
    /// the one JSON error shape.
    /// - Parameters:
    ///   - group: The authenticated `dispatch/v1` group.
    ///   - charts: Where the charts' data is read.
    ///   - settings: The leak signatures' thresholds and zone, the validator's.
    func registerCharts(on group: RouterGroup<GatewayRequestContext>, charts: ChartStore, settings: SignatureSettings) {
        let clock = charts.clock
        group.get("meters/{protocol}/{meter}/consumption.svg") { request, context -> Response in
            let days = try Self.chartDays(request)
            guard let source = context.parameters.get("protocol").flatMap(FrameProtocol.init(rawValue:)) else {
                throw APIError.badRequest(
                    "bad_protocol",
                    message: "protocol must be one of \(FrameProtocol.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            let address = context.parameters.get("meter") ?? ""
            var ticketID: Int64?
            if let text = request.uri.queryParameters["ticket"] {
                guard let id = Int64(text), id > 0 else {
                    throw APIError.badRequest("bad_ticket", message: "ticket must be a ticket id")
                }
                ticketID = id
            }
            let chart = try await Self.mapNotFound {
                try await charts.consumptionChart(
                    meter: (source, address),
                    days: days,
                    ticketID: ticketID,
                    now: clock(),
                    settings: settings
                )
            }
            return Self.svgResponse(chart.svg())
        }
        group.get("districts/{district}/balance.svg") { request, context -> Response in
            let days = try Self.chartDays(request)
            let district = context.parameters.get("district") ?? ""
            let chart = try await Self.mapNotFound {
                try await charts.districtBalanceChart(district: district, days: days, now: clock(), zone: settings.zone)
            }
            return Self.svgResponse(chart.svg())
        }
    }

    /// The `days` query parameter: 30 when absent, else an integer 1…366.
    /// - Throws: ``APIError`` `400` `bad_days`.
    static func chartDays(_ request: Request) throws(APIError) -> Int {
        guard let text = request.uri.queryParameters["days"] else { return 30 }
        guard let days = Int(text), (1...366).contains(days) else {
            throw .badRequest("bad_days", message: "days must be a whole number from 1 to 366")
        }
        return days
    }

    /// Runs a chart lookup, turning ``ChartStore/NotFound`` into `404` `no_such_<subject>`.
    static func mapNotFound<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let missing as ChartStore.NotFound {
            throw APIError.notFound("no_such_\(missing.subject.rawValue)", message: missing.message)
        }
    }

    /// `200` with the SVG document; not cached by shared caches (the chart holds a customer's consumption).
    static func svgResponse(_ svg: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "image/svg+xml"
        headers[.cacheControl] = "private, max-age=60"
        if let name = HTTPField.Name("X-Content-Type-Options") { headers[name] = "nosniff" }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: svg)))
    }
}
