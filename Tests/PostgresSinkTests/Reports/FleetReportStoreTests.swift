import GatewayCore
import GatewayDomain
import Testing

@testable import PostgresSink

@Suite(.enabled(if: TestServer.isAvailable), .serialized, .timeLimit(.minutes(1)))
struct FleetReportStoreTests {
    @Test
    func reportCountsWhatABatchWrote() async throws {
        let database = try TestDatabase.create()
        defer { database.drop() }
        let session = PostgresSession(.gateway(conninfo: database.conninfo), logger: testLogger)
        let telemetry = TelemetryStore(conninfo: database.conninfo, logger: testLogger)
        do {
            try await session.connect()
            _ = try await session.migrate()
            _ = try await MeterStore(session).registerMeters([
                MeterRegistration(protocol: .native, address: "m1", district: "d1", isRural: false),
                MeterRegistration(protocol: .native, address: "m2", district: "d1", isRural: false),
            ])
            var ids: [String: Int64] = [:]
            for meter in try await MeterStore(session).loadMeters(protocol: .native) { ids[meter.address] = meter.id }
            let m1 = try #require(ids["m1"])
            let m2 = try #require(ids["m2"])

            let empty = try await FleetReportStore(session).report()
            #expect(empty.readings == 0 && empty.tickets.isEmpty && empty.quarantineByReason.isEmpty)
            #expect(try await FleetReportStore(session).validationBacklog() == 0)

            let quarantine = ["bad_crc", "truncated", "truncated"].enumerated().map { index, reason in
                QuarantineRecord(
                    receivedAt: at(Int64(index)),
                    topic: "meters/native/up/00000\(index)",
                    payload: [0x68, UInt8(index), 0x16],
                    reason: reason,
                    detail: "frame \(index)",
                    source: .native,
                    meterAddress: nil
                )
            }
            let written = try await telemetry.write(
                batch(
                    readings: [
                        makeReading(meter: m1, at: at(0), volume: 1_000),
                        makeReading(meter: m1, at: at(3_600), volume: 2_000),
                        makeReading(meter: m2, at: at(0), volume: 5_000),
                    ],
                    intervals: [
                        makeInterval(meter: m1, start: at(0), volume: 10),
                        makeInterval(meter: m1, start: at(1_800), volume: 20),
                    ],
                    alarms: [
                        makeAlarm(meter: m1, raisedAt: at(100)),
                        makeAlarm(
                            meter: m2,
                            raisedAt: at(200),
                            condition: .continuousFlowWarning,
                            priority: .p3,
                            rawCode: LeakSignatures.Code.continuousWarning
                        ),
                    ],
                    frames: [
                        UplinkFrameRecord(meterID: m1, frameCounter: 1, frameType: 1, meterTime: at(0), receivedAt: at(5)),
                        UplinkFrameRecord(meterID: m2, frameCounter: 1, frameType: 1, meterTime: at(0), receivedAt: at(5)),
                    ],
                    quarantine: quarantine
                )
            )
            #expect(written.readingsInserted == 3)

            let report = try await FleetReportStore(session).report()
            #expect(report.framesStored == 2)
            #expect(report.readings == 3)
            #expect(report.intervalPoints == 2)
            #expect(report.alarms == 2)
            #expect(report.quarantined == 3)
            #expect(
                report.quarantineByReason == [
                    FleetReport.Count(name: "bad_crc", count: 1), FleetReport.Count(name: "truncated", count: 2),
                ]
            )
            #expect(report.tickets.count == written.ticketsOpened)
            let methane = try #require(report.tickets.first)
            #expect(methane.meterAddress == "m1")
            #expect(methane.condition == AlarmCondition.methaneDetector.rawValue)
            #expect(methane.priority == "P0")
            #expect(methane.status == "open")
            #expect(methane.alarmCount == 1)
            #expect(methane.arriveBy != nil && methane.repairBy != nil)
            #expect(report.ticketEvents == Int64(written.ticketEvents))
            #expect(report.readingsByQuality == [FleetReport.Count(name: "pending", count: 3)])
            #expect(report.heldReadingsByReasons.isEmpty)
            #expect(report.metersPastVerification == 0)
            #expect(
                report.leakSignatures == [
                    FleetReport.LeakSignature(
                        condition: AlarmCondition.continuousFlowWarning.rawValue,
                        count: 1,
                        meterAddresses: ["m2"]
                    )
                ]
            )
            // Both meters wait for the validator.
            #expect(try await FleetReportStore(session).validationBacklog() == 2)
        } catch {
            await telemetry.close()
            await session.close()
            throw error
        }
        await telemetry.close()
        await session.close()
    }
}
