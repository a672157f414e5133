import Foundation
import GatewayCore
import Testing

@testable import PostgresSink

/// The sealer alone: no server.
@Suite struct MeterKeySealerTests {
    private let master = MeterKeySealer(masterKey: [UInt8](repeating: 0x42, count: 32))!
    private let key = Array(UInt8(0x10)..<0x20)

    @Test func aSealedKeyOpensOnlyForItsMeterAndItsMasterKey() throws {
        let sealed = try master.seal(key, protocol: .native, address: "1000001")
        #expect(sealed.count == MeterKeySealer.sealedLength)
        #expect(sealed.firstRange(of: key) == nil)
        #expect(master.open(sealed, protocol: .native, address: "1000001") == key)
        #expect(master.open(sealed, protocol: .native, address: "1000002") == nil)
        #expect(master.open(sealed, protocol: .wmbus, address: "1000001") == nil)
        let other = try #require(MeterKeySealer(masterKey: [UInt8](repeating: 0x43, count: 32)))
        #expect(other.open(sealed, protocol: .native, address: "1000001") == nil)
        var tampered = sealed
        tampered[20] ^= 1
        #expect(master.open(tampered, protocol: .native, address: "1000001") == nil)
    }

    @Test func sealingTheSameKeyTwiceGivesDifferentBytes() throws {
        let first = try master.seal(key, protocol: .native, address: "1")
        let second = try master.seal(key, protocol: .native, address: "1")
        #expect(first != second)
    }

    @Test func onlyThirtyTwoByteMasterKeysAndSixteenByteMeterKeys() {
        #expect(MeterKeySealer(masterKey: [UInt8](repeating: 1, count: 16)) == nil)
        #expect(throws: MeterKeyError.self) { try master.seal([1, 2, 3], protocol: .native, address: "1") }
    }
}

