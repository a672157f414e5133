import GatewayDomain
import Testing

@testable import GatewayHTTP

/// The report's columns and CSV: names in order, counts as integers, rates rounded, no base as empty.
@Suite struct ServiceQualityColumnsTests {
    @Test func aRowIsWrittenWithItsRatesAndEmptyCellsWithoutABase() {
        let row = ServiceQuality(
            district: "d,1",
            households: 3,
            emergencies: 4,
            emergenciesArrivedInTime: 2,
            arrivalMinutesP50: 30,
            arrivalMinutesP90: 54.5,
            complaintsByCategory: [.billingDispute: 1, .serviceAttitude: 2],
            complaintsAnsweredInTime: 1,
            returnCalls: [.satisfied: 1, .notSatisfied: 1, .waived: 1],
            inspectionsDue: 2,
            inspectionsDone: 1
        )
        let csv = ServiceQualityColumns.csv([row, ServiceQuality(district: "empty")])
        let lines = csv.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0].hasPrefix("district,households,emergencies,emergencies_arrived_in_time,arrival_minutes_p50,"))
        #expect(
            lines[1]
                == "\"d,1\",3,4,2,30,54.5,0,0,0,3,1,10000,3333.33,0,6666.67,0,0,0,3,0.6667,0.5,1,1,0,1,2,1"
        )
        #expect(lines[2] == "empty,0,0,0,,,0,0,0,0,0,,,,,,,,0,,,0,0,0,0,0,0")
        #expect(lines[3] == "" && lines.count == 4)
        #expect(ServiceQualityColumns.names.count == ServiceQualityColumns.values(row).count + 1)
    }
}
