import Foundation
import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

/// The ingest role of `config/postgres-roles.sql` may make every write of the ingest store. A grant it lacks does
/// not quarantine a frame: the pipeline holds every batch (SQLSTATE 42501 is not a data error) and alarms stop
/// reaching dispatch, so each kind of row a frame can bring is written here while logged in as that role.
@Suite(.enabled(if: TestServer.isAvailable), .timeLimit(.minutes(1)))
struct IngestRoleTests {
    @Test func aLoginInTheIngestRoleCommitsEveryKindOfRowAFrameBrings() async throws {
        try await withMigratedStores { stores, database, ids in
            let (m1, m2) = (try #require(ids["m1"]), try #require(ids["m2"]))
            // As the schema's owner: m1's P0 ticket, and the valve-close command the dispatch service sent for it.
            _ = try await stores.telemetry.write(batch(alarms: [makeAlarm(meter: m1, raisedAt: at(0))]))
            let ticket = try #require(try database.scalar("SELECT id FROM repair_tickets WHERE meter_id = \(m1)"))
            let command: Int64 = (1 << 30) + 7
            _ = try database.scalar(
                """
                INSERT INTO valve_commands (ticket_id, meter_id, action, frame_counter, sent_at)
                VALUES ($1::bigint, \(m1), 'close', \(command), now()) RETURNING id
                """,
                [ticket]
            )
            let owner = try database.connect()
            defer { owner.close() }
            try owner.executeScript(
                try String(contentsOf: Repository.url("config/postgres-roles.sql"), encoding: .utf8)
            )
            let login = "t_ingest_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
            try owner.execute("CREATE ROLE \(login) LOGIN IN ROLE meter_gateway_ingest")
            defer { _ = try? owner.execute("DROP ROLE IF EXISTS \(login)") }

            let ingest = TelemetryStore(conninfo: database.conninfo + " user=\(login)", logger: testLogger)
            var rows = batch(
                readings: [makeReading(meter: m2, at: at(60), volume: 5_000)],
                intervals: [makeInterval(meter: m2, start: at(0), volume: 20)],
                alarms: [makeAlarm(meter: m2, raisedAt: at(60), condition: .overFlow, priority: .p1)],
                frames: [
                    UplinkFrameRecord(
                        meterID: m2,
                        frameCounter: 17,
                        frameType: 1,
                        meterTime: at(60),
                        receivedAt: at(65)
                    )
                ],
                quarantine: [
                    QuarantineRecord(
                        receivedAt: at(66),
                        topic: "gm/v1/up/native/9",
                        payload: [0xDE, 0xAD],
                        reason: "truncated",
                        detail: "too short",
                        source: .native,
                        meterAddress: nil
                    )
                ]
            )
            rows.commandResults = [
                CommandResultRecord(
                    meterID: m1,
                    commandFrameCounter: command,
                    outcome: "executed",
                    valve: .closed,
                    receivedAt: at(70)
                )
            ]
            let summary = try await ingest.write(rows)
            #expect(summary.readingsInserted == 1)
            #expect(summary.ticketsOpened == 1)
            #expect(
                try database.count("valve_commands", where: "answered_at IS NOT NULL AND outcome = 'executed'") == 1
            )
            #expect(try database.count("ticket_events", where: "kind = 'valve_answer' AND ticket_id = \(ticket)") == 1)
            #expect(try database.count("quarantine") == 1)
            #expect(try database.count("frame_identities") == 1)
            // Pruning old identities (every 10 minutes) deletes as the same role.
            #expect(try await ingest.pruneFrameIdentities(olderThanSeconds: 0) == 1)
            await ingest.close()
        }
    }
}
