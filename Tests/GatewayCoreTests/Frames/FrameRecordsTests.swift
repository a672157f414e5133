import GatewayCore
import Testing

/// How decoded CJ/T 188 and M-Bus frames become the rows the sink stores, and how collector frames are routed.
@Suite struct FrameRecordsTests {
    private let received = Timestamp(secondsSinceEpoch: 1_700_000_000)
    private let china = MeterClock(utcOffsetMinutes: 480)
    private let cet = MeterClock(utcOffsetMinutes: 60)

    private func cjt188(_ name: String) throws -> CJT188Frame {
        let vector = try #require(CJT188VectorFile.validVectors.first { $0.name == name })
        let bytes = try #require(Hex.decode(vector.hex))
        return try bytes.withUnsafeBytes { try CJT188Decoder.decode($0) }
    }

    private func mbus(_ name: String) throws -> MBusFrame {
        let vector = try #require(MBusVectorFile.validVectors.first { $0.name == name })
        let key = vector.key.flatMap { AES128Key(bytes: Hex.decode($0) ?? []) }
        return try vector.bytes.withUnsafeBytes { bytes in
            vector.medium == "wired"
                ? try MBusDecoder.decodeWired(bytes, key: { _ in key }, allowAlreadyDecrypted: false)
                : try MBusDecoder.decodeWireless(bytes, key: { _ in key }, allowAlreadyDecrypted: false)
        }
    }

    /// The rows of a wireless M-Bus frame of meter 9 on a CET clock.
    private func rows(of frame: MBusFrame, minimum: ProtectionLevel) -> (count: Int, batch: SinkBatch) {
        var batch = SinkBatch()
        let count = frame.appendRecords(
            to: &batch,
            meterID: 9,
            receivedAt: received,
            clock: cet,
            policy: .serviceCommitments,
            source: .wmbus,
            minimum: minimum
        )
        return (count, batch)
    }

    // MARK: Sniffing

    @Test func collectorSniffingPicksTheDecoderOfEveryGoldenVector() throws {
        for vector in NativeVectorFile.validVectors {
            let bytes = try #require(Hex.decode(vector.hex))
            #expect(bytes.withUnsafeBytes { FrameSniffer.guess($0) } == .native, "\(vector.name)")
        }
        for vector in CJT188VectorFile.validVectors {
            let bytes = try #require(Hex.decode(vector.hex))
            #expect(bytes.withUnsafeBytes { FrameSniffer.guess($0) } == .cjt188, "\(vector.name)")
        }
        for vector in CJT188VectorFile.malformedVectors where vector.error == "vendor_frame" {
            let bytes = try #require(Hex.decode(vector.hex))
            #expect(bytes.withUnsafeBytes { FrameSniffer.guess($0) } == .cjt188, "\(vector.name)")
        }
        for vector in MBusVectorFile.validVectors {
            let expected: FrameProtocol = vector.medium == "wired" ? .mbus : .wmbus
            #expect(vector.bytes.withUnsafeBytes { FrameSniffer.guess($0) } == expected, "\(vector.name)")
        }
    }

    // MARK: CJ/T 188

    @Test func cjt188ReadingBecomesCurrentAndSettlementRowsWithStatusAlarms() throws {
        let frame = try cjt188("gas-901f-status-alarms")
        var batch = SinkBatch()
        let count = frame.appendRecords(
            to: &batch,
            meterID: 7,
            receivedAt: received,
            clock: china,
            policy: .serviceCommitments
        )
        #expect(count == 4)
        // Meter clock 2015-05-11 22:01:31 China time = 14:01:31 UTC.
        let readAt = Timestamp(
            secondsSinceEpoch: CivilTime(year: 2015, month: 5, day: 11, hour: 14, minute: 1, second: 31).utcSeconds
        )
        #expect(batch.readings.count == 2)
        let current = try #require(batch.readings.first)
        #expect(current.kind == .periodic && current.storage == 0 && current.basis == .unspecified)
        #expect(current.volumeMillilitres == 556_677_000_000)
        #expect(current.registerModulusMillilitres == 1_000_000_000_000)  // 8 digits of 0.01 m³
        #expect(current.readAt == readAt && current.receivedAt == received)
        #expect(current.statusBits == 33_031 && current.valve == .fault && current.source == .cjt188)
        let settlement = try #require(batch.readings.last)
        #expect(settlement.kind == .historic && settlement.storage == 1 && settlement.readAt == readAt)
        #expect(settlement.volumeMillilitres == 123_450_000)
        #expect(batch.alarms.map(\.condition) == [.valveFault, .batteryLow])
        #expect(batch.alarms.map(\.rawCode) == [1, 2])
        #expect(batch.alarms.map(\.priority) == [.p1, .p3])
        #expect(batch.alarms.allSatisfy { $0.raisedAt == readAt && $0.detail == 33_031 })
    }

