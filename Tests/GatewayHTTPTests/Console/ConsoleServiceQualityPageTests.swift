import Foundation
import GatewayDomain
import Testing

@testable import GatewayHTTP

/// The console's service-quality page: every figure of the report under the API's names, one column per district,
/// district names escaped, "—" where a rate has no base.
@Suite struct ConsoleServiceQualityPageTests {
    @Test func everyFigureShowsPerDistrictEscapedWithADashWithoutABase() {
        let north = ServiceQuality(district: "north", households: 2, emergencies: 4, emergenciesArrivedInTime: 3)
        let hostile = ServiceQuality(district: "<b>x</b>")
        let page = ConsolePages.serviceQuality(
            [north, hostile],
            month: "2026-03",
            zone: "Asia/Shanghai",
            actor: "desk",
            csrf: "t"
        )
        #expect(page.contains("<th>Figure</th><th>north</th><th>&lt;b&gt;x&lt;/b&gt;</th>"))
        #expect(!page.contains("<b>x</b>"))
        #expect(page.contains("<tr><td>emergencies</td><td>4</td><td>0</td></tr>"))
        #expect(page.contains("<tr><td>emergencies arrived in time</td><td>3</td><td>0</td></tr>"))
        #expect(page.contains("<tr><td>arrival minutes p50</td><td>—</td><td>—</td></tr>"))
        for name in ServiceQualityColumns.names.dropFirst() {
            #expect(page.contains("<td>\(name.replacingOccurrences(of: "_", with: " "))</td>"), "\(name)")
        }
        #expect(page.contains("Months in Asia/Shanghai"))
    }
}
