import Foundation
import GatewayCore
import GatewayTestSupport
import Testing

@testable import PostgresSink

/// `mbus_format_layouts` (migration v16): the writer's idempotent upsert in the batch transaction and the
/// registry's load.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct FormatLayoutStoreTests {
    static func layout(_ hex: String) -> MBusRecordLayout? { Hex.decode(hex).flatMap { MBusRecordLayout(bytes: $0) } }

    @Test func writerUpsertsLayoutsKeepingFirstSeenAndRaisingLastSeen() async throws {
        try await withMigratedStores { stores, database, ids in
            let meter = try #require(ids["m1"])
            let first = try #require(Self.layout("0C943A0DFD1102FD17046D"))
            var batch = SinkBatch()
            batch.formatLayouts = [FormatLayoutRecord(meterID: meter, layout: first, seenAt: at(100))]
            _ = try await stores.telemetry.write(batch)
            // The same layout seen later, and again earlier (a replay): first_seen stays the earliest, last_seen the
            // latest; writing the same row twice changes nothing.
            batch.formatLayouts = [FormatLayoutRecord(meterID: meter, layout: first, seenAt: at(500))]
            _ = try await stores.telemetry.write(batch)
            _ = try await stores.telemetry.write(batch)
            batch.formatLayouts = [FormatLayoutRecord(meterID: meter, layout: first, seenAt: at(50))]
            _ = try await stores.telemetry.write(batch)
            #expect(try database.count("mbus_format_layouts") == 1)
            let row = try database.scalar(
                """
                SELECT signature || ' ' || encode(chain, 'hex') || ' '
                    || (extract(epoch FROM first_seen)::bigint - 1772323200) || ' '
                    || (extract(epoch FROM last_seen)::bigint - 1772323200)
                FROM mbus_format_layouts
                """
            )
            #expect(row == "\(first.signature) 0c943a0dfd1102fd17046d 50 500")

            // A layout row of a meter that no longer exists is skipped, not an error for the batch.
            batch.formatLayouts = [FormatLayoutRecord(meterID: 999_999, layout: first, seenAt: at(600))]
            _ = try await stores.telemetry.write(batch)
            #expect(try database.count("mbus_format_layouts") == 1)

            let book = try await FormatLayoutStore(stores.session).loadBook()
            #expect(book.count == 1)
            #expect(book.layout(meterID: meter, signature: first.signature) == first)
            #expect(book.entry(meterID: meter, signature: first.signature)?.lastSeen == at(500))
        }
    }

    @Test func loadKeepsTheMostRecentlySeenLayoutsPerMeter() async throws {
        try await withMigratedStores { stores, _, ids in
            let meter = try #require(ids["m2"])
            var batch = SinkBatch()
            let chains = ["0C13", "0C14", "0C15", "0C16", "0C17", "0C10"]
            for (index, chain) in chains.enumerated() {
                let layout = try #require(Self.layout(chain))
                batch.formatLayouts.append(FormatLayoutRecord(meterID: meter, layout: layout, seenAt: at(Int64(index))))
            }
            _ = try await stores.telemetry.write(batch)
            let book = try await FormatLayoutStore(stores.session).loadBook()
            #expect(book.count == FormatLayoutBook.layoutsPerMeter)
            for chain in chains.suffix(FormatLayoutBook.layoutsPerMeter) {
                let layout = try #require(Self.layout(chain))
                #expect(book.layout(meterID: meter, signature: layout.signature) == layout, "\(chain)")
            }
            #expect(book.layout(meterID: meter, signature: try #require(Self.layout("0C13")).signature) == nil)
        }
    }

    /// `config/postgres-roles.sql` lets the ingest role write layouts (the live writer's upsert runs as that role).
    @Test func theIngestRoleMayUpsertLayouts() async throws {
        try await withMigratedStores { _, database, ids in
            let meter = try #require(ids["m1"])
            let owner = try database.connect()
            defer { owner.close() }
            try owner.executeScript(
                try String(contentsOf: Repository.url("config/postgres-roles.sql"), encoding: .utf8)
            )
            try owner.executeScript("SET ROLE meter_gateway_ingest")
            let record = FormatLayoutRecord(meterID: meter, layout: try #require(Self.layout("0C14")), seenAt: at(1))
            #expect(try FormatLayoutStore.upsert([record], on: owner) == 1)
            #expect(try FormatLayoutStore.upsert([record], on: owner) == 1, "the second write is the update path")
            let denied = #expect(throws: PostgresError.self) { try owner.execute("DELETE FROM mbus_format_layouts") }
            #expect(denied?.sqlState == "42501")
            try owner.executeScript("RESET ROLE")
        }
    }

    @Test func deletingAMeterDeletesItsLayouts() async throws {
        try await withMigratedStores { stores, database, ids in
            let meter = try #require(ids["m3"])
            var batch = SinkBatch()
            batch.formatLayouts = [
                FormatLayoutRecord(meterID: meter, layout: try #require(Self.layout("0C14")), seenAt: at(1))
            ]
            _ = try await stores.telemetry.write(batch)
            #expect(try database.count("mbus_format_layouts") == 1)
            _ = try database.scalar("DELETE FROM meters WHERE id = $1 RETURNING id", [String(meter)])
            #expect(try database.count("mbus_format_layouts") == 0)
        }
    }
}
