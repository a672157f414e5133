import Foundation
import GatewayCore
import GatewayDomain
// The server fixtures (TestServer, TestDatabase, testLogger) live in GatewayTestSupport, shared with the other
// suites; exported here so every file of this target sees them.
@_exported import GatewayTestSupport
import Logging
import Synchronization

@testable import PostgresSink

/// The stores of a migrated test database, as the gateway runs them: the ingest store on its own connection, the
/// other stores on one ``PostgresSession``.
struct TestStores {
    let telemetry: TelemetryStore
    let session: PostgresSession
    var meters: MeterStore { MeterStore(session) }
    var quarantine: QuarantineStore { QuarantineStore(session) }
    var validation: ValidationStore { ValidationStore(session) }
    var billing: BillingStore { BillingStore(session) }

    init(conninfo: String) {
        self.telemetry = TelemetryStore(conninfo: conninfo, logger: testLogger)
        self.session = PostgresSession(.gateway(conninfo: conninfo), logger: testLogger)
    }

    func close() async {
        await telemetry.close()
        await session.close()
    }
}

/// Creates a database, migrates it, registers `meters` (urban unless listed in `rural`), runs `body` with the
/// stores, and drops the database whatever happens.
func withMigratedStores(
    meters: [String] = ["m1", "m2", "m3"],
    rural: Set<String> = [],
    _ body: (TestStores, TestDatabase, [String: Int64]) async throws -> Void
) async throws {
    let database = try TestDatabase.create()
    do {
        let stores = TestStores(conninfo: database.conninfo)
        _ = try await stores.telemetry.migrate()
        let registrations = meters.map {
            MeterRegistration(protocol: .native, address: $0, district: "d1", isRural: rural.contains($0))
        }
        _ = try await stores.meters.registerMeters(registrations)
        var ids: [String: Int64] = [:]
        for meter in try await stores.meters.loadMeters(protocol: .native) { ids[meter.address] = meter.id }
        try await body(stores, database, ids)
        await stores.close()
    } catch {
        database.drop()
        throw error
    }
    database.drop()
}

/// ``withMigratedStores(meters:rural:_:)`` for tests of the ingest store alone.
func withMigratedWriter(
    meters: [String] = ["m1", "m2", "m3"],
    rural: Set<String> = [],
    _ body: (TelemetryStore, TestDatabase, [String: Int64]) async throws -> Void
) async throws {
    try await withMigratedStores(meters: meters, rural: rural) { stores, database, ids in
        try await body(stores.telemetry, database, ids)
    }
}

/// 2026-03-01T00:00:00Z plus `seconds`.
func at(_ seconds: Int64) -> Timestamp {
    Timestamp(secondsSinceEpoch: 1_772_323_200 + seconds)
}

func makeReading(meter: Int64, at time: Timestamp, volume: Int64, kind: ReadingKind = .periodic) -> ReadingRecord {
    ReadingRecord(
        meterID: meter,
        readAt: time,
        receivedAt: time.adding(seconds: 5),
        kind: kind,
        volumeMillilitres: volume,
        registerModulusMillilitres: 100_000_000_000,
        flowMillilitresPerHour: 1_200,
        valve: .open,
        batteryMillivolts: 3_600,
        temperatureCentiCelsius: 2_150,
        signalDBm: -87,
        statusBits: 0,
        frameCounter: 17,
        source: .native
    )
}

func makeInterval(meter: Int64, start: Timestamp, volume: Int64, endIndex: Int64 = 1_000_000) -> IntervalRecord {
    IntervalRecord(
        meterID: meter,
        intervalStart: start,
        intervalMinutes: 30,
        volumeMillilitres: volume,
        endIndexMillilitres: endIndex,
        receivedAt: start.adding(seconds: 86_400)
    )
}

func makeAlarm(
    meter: Int64,
    raisedAt: Timestamp,
    receivedAt: Timestamp? = nil,
    condition: AlarmCondition = .methaneDetector,
    priority: TicketPriority = .p0,
    isCleared: Bool = false,
    rawCode: Int32 = 0x21
) -> AlarmRecord {
    AlarmRecord(
        meterID: meter,
        raisedAt: raisedAt,
        receivedAt: receivedAt ?? raisedAt.adding(seconds: 2),
        source: .native,
        rawCode: rawCode,
        condition: condition,
        isCleared: isCleared,
        priority: priority,
        valve: .closed,
        detail: 25,
        frameCounter: 99
    )
}

func batch(
    readings: [ReadingRecord] = [],
    intervals: [IntervalRecord] = [],
    alarms: [AlarmRecord] = [],
    frames: [UplinkFrameRecord] = [],
    quarantine: [QuarantineRecord] = []
) -> SinkBatch {
    var batch = SinkBatch()
    batch.readings = readings
    batch.intervals = intervals
    batch.alarms = alarms
    batch.quarantine = quarantine
    // Each uplink frame with its gate, as the admission ladder makes them (the writer refuses ungated frames): its
    // identity is its meter's frame counter.
    for frame in frames {
        batch.gates.append(
            FrameGate(
                meterID: frame.meterID,
                identity: .counter(UInt32(truncatingIfNeeded: frame.frameCounter)),
                fingerprint: frame.frameCounter &* 0x9E37_79B9 &+ Int64(frame.frameType),
                source: .native,
                receivedAt: frame.receivedAt,
                rowsStartingAt: batch
            )
        )
        batch.frames.append(frame)
    }
    return batch
}

/// Gathers a listener's notifications from one consumer task, so tests can wait with timeouts without
/// cancelling the stream's iterator (which would stop the listener).
final class NotificationCollector: Sendable {
    private let items: Items
    private let consumer: Task<Void, Never>

    private final class Items: Sendable {
        let storage = Mutex<[PostgresNotification]>([])
    }

    init(_ stream: AsyncStream<PostgresNotification>) {
        let items = Items()
        self.items = items
        self.consumer = Task {
            for await note in stream { items.storage.withLock { $0.append(note) } }
        }
    }

    var all: [PostgresNotification] { items.storage.withLock { $0 } }

    /// Waits until at least `count` notifications arrived (or `timeout` passed) and returns all so far. The timeout
    /// is long because it bounds a failure, not a speed: the consumer task runs on the cooperative pool, which a full
    /// parallel test run can hold for tens of seconds (a 5 s wait ran out in a fresh-clone CI run).
    func wait(forCount count: Int, timeout: Duration = .seconds(45)) async -> [PostgresNotification] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            let snapshot = all
            if snapshot.count >= count { return snapshot }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return all
    }

    /// Waits until the stream has finished.
    func finished() async {
        await consumer.value
    }
}