    @Test func cjt188WithoutAValidClockIsReadAtReceiveTimeAndFlagged() throws {
        for name in ["gas-901f-clock-not-set", "gas-901f-clock-not-bcd", "gas-901f-clock-month-13"] {
            let frame = try cjt188(name)
            var batch = SinkBatch()
            frame.appendRecords(to: &batch, meterID: 7, receivedAt: received, clock: china, policy: .serviceCommitments)
            #expect(batch.readings.count == 2, "\(name)")
            #expect(batch.readings.allSatisfy { $0.readAt == received }, "\(name)")
            #expect(
                batch.readings.allSatisfy { $0.statusBits & CJT188Frame.clockInvalidStatusBit != 0 },
                "\(name)"
            )
        }
    }

    @Test func cjt188FramesWithoutReadingsGiveNoRows() throws {
        for name in [
            "cjt188-read-request", "gas-valve-close-request", "gas-valve-reply-abnormal",
            "gas-abnormal-reply-status-only",
            "gas-907f-clock-reply", "gas-unknown-di-raw",
        ] {
            let frame = try cjt188(name)
            var batch = SinkBatch()
            let count = frame.appendRecords(
                to: &batch,
                meterID: 7,
                receivedAt: received,
                clock: china,
                policy: .serviceCommitments
            )
            #expect(count == 0 && batch.isEmpty, "\(name)")
        }
    }

    // MARK: M-Bus

    @Test func mbusKeepsVmVbStorageAndTariffApart() throws {
        let frame = try mbus("gas-vm-vb-plain")
        let (_, batch) = rows(of: frame, minimum: .plain)
        // Meter clock 2008-05-31 23:50 CET = 22:50 UTC.
        let readAt = Timestamp(
            secondsSinceEpoch: CivilTime(year: 2008, month: 5, day: 31, hour: 22, minute: 50).utcSeconds
        )
        let rows = batch.readings.map {
            "\($0.basis.name)/\($0.storage)/\($0.tariff)/\($0.kind)/\($0.volumeMillilitres)"
        }
        #expect(
            rows == [
                "uncorrected/0/0/periodic/917000000", "converted/0/0/periodic/6842784000",
                "unspecified/1/0/historic/1234560000", "unspecified/0/1/periodic/1000000",
            ]
        )
        #expect(batch.readings.allSatisfy { $0.readAt == readAt && $0.source == .wmbus })
        // Flow and temperature go on the main (first) storage-0 register only.
        #expect(batch.readings.map(\.flowMillilitresPerHour) == [300_000, nil, nil, nil])
        #expect(batch.readings.map(\.temperatureCentiCelsius) == [2228, nil, nil, nil])
        // Error flags 4 → status bits (flags << 8) and one alarm with the flags as detail.
        #expect(batch.readings[0].statusBits == 4 << 8)
        #expect(batch.readings[0].registerModulusMillilitres == 1_000_000_000_000)  // 8 BCD digits of 0.01 m³
        #expect(batch.alarms.map(\.condition) == [.unrecognised])
        #expect(batch.alarms.map(\.rawCode) == [MBusFrame.AlarmCode.errorFlags])
        #expect(batch.alarms.map(\.detail) == [4])
    }

    @Test func mbusStatusBitsBecomeAlarmsAndAMissingClockIsFlagged() throws {
        let frame = try mbus("status-alarm-bits")  // STS 0x33: alarm, temporary error, manufacturer bit 5
        let (_, batch) = rows(of: frame, minimum: .plain)
        #expect(batch.readings.count == 1)
        #expect(batch.readings[0].readAt == received)
        #expect(batch.readings[0].statusBits == 0x33 | MBusFrame.clockInvalidStatusBit)
        #expect(batch.alarms.map(\.condition) == [.unrecognised, .meterFault])
        #expect(batch.alarms.map(\.rawCode) == [MBusFrame.AlarmCode.alarm, MBusFrame.AlarmCode.temporaryError])
        #expect(batch.alarms.map(\.priority) == [.p2, .p3])
    }

    @Test func mbusWithAKeyStoresOnlyWhatTheKeyProtected() throws {
        // 28504.27 m³ inside the encrypted blocks; a second storage-0 volume (10000.00) and error flags after them.
        let frame = try mbus("mode5-partial-encryption")
        let (_, batch) = rows(of: frame, minimum: .encrypted)
        #expect(batch.readings.map(\.volumeMillilitres) == [28_504_270_000])
        #expect(batch.alarms.isEmpty)
        // Without the rule the first of the two storage-0 registers still wins: a frame never conflicts with itself.
        let (_, open) = rows(of: frame, minimum: .plain)
        #expect(open.readings.map(\.volumeMillilitres) == [28_504_270_000])
    }

    @Test func mbusAlarmTelegramBecomesAnAlarm() throws {
        let frame = try mbus("alarm-telegram-ci74")
        let (count, batch) = rows(of: frame, minimum: .plain)
        #expect(count >= 1)
        #expect(batch.alarms.last?.rawCode == MBusFrame.AlarmCode.telegramBase | 0x74)
    }
}
