import Foundation
import GatewayCore
import GatewayDomain
import GatewayHTTP
import Hummingbird
import Logging
import PostgresSink

/// A fresh, migrated database on the test server (`GATEWAY_TEST_PG`) with the meters given, and a router serving
/// the billing, review and dispatch APIs over it with ``TestCredentials``.
struct APIFixture {
    let writer: TelemetryStore
    let dispatch: DispatchStore
    let router: Router<GatewayRequestContext>
    /// Meter id per address.
    let meters: [String: Int64]
    let conninfo: String

    /// Runs `body` with a fixture whose database is dropped afterwards.
    /// - Parameters:
    ///   - meters: Native meter addresses and their districts.
    ///   - maximumOutageHours: `dispatch.max_outage_hours`.
    ///   - zone: The billing day's zone.
    ///   - body: The test.
    static func with(
        meters: [String: String] = [:],
        maximumOutageHours: Int = 12,
        zone: TimeZoneRules = .utc,
        _ body: (APIFixture) async throws -> Void
    ) async throws {
        let name = "h_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let base = ProcessInfo.processInfo.environment["GATEWAY_TEST_PG"] ?? ""
        let admin = try PostgresConnection.connect(conninfo: base)
        try admin.execute("CREATE DATABASE \(name)")
        admin.close()
        defer {
            if let admin = try? PostgresConnection.connect(conninfo: base) {
                _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                admin.close()
            }
        }
        let conninfo = base + " dbname=\(name)"
        let logger = Logger(label: "api-fixture")
        let writer = TelemetryStore(conninfo: conninfo, logger: logger)
        _ = try await writer.migrate()
        let profiles = meters.map { address, district in
            var profile = MeterProfile(protocol: .native, address: address)
            profile.district = district
            return profile
        }
        _ = try await MeterStore(writer.database).importMeters(profiles, columns: [.district])
        var ids: [String: Int64] = [:]
        for meter in try await MeterStore(writer.database).loadMeters(protocol: .native) {
            ids[meter.address] = meter.id
        }
        let api = PostgresSession(conninfo: conninfo, logger: logger)
        let dispatch = DispatchStore(api, outages: PlannedOutagePolicy(maximumHours: maximumOutageHours))
        let router = GatewayHTTPServer.makeRouter(readiness: { [] })
        BillingAPI(store: BillingStore(api), credentials: TestCredentials.store, zone: zone).register(on: router)
        DispatchAPI(
            store: dispatch,
            inspections: InspectionStore(api),
            credentials: TestCredentials.store,
            residentialMonths: 12,
            nonResidentialMonths: 6,
            zone: zone
        ).register(on: router)
        ComplaintsAPI(
            store: ComplaintStore(api, calendar: .weekendsOnly, zone: .utc),
            tickets: dispatch,
            report: ServiceQualityStore(api),
            settings: .init(zone: .utc, residentialMonths: 12, nonResidentialMonths: 6),
            credentials: TestCredentials.store
        ).register(on: router)
        let fixture = APIFixture(writer: writer, dispatch: dispatch, router: router, meters: ids, conninfo: conninfo)
        do {
            try await body(fixture)
        } catch {
            await api.close()
            await writer.close()
            throw error
        }
        await api.close()
        await writer.close()
    }

    /// A pressure-loss alarm of a meter, received now.
    static func pressureLoss(meter: Int64, at now: Timestamp) -> AlarmRecord {
        AlarmRecord(
            meterID: meter,
            raisedAt: now.adding(seconds: -2),
            receivedAt: now,
            source: .native,
            rawCode: 0x31,
            condition: .pressureLow,
            isCleared: false,
            priority: .p0,
            valve: .open,
            detail: 0,
            frameCounter: nil
        )
    }
}

/// The JSON object of a response body.
func jsonObject(_ buffer: ByteBuffer) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(String(buffer: buffer).utf8)) as? [String: Any]
    else { throw CocoaError(.coderReadCorrupt) }
    return object
}
