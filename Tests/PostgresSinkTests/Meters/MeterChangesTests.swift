import GatewayCore
import Testing

@testable import PostgresSink

/// The registry's change cursor (migration v18): every kind of write reaches ``MeterStore/changes(since:limit:)``,
/// including a write whose transaction commits after a reader took its cursor.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct MeterChangesTests {
    static let key = [UInt8](repeating: 0x5A, count: 16)

    @Test func everyWriterReachesTheChangeSet() async throws {
        try await withMigratedStores(meters: []) { stores, database, _ in
            let meters = stores.meters
            _ = try await meters.registerMeters([
                MeterRegistration(protocol: .wmbus, address: "GWF-11111111-60-07", aesKey: Self.key),
                MeterRegistration(protocol: .cjt188, address: "78330011223344"),
            ])
            var cursor = try await meters.currentCursor()
            // The cursor is the snapshot's xmin, which any transaction still open on the server holds back (other
            // suites run beside this one), so a change set may carry again what an earlier one carried: at least
            // once, never missed. Hence "contains" below, never "equals", for meters.
            let registered: Set<String> = ["GWF-11111111-60-07", "78330011223344"]
            // Nothing changed since: at most the registrations again, and the cursor does not go back.
            let idle = try #require(try await meters.changes(since: cursor, limit: 100))
            #expect(idle.meters.allSatisfy { registered.contains($0.address) })
            #expect(idle.tombstones.isEmpty && idle.collectors.isEmpty)
            #expect(idle.cursor.xid >= cursor.xid)
            cursor = idle.cursor

            // A registration (binary COPY upsert) and a key change.
            _ = try await meters.registerMeters([
                MeterRegistration(protocol: .wmbus, address: "GWF-22222222-60-07", aesKey: Self.key),
                MeterRegistration(protocol: .wmbus, address: "GWF-11111111-60-07"),
            ])
            var changes = try #require(try await meters.changes(since: cursor, limit: 100))
            #expect(Set(changes.meters.map(\.address)).isSuperset(of: ["GWF-11111111-60-07", "GWF-22222222-60-07"]))
            #expect(changes.meters.first { $0.address == "GWF-11111111-60-07" }?.aesKey == nil)
            cursor = changes.cursor

            // A collector assignment stamps its meter; the change set carries the meter's collectors.
            let second = try #require(changes.meters.first { $0.address == "GWF-22222222-60-07" })
            _ = try await meters.assignCollectors(meterID: second.id, collectors: ["dtu-1", "dtu-2"])
            changes = try #require(try await meters.changes(since: cursor, limit: 100))
            #expect(changes.meters.map(\.id).contains(second.id))
            #expect(Set(changes.collectors.map(\.collector)) == ["dtu-1", "dtu-2"])
            cursor = changes.cursor
            _ = try await meters.unassignCollectors(meterID: second.id, collectors: ["dtu-1", "dtu-2"])
            changes = try #require(try await meters.changes(since: cursor, limit: 100))
            #expect(changes.meters.map(\.id).contains(second.id) && changes.collectors.isEmpty)
            cursor = changes.cursor

            // Plain SQL: a profile change, an address change (a tombstone for the old address) and a deletion.
            let connection = try database.connect()
            defer { connection.close() }
            _ = try connection.execute("UPDATE meters SET min_protection = 'authenticated' WHERE id = \(second.id)")
            _ = try connection.execute("UPDATE meters SET address = '78330011229999' WHERE address = '78330011223344'")
            _ = try connection.execute("DELETE FROM meters WHERE address = 'GWF-11111111-60-07'")
            changes = try #require(try await meters.changes(since: cursor, limit: 100))
            let last = Set(changes.meters.map(\.address))
            #expect(last.isSuperset(of: ["GWF-22222222-60-07", "78330011229999"]))
            #expect(!last.contains("GWF-11111111-60-07"), "a deleted meter is a tombstone, not a change")
            #expect(changes.meters.first { $0.id == second.id }?.minProtection == .authenticated)
            #expect(
                Set(changes.tombstones.map { "\($0.protocol.rawValue)|\($0.address)" })
                    == ["cjt188|78330011223344", "wmbus|GWF-11111111-60-07"]
            )
            // More changes than the limit: the caller loads in full instead.
            #expect(try await meters.changes(since: RegistryCursor(xid: 0), limit: 1) == nil)
            #expect(try await meters.pruneTombstones(olderThanSeconds: 3600) == 0)
            #expect(try await meters.pruneTombstones(olderThanSeconds: -60) == 2)
        }
    }

    @Test func aWriteThatCommitsAfterTheReadIsReadNextTime() async throws {
        try await withMigratedStores(meters: []) { stores, database, _ in
            let meters = stores.meters
            let cursor = try await meters.currentCursor()
            // A writer opens its transaction and writes before the reader reads, but commits after it.
            let writer = try database.connect()
            defer { writer.close() }
            _ = try writer.execute("BEGIN")
            _ = try writer.execute(
                "INSERT INTO meters (protocol, address, min_protection) VALUES ('cjt188', '78330011220001', 'plain')"
            )
            let before = try #require(try await meters.changes(since: cursor, limit: 100))
            #expect(before.meters.isEmpty)
            _ = try writer.execute("COMMIT")
            let after = try #require(try await meters.changes(since: before.cursor, limit: 100))
            #expect(after.meters.map(\.address) == ["78330011220001"])
        }
    }

    @Test func aMissLooksUpSeveralMetersInOneStatementWithTheirCollectors() async throws {
        try await withMigratedStores(meters: []) { stores, _, _ in
            let meters = stores.meters
            _ = try await meters.registerMeters([
                MeterRegistration(protocol: .native, address: "4242", aesKey: Self.key),
                MeterRegistration(protocol: .cjt188, address: "78330011223344"),
            ])
            let native = try #require(try await meters.lookupMeter(protocol: .native, address: "4242"))
            _ = try await meters.assignCollectors(meterID: native.id, collectors: ["dtu-9"])
            let found = try await meters.lookupMeters([
                (.native, "4242"), (.cjt188, "78330011223344"), (.cjt188, "99"), (.wmbus, "a\"b,c\\d"),
            ])
            #expect(Set(found.meters.map(\.address)) == ["4242", "78330011223344"])
            #expect(found.meters.first { $0.address == "4242" }?.aesKey == Self.key)
            #expect(found.collectors.map(\.collector) == ["dtu-9"])
            #expect(MeterChangeSQL.textArray(["a\"b,c\\d", "x"]) == #"{"a\"b,c\\d","x"}"#)
        }
    }
}
