import Foundation
import GatewayCore
import GatewayHTTP
import Hummingbird
import HummingbirdTesting
import PostgresSink
import Testing

/// A date a request leaves out is today in the billing day's zone, not in UTC: for a utility on UTC+8, UTC's
/// "today" is yesterday until 08:00, so a meter whose verification expired today would be missing from the list
/// all morning.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["GATEWAY_TEST_PG"] != nil), .serialized)
struct DefaultDateZoneTests {
    /// Asks `uri` without `as_of` on an API whose billing zone is `zone` and expects today there.
    private func expectTodayIn(_ zone: TimeZoneRules, _ uri: String, role: Role) async throws {
        try await APIFixture.with(zone: zone) { fixture in
            try await Application(router: fixture.router).test(.router) { client in
                let before = zone.date(of: WallClock.now())
                try await client.execute(uri: uri, method: .get, headers: TestCredentials.bearer(role)) { response in
                    #expect(response.status == .ok, "\(uri)")
                    let asOf = try jsonObject(response.body)["as_of"] as? String
                    let after = zone.date(of: WallClock.now())
                    #expect(asOf == "\(before)" || asOf == "\(after)", "\(uri) in \(zone)")
                }
            }
        }
    }

    @Test(arguments: [
        ("/meters/v1/verification-expired", Role.billing), ("/dispatch/v1/reports/inspections-due", Role.dispatch),
    ])
    func aDateLeftOutIsTodayInTheBillingZone(uri: String, role: Role) async throws {
        // Twenty-six hours apart: whatever the hour, the two zones are on different dates.
        let east = TimeZoneRules(fixedOffsetSeconds: 14 * 3600)
        let west = TimeZoneRules(fixedOffsetSeconds: -12 * 3600)
        for zone in [east, west] { try await expectTodayIn(zone, uri, role: role) }
        #expect(east.date(of: WallClock.now()) != west.date(of: WallClock.now()))
    }
}
