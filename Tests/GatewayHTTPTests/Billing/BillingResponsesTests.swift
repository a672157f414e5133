import GatewayCore
import GatewayDomain
import Testing

@testable import GatewayHTTP
@testable import PostgresSink

/// The billing JSON, member for member: names, numbers as numbers, `null` where a value is missing, members left
/// out where the shape says so (a held reading has no `day`, a held day no `read_at`).
@Suite struct BillingResponsesTests {
    /// 2026-01-01 00:00 UTC.
    private let t0 = Timestamp(secondsSinceEpoch: 1_767_225_600)

    @Test func pageShowsEveryMemberOfARead() throws {
        let read = BillingRead(
            seq: 7,
            protocol: .native,
            meter: "777",
            district: nil,
            basis: .unspecified,
            day: "2026-01-01",
            dayStart: t0,
            version: 2,
            isCorrection: true,
            startIndexMillilitres: 10,
            endIndexMillilitres: 20,
            volumeMillilitres: 10,
            quality: .estimated,
            reasons: ["interval_gap"],
            intervalMinutes: 60,
            intervals: [
                .init(start: t0, volumeMillilitres: 4, isEstimated: false),
                .init(start: t0.adding(seconds: 3600), volumeMillilitres: 6, isEstimated: true),
            ],
            protection: .encrypted
        )
        var next = read
        next.seq = 8
        let text = BillingAPI.renderPage([read, next], limit: 1, after: 0)
        #expect(
            text
                == #"{"has_more":true,"next_cursor":"\#(BillingAPI.cursor(7))","reads":[{"basis":"unspecified","#
                + #""day":"2026-01-01","day_start":"2026-01-01T00:00:00Z","end_index_ml":20,"intervals":["#
                + #"{"minutes":60,"quality":"actual","start":"2026-01-01T00:00:00Z","volume_ml":4},"#
                + #"{"minutes":60,"quality":"estimated","start":"2026-01-01T01:00:00Z","volume_ml":6}],"#
                + #""is_correction":true,"meter":{"district":null,"id":"777","protocol":"native"},"#
                + #""protection":"encrypted","quality":"estimated","reasons":["interval_gap"],"start_index_ml":10,"version":2,"volume_ml":10}]}"#
        )
    }

    @Test func emptyPageKeepsTheCursor() {
        #expect(
            BillingAPI.renderPage([], limit: 10, after: 41)
                == #"{"has_more":false,"next_cursor":"\#(BillingAPI.cursor(41))","reads":[]}"#
        )
    }

    @Test func heldReadingsAndDaysShowTheirOwnTarget() throws {
        let reading = HeldItem(
            protocol: .native,
            meter: "777",
            basis: .unspecified,
            target: .reading(readAt: t0.adding(seconds: 7200), kind: .periodic),
            volumeMillilitres: 16_500_000,
            reasons: ["clock_drift"],
            protection: .plain
        )
        let day = HeldItem(
            protocol: .mbus,
            meter: "12",
            basis: .converted,
            target: .day("2026-01-02"),
            volumeMillilitres: 5,
            reasons: [],
            protection: .authenticated
        )
        #expect(
            try GatewayJSONEncoder().text(HeldResponse([reading, day]))
                == #"{"held":[{"basis":"unspecified","kind":0,"meter":"777","protection":"plain","protocol":"native","#
                + #""read_at":"2026-01-01T02:00:00Z","reasons":["clock_drift"],"volume_ml":16500000},"#
                + #"{"basis":"converted","day":"2026-01-02","meter":"12","protection":"authenticated","#
                + #""protocol":"mbus","reasons":[],"#
                + #""volume_ml":5}],"next_cursor":null}"#
        )
    }

    @Test func expiredMetersShowAMissingDistrictAsNull() throws {
        let meters = [
            ExpiredMeter(protocol: .native, meter: "1", district: nil, expiresOn: "2026-02-01"),
            ExpiredMeter(protocol: .mbus, meter: "2", district: "north", expiresOn: "2025-12-31"),
        ]
        let date = try #require(CivilDate(iso: "2026-03-01"))
        #expect(
            try GatewayJSONEncoder().text(ExpiredMetersResponse(asOf: date, meters: meters))
                == #"{"as_of":"2026-03-01","meters":[{"district":null,"meter":"1","protocol":"native","#
                + #""verification_expires_on":"2026-02-01"},{"district":"north","meter":"2","protocol":"mbus","#
                + #""verification_expires_on":"2025-12-31"}],"next_cursor":null}"#
        )
    }

    @Test func recordedIsTrue() throws {
        #expect(try GatewayJSONEncoder().text(RecordedResponse()) == #"{"recorded":true}"#)
    }
}
