import Foundation
import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

/// Migration v7: days and the billing feed store the quality with the readings' coding, and what billing reads is
/// unchanged.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct QualityMigrationTests {
    @Test func v7ConvertsStoredDayAndFeedQualitiesAndKeepsTheBillingViewsWords() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let connection = try database.connect()
        defer { connection.close() }
        #expect(try connection.migrate(through: 6) == [1, 2, 3, 4, 5, 6])
        try connection.executeScript(
            """
            INSERT INTO meters (protocol, address) VALUES ('native', 'q1');
            INSERT INTO daily_reads (meter_id, basis, day, day_start, start_index_ml, end_index_ml, volume_ml, quality,
                reasons, valve, version)
            SELECT id, 0, d.day, d.day::timestamptz, 0, 10, 10, d.quality, '{}', 0, 1
            FROM meters, (VALUES ('2026-01-01'::date, 'valid'), ('2026-01-02', 'estimated'), ('2026-01-03', 'suspect'),
                ('2026-01-04', 'rejected')) AS d (day, quality);
            INSERT INTO billing_feed (meter_id, basis, day, day_start, version, is_correction, start_index_ml,
                end_index_ml, volume_ml, quality, reasons)
            SELECT meter_id, basis, day, day_start, 1, false, 0, 10, 10, quality, reasons FROM daily_reads
            WHERE quality IN ('valid', 'estimated');
            """
        )
        let before = try connection.query("SELECT * FROM billing_daily_reads ORDER BY seq")

        #expect(try connection.migrate() == Migrations.all.map(\.version).filter { $0 >= 7 })
        #expect(
            try connection.query("SELECT day::text, quality FROM daily_reads ORDER BY day")
                == [["2026-01-01", "0"], ["2026-01-02", "1"], ["2026-01-03", "2"], ["2026-01-04", "3"]]
        )
        #expect(
            try connection.query(
                """
                SELECT table_name, data_type FROM information_schema.columns
                WHERE column_name = 'quality' AND table_name IN ('readings_validated', 'daily_reads', 'billing_feed')
                ORDER BY table_name
                """
                // A reading's quality is the view's since v25 (the table is insert-only), with the same coding.
            ) == [["billing_feed", "smallint"], ["daily_reads", "smallint"], ["readings_validated", "smallint"]]
        )
        // v11 adds the day's protection as the view's last column (a native meter's old days: authenticated).
        let after = try connection.query("SELECT * FROM billing_daily_reads ORDER BY seq")
        #expect(after.map { Array($0.dropLast()) } == before)
        #expect(after.map { $0.last ?? nil } == [Optional("authenticated"), "authenticated"])
        #expect(
            try connection.query("SELECT quality FROM billing_daily_reads ORDER BY seq") == [["valid"], ["estimated"]]
        )
        #expect(try connection.query("SELECT read_quality_name(2::smallint)") == [["suspect"]])

        // The codings agree with ReadQuality, and a word is refused now.
        for quality in ReadQuality.allCases {
            #expect(
                try connection.query("SELECT read_quality_name($1::smallint)", parameters: [quality.postgresText])
                    == [[quality.name]]
            )
        }
        let error = #expect(throws: PostgresError.self) {
            try connection.execute("UPDATE daily_reads SET quality = 4")
        }
        #expect(error?.sqlState == "23514")
    }
}
