import Dispatch
import GatewayCore
import Testing

@testable import PostgresSink

@Suite("Typed rows")
struct PostgresRowTests {
    @Test func columnsDecodeAsTheirTypesAndNullsOnlyWhereOptional() throws {
        let row = PostgresRow(columns: ["42", "t", nil, "{1,2,3}", "1700000000000000", "native", "{}", "P1"])
        #expect(try row.decode(0, as: Int64.self) == 42)
        #expect(try row.decode(1, as: Bool.self) == true)
        #expect(try row.decode(2, as: String?.self) == nil)
        #expect(try row.decode(3, as: [Int64].self) == [1, 2, 3])
        #expect(try row.decode(4, as: Timestamp.self) == Timestamp(microsecondsSinceEpoch: 1_700_000_000_000_000))
        #expect(try row.decode(5, as: FrameProtocol.self) == .native)
        #expect(try row.decode(6, as: [String].self) == [])
        #expect(try row.decode(7, as: TicketPriority.self) == .p1)
    }

    @Test func aNullWhereAValueIsRequiredOrBadTextIsAnErrorNamingTheColumn() {
        let row = PostgresRow(columns: [nil, "x", "{a,\"b c\"}"])
        for (column, fragment) in [(0, "column 0 is NULL"), (1, "column 1 is not a Int64"), (5, "column 5 asked")] {
            do {
                _ = try row.decode(column, as: Int64.self)
                Issue.record("column \(column) decoded")
            } catch let error as PostgresError {
                #expect(error.code == .unexpectedResult)
                #expect(error.message.contains(fragment), "\(error.message)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
        #expect(throws: PostgresError.self) { try row.decode(2, as: [String].self) }
    }

    @Test func arraysRoundTripAsLiterals() {
        #expect([Int64(1), 2, 3].postgresText == "{1,2,3}")
        #expect([String]().postgresText == "{}")
        #expect([Int64](postgresText: [Int64(7), 8].postgresText) == [7, 8])
    }
}

@Suite("Sessions and pools", .enabled(if: TestServer.isAvailable))
struct PostgresSessionTests {
    @Test func aFailedTransactionRollsBackAndTheSessionCarriesOn() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let session = PostgresSession(conninfo: database.conninfo, logger: testLogger)
        try await session.withConnection { try $0.execute("CREATE TABLE t (v bigint PRIMARY KEY)") }
        await #expect(throws: PostgresError.self) {
            try await session.withTransaction { connection in
                try connection.execute("INSERT INTO t VALUES (1)")
                try connection.execute("INSERT INTO t VALUES (1)")
            }
        }
        try await session.withTransaction { try $0.execute("INSERT INTO t VALUES (2)") }
        let values = try await session.withConnection {
            try $0.rows("SELECT v FROM t ORDER BY v").map { try $0.decode(0, as: Int64.self) }
        }
        #expect(values == [2])
        await session.close()
    }

