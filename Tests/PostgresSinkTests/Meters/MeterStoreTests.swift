import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct MeterStoreTests {
    @Test func registersLoadsAndUpdatesMeters() async throws {
        try await withMigratedStores(meters: []) { stores, database, _ in
            let writer = stores.meters
            let key = Array(UInt8(0)..<16)
            let registered = try await writer.registerMeters([
                MeterRegistration(protocol: .wmbus, address: "12345678", district: "north", isRural: true, aesKey: key),
                MeterRegistration(protocol: .wmbus, address: "87654321"),
                MeterRegistration(protocol: .cjt188, address: "12345678", district: "south"),
            ])
            #expect(registered == 3)
            let wmbus = try await writer.loadMeters(protocol: .wmbus)
            #expect(wmbus.map(\.address) == ["12345678", "87654321"])
            #expect(
                wmbus[0].aesKey == key && wmbus[0].isRural && wmbus[0].district == "north"
                    && wmbus[0].protocol == .wmbus
            )
            #expect(wmbus[1].aesKey == nil && !wmbus[1].isRural && wmbus[1].district == nil)
            #expect(!wmbus[0].description.contains("0, 1, 2"))
            #expect(wmbus[0].description.contains("<redacted>"))

            let cjt = try await writer.lookupMeter(protocol: .cjt188, address: "12345678")
            #expect(cjt?.district == "south")
            #expect(try await writer.lookupMeter(protocol: .mbus, address: "12345678") == nil)

            // Re-registering updates in place: same id, new key and district.
            let newKey = [UInt8](repeating: 0xAB, count: 16)
            #expect(
                try await writer.registerMeters([
                    MeterRegistration(protocol: .wmbus, address: "87654321", district: "east", aesKey: newKey)
                ]) == 1
            )
            let updated = try await writer.lookupMeter(protocol: .wmbus, address: "87654321")
            #expect(updated?.id == wmbus[1].id && updated?.aesKey == newKey && updated?.district == "east")
            #expect(try database.count("meters") == 3)

            let error = await #expect(throws: PostgresError.self) {
                try await writer.registerMeters([MeterRegistration(protocol: .wmbus, address: "x", aesKey: [1, 2, 3])])
            }
            #expect(error?.code == .invalidArgument)
            #expect(error.map { !$0.description.contains("1, 2, 3") } == true)
        }
    }
}
