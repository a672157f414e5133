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

    @Test func theMinimumProtectionDefaultsToTheKeyFollowsAKeyChangeAndRefusesTheUnreachable() async throws {
        try await withMigratedStores(meters: []) { stores, database, _ in
            let meters = stores.meters
            let key = Array(UInt8(0)..<16)
            func minimum(_ frameProtocol: FrameProtocol, _ address: String) async throws -> ProtectionLevel? {
                try await meters.lookupMeter(protocol: frameProtocol, address: address)?.minProtection
            }
            _ = try await meters.registerMeters([
                MeterRegistration(protocol: .wmbus, address: "ELS-12345678-51-03", aesKey: key),
                MeterRegistration(protocol: .wmbus, address: "ELS-12345679-51-03"),
                MeterRegistration(
                    protocol: .wmbus,
                    address: "ELS-12345670-51-03",
                    aesKey: key,
                    minProtection: .authenticated
                ),
            ])
            #expect(try await minimum(.wmbus, "ELS-12345678-51-03") == .encrypted)
            #expect(try await minimum(.wmbus, "ELS-12345679-51-03") == .plain)
            #expect(try await minimum(.wmbus, "ELS-12345670-51-03") == .authenticated)
            // A key given later without a minimum moves it to the key's default; an import of other columns keeps it.
            var profile = MeterProfile(protocol: .wmbus, address: "ELS-12345679-51-03")
            profile.aesKey = key
            _ = try await meters.importMeters([profile], columns: [.aesKey])
            #expect(try await minimum(.wmbus, "ELS-12345679-51-03") == .encrypted)
            var renamed = MeterProfile(protocol: .wmbus, address: "ELS-12345670-51-03")
            renamed.district = "harbour"
            _ = try await meters.importMeters([renamed], columns: [.district])
            #expect(try await minimum(.wmbus, "ELS-12345670-51-03") == .authenticated)
            // The loaded registry enforces what is stored.
            let loaded = try await meters.loadMeters(protocol: .wmbus)
            // (ids were given in address order by the upsert: …670, …678, …679)
            #expect(loaded.map(\.address) == ["ELS-12345670-51-03", "ELS-12345678-51-03", "ELS-12345679-51-03"])
            #expect(loaded.map(\.minProtection) == [.authenticated, .encrypted, .encrypted])
            // The database refuses what the protocol can never reach, even past the CSV checks.
            var cjt = MeterProfile(protocol: .cjt188, address: "78330011223344")
            cjt.minProtection = .encrypted
            await #expect(throws: PostgresError.self) {
                _ = try await meters.importMeters([cjt], columns: [.minProtection])
            }
            var wired = MeterProfile(protocol: .mbus, address: "GWF-87654321-60-03")
            wired.aesKey = key
            wired.minProtection = .authenticated
            await #expect(throws: PostgresError.self) {
                _ = try await meters.importMeters([wired], columns: [.aesKey, .minProtection])
            }
            #expect(try database.count("meters") == 3)
        }
    }
}