    @Test func rowsReadFromTheResultDecodeExactlyAsTheirText() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let session = PostgresSession(conninfo: database.conninfo, logger: testLogger)
        let sql = """
            SELECT '-9223372036854775808'::bigint, 9223372036854775807::bigint, '-32768'::smallint, 0::int, true, false,
                NULL::bigint, '{1,-2,3}'::bigint[], '{}'::int[], '{a,"b c"}'::text[], 'native', '{7,NULL}'::int[],
                99999::int, 'x'
            """
        let row = try #require(try await session.withConnection { try $0.rows(sql).first })
        let text = PostgresRow(columns: row.columns)
        #expect(row.count == 14 && text.count == 14)
        for candidate in [row, text] {
            #expect(try candidate.decode(0, as: Int64.self) == Int64.min)
            #expect(try candidate.decode(1, as: Int64.self) == Int64.max)
            #expect(try candidate.decode(1, as: Timestamp.self) == Timestamp(microsecondsSinceEpoch: Int64.max))
            #expect(try candidate.decode(2, as: Int16.self) == Int16.min)
            #expect(try candidate.decode(3, as: Int.self) == 0)
            #expect(try candidate.decode(4, as: Bool.self) == true)
            #expect(try candidate.decode(5, as: Bool.self) == false)
            #expect(try candidate.decode(6, as: Int64?.self) == nil)
            #expect(try candidate.decode(7, as: [Int64].self) == [1, -2, 3])
            #expect(try candidate.decode(8, as: [Int32].self) == [])
            #expect(try candidate.decode(10, as: FrameProtocol.self) == .native)
            #expect(try candidate.decode(13, as: String.self) == "x")
            // Not the asked type: errors, not other values.
            #expect(throws: PostgresError.self) { try candidate.decode(6, as: Int64.self) }
            #expect(throws: PostgresError.self) { try candidate.decode(9, as: [String].self) }
            #expect(throws: PostgresError.self) { try candidate.decode(11, as: [Int32].self) }
            #expect(throws: PostgresError.self) { try candidate.decode(12, as: Int16.self) }
            #expect(throws: PostgresError.self) { try candidate.decode(0, as: Int32.self) }
            #expect(throws: PostgresError.self) { try candidate.decode(13, as: Int64.self) }
            #expect(throws: PostgresError.self) { try candidate.decode(14, as: Int64.self) }
        }
        await session.close()
    }

    @Test func aSessionReconnectsAfterItsBackendIsKilled() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let session = PostgresSession(conninfo: database.conninfo, logger: testLogger)
        try await session.connect()
        let first = try #require(await session.backendPID)
        _ = try database.scalar("SELECT pg_terminate_backend(\(first))")
        await #expect(throws: PostgresError.self) { try await session.withConnection { try $0.execute("SELECT 1") } }
        let one = try await session.withConnection { try $0.rows("SELECT 1").first?.decode(0, as: Int.self) }
        #expect(one == 1)
        #expect(await session.backendPID != first)
        #expect(await session.generation == 2)
    }

    @Test func theStatementTimeoutStopsASlowStatement() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let pool = PostgresSessionPool(
            size: 2,
            settings: PostgresSessionSettings(conninfo: database.conninfo, statementTimeoutMilliseconds: 200),
            logger: testLogger
        )
        do {
            try await pool.withConnection { try $0.execute("SELECT pg_sleep(2)") }
            Issue.record("the slow statement was not cancelled")
        } catch let error as PostgresError {
            #expect(error.sqlState == "57014")
        }
        let one = try await pool.withTransaction { try $0.rows("SELECT 1").first?.decode(0, as: Int.self) }
        #expect(one == 1)
        await pool.close()
    }

    @Test func aSlowPieceOfWorkDoesNotQueueTheNextOneInAPool() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let pool = PostgresSessionPool(
            size: 2,
            settings: PostgresSessionSettings(conninfo: database.conninfo),
            logger: testLogger
        )
        // The slow piece of work holds its session until the quick one has finished. A pool that queued the quick
        // one behind it would never let it finish: the slow one then gives up after 60 s and the test fails. Events,
        // not elapsed times, decide, so a loaded machine only makes the test slower.
        let slowStarted = DispatchSemaphore(value: 0)
        let quickFinished = DispatchSemaphore(value: 0)
        let slow = Task {
            try await pool.withConnection { connection -> Bool in
                try connection.execute("SELECT 1")
                slowStarted.signal()
                return quickFinished.wait(timeout: .now() + .seconds(60)) == .success
            }
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                slowStarted.wait()
                continuation.resume()
            }
        }
        try await pool.withConnection { try $0.execute("SELECT 1") }
        quickFinished.signal()
        let quickRanWhileTheSlowOneHeldItsSession = try await slow.value
        #expect(quickRanWhileTheSlowOneHeldItsSession)
        await pool.close()
    }
}