/// Sealed keys in the database (migration v13): import, load, seal-keys, and the errors of a missing or wrong
/// master key.
@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct MeterKeySealingTests {
    private static let master = MeterKeySealer(masterKey: [UInt8](repeating: 0x42, count: 32))!
    private static let wrong = MeterKeySealer(masterKey: [UInt8](repeating: 0x24, count: 32))!
    private static let key = [UInt8](repeating: 0xA5, count: 16)

    @Test func withAMasterKeyKeysAreStoredSealedAndLoadedOpened() async throws {
        try await withMigratedStores(meters: []) { stores, database, _ in
            let sealing = MeterStore(stores.session, sealer: Self.master)
            #expect(
                try await sealing.registerMeters([
                    MeterRegistration(protocol: .native, address: "1000001", aesKey: Self.key),
                    MeterRegistration(protocol: .native, address: "1000002"),
                ]) == 2
            )
            #expect(try database.count("meters", where: "aes_key IS NOT NULL") == 0)
            #expect(try database.count("meters", where: "octet_length(aes_key_sealed) = 44") == 1)
            let stored = try #require(try database.scalar("SELECT encode(aes_key_sealed, 'hex') FROM meters"))
            #expect(!stored.contains(Hex.encode(Self.key).lowercased()))
            let loaded = try await sealing.loadMeters(protocol: .native)
            #expect(loaded.map(\.aesKey) == [Self.key, nil])
            #expect(try await sealing.lookupMeter(protocol: .native, address: "1000001")?.aesKey == Self.key)
            #expect(try await sealing.keyCounts() == (0, 1))
        }
    }

    @Test func sealedKeysWithoutOrWithTheWrongMasterKeyAreAnErrorNamingTheCount() async throws {
        try await withMigratedStores(meters: []) { stores, _, _ in
            _ = try await MeterStore(stores.session, sealer: Self.master).registerMeters(
                (1...3).map { MeterRegistration(protocol: .native, address: "100000\($0)", aesKey: Self.key) }
            )
            let missing = await #expect(throws: MeterKeyError.self) {
                try await MeterStore(stores.session).loadMeters(protocol: .native)
            }
            #expect(missing?.description.contains("3 native meters") == true)
            #expect(missing?.description.contains("meters.master_key_file") == true)
            let wrong = await #expect(throws: MeterKeyError.self) {
                try await MeterStore(stores.session, sealer: Self.wrong).loadMeters(protocol: .native)
            }
            #expect(wrong?.description.contains("3 of 3 native meters") == true)
            // Other protocols without sealed keys still load.
            #expect(try await MeterStore(stores.session).loadMeters(protocol: .wmbus).isEmpty)
        }
    }

    @Test func sealKeysMovesPlaintextKeysIntoTheSealedColumnOnce() async throws {
        try await withMigratedStores(meters: []) { stores, database, _ in
            // A database from before v13: plaintext keys.
            _ = try await stores.meters.registerMeters([
                MeterRegistration(protocol: .native, address: "1000001", aesKey: Self.key),
                MeterRegistration(protocol: .wmbus, address: "ELS-1-2-3", aesKey: Array(Self.key.reversed())),
                MeterRegistration(protocol: .cjt188, address: "78330011223344"),
            ])
            #expect(try await stores.meters.keyCounts() == (2, 0))
            await #expect(throws: MeterKeyError.self) { try await stores.meters.sealKeys() }
            let sealing = MeterStore(stores.session, sealer: Self.master)
            // Plaintext keys stay readable with a master key configured.
            #expect(try await sealing.loadMeters(protocol: .native).first?.aesKey == Self.key)
            #expect(try await sealing.sealKeys() == 2)
            #expect(try await sealing.sealKeys() == 0)
            #expect(try await sealing.keyCounts() == (0, 2))
            #expect(try database.count("meters", where: "aes_key IS NOT NULL") == 0)
            #expect(try await sealing.loadMeters(protocol: .native).first?.aesKey == Self.key)
            #expect(try await sealing.loadMeters(protocol: .wmbus).first?.aesKey == Array(Self.key.reversed()))
            // Importing without a master key writes plaintext and clears the sealed form (never both).
            _ = try await stores.meters.registerMeters([
                MeterRegistration(protocol: .native, address: "1000001", aesKey: Self.key)
            ])
            #expect(try await sealing.keyCounts() == (1, 1))
        }
    }

    @Test func aMeterCannotHoldBothKeyForms() async throws {
        try await withMigratedStores(meters: []) { _, database, _ in
            let connection = try database.connect()
            defer { connection.close() }
            let error = #expect(throws: PostgresError.self) {
                try connection.execute(
                    "INSERT INTO meters (protocol, address, aes_key, aes_key_sealed) "
                        + "VALUES ('native', '1', decode(repeat('00', 16), 'hex'), decode(repeat('00', 44), 'hex'))"
                )
            }
            #expect(error?.sqlState == "23514")
        }
    }

    @Test func valveCommandsOpenSealedKeys() async throws {
        try await withMigratedStores(meters: []) { stores, database, _ in
            _ = try await MeterStore(stores.session, sealer: Self.master).registerMeters([
                MeterRegistration(protocol: .native, address: "1000001", aesKey: Self.key)
            ])
            let connection = try database.connect()
            defer { connection.close() }
            try connection.execute(
                """
                INSERT INTO repair_tickets (meter_id, condition, priority, opened_at, last_alarm_at)
                SELECT id, 'leak', 'P0', now(), now() FROM meters
                """
            )
            let pending = try await DispatchOutbox(stores.session, sealer: Self.master).pendingValveCloses(limit: 10)
            #expect(pending.map(\.key) == [Self.key])
            let error = await #expect(throws: MeterKeyError.self) {
                try await DispatchOutbox(stores.session).pendingValveCloses(limit: 10)
            }
            #expect(error?.description.contains("1 meters with a P0 ticket") == true)
        }
    }
    @Test func aKeyTableReplacesTheDatabasesKeysSealedOrNot() async throws {
        try await withMigratedStores(meters: []) { stores, database, _ in
            _ = try await MeterStore(stores.session, sealer: Self.master).registerMeters([
                MeterRegistration(protocol: .native, address: "1000001", aesKey: Self.key),
                MeterRegistration(protocol: .native, address: "1000002"),
            ])
            _ = try await stores.meters.registerMeters([
                MeterRegistration(protocol: .native, address: "1000003", aesKey: Self.key)
            ])
            let fileKey = [UInt8](repeating: 0x3C, count: 16)
            let table = MeterKeyTable([(.native, "1000001", fileKey), (.native, "1000002", fileKey)])
            #expect(table.count == 2 && !table.description.contains("3C") && !table.description.contains("60"))
            // No master key needed: the sealed key in the database is not read.
            let loaded = try await MeterStore(stores.session, keyTable: table).loadMeters(protocol: .native)
            #expect(loaded.map(\.aesKey) == [fileKey, fileKey, nil])
            // Valve commands take the table's key too, also for a meter without a key in the database.
            let connection = try database.connect()
            defer { connection.close() }
            try connection.execute(
                """
                INSERT INTO repair_tickets (meter_id, condition, priority, opened_at, last_alarm_at)
                SELECT id, 'leak', 'P0', now(), now() FROM meters
                """
            )
            let pending = try await DispatchOutbox(stores.session, keyTable: table).pendingValveCloses(limit: 10)
            #expect(pending.map(\.address) == ["1000001", "1000002"])
            #expect(pending.allSatisfy { $0.key == fileKey })
            // Without a table: the sealed key opens, the plaintext one is read, the keyless meter is left out.
            let fromDatabase = try await DispatchOutbox(stores.session, sealer: Self.master).pendingValveCloses(
                limit: 10
            )
            #expect(fromDatabase.map(\.address) == ["1000001", "1000003"])
        }
    }
}
