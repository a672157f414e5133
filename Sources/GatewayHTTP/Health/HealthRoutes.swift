import Hummingbird

/// `GET /healthz` (the process answers: `ok`) and `GET /readyz` (`200 ready` when the gateway can accept and store
/// frames now; else `503` and `not ready: ` followed by every reason, e.g. `database: read-only (SQLSTATE 25006)`),
/// both as plain text for probes.
struct HealthRoutes: Sendable {
    /// Why the gateway cannot accept and store frames now; empty when it can. Called on an event loop: cheap.
    let readiness: @Sendable () -> [String]

    /// Adds the routes to a router.
    /// - Parameter router: The router.
    func register(on router: Router<GatewayRequestContext>) {
        let readiness = readiness
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            let reasons = readiness()
            let text = reasons.isEmpty ? "ready\n" : "not ready: " + reasons.joined(separator: "; ") + "\n"
            return Response(
                status: reasons.isEmpty ? .ok : .serviceUnavailable,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: text))
            )
        }
    }
}
