import Foundation
import GatewayCore
import GatewayDomain
import Testing

@testable import GatewayApp

/// Zone settings: IANA names from the system's zone data, fixed offsets, the older minute settings, and meter
/// clocks in named zones.
@Suite struct TimeZoneSettingTests {
    private func load(_ toml: String, environment: [String: String] = [:]) throws -> GatewayConfiguration {
        try GatewayConfiguration.load(tomlText: toml, environment: environment)
    }

    private func local(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int = 0) -> Int64 {
        CivilTime(year: year, month: month, day: day, hour: hour, minute: minute).utcSeconds
    }

    @Test func aNamedZoneFollowsSummerTime() throws {
        let configuration = try load(
            """
            [validation]
            billing_day_time_zone = "Europe/Berlin"
            [meters]
            cjt188_clock_time_zone = "Asia/Shanghai"
            mbus_clock_time_zone = "Europe/Berlin"
            """
        )
        let berlin = configuration.validation.billingZone
        #expect(berlin.identifier == "Europe/Berlin" && !berlin.isFixed)
        #expect(configuration.validation.rules.billingZone == berlin)
        #expect(configuration.signatureSettings?.zone == berlin)
        #expect(configuration.meters.clocks.mbus.zone == berlin)
        // The 2026 changes, to the second, as the tz database has them.
        #expect(berlin.offsetSeconds(at: 1_774_746_000 - 1) == 3600 && berlin.offsetSeconds(at: 1_774_746_000) == 7200)
        #expect(berlin.offsetSeconds(at: 1_792_890_000 - 1) == 7200 && berlin.offsetSeconds(at: 1_792_890_000) == 3600)
        // The same instants as the table the pure tests use, for every hour of 2025…2027.
        for hour in stride(from: Int64(1_735_689_600), to: 1_830_297_600, by: 3600) {
            let expected: Int64 =
                [(1_743_296_400, 1_761_440_400), (1_774_746_000, 1_792_890_000), (1_806_195_600, 1_824_944_400)]
                    .contains { hour >= $0.0 && hour < $0.1 } ? 7200 : 3600
            #expect(berlin.offsetSeconds(at: hour) == expected, "\(hour)")
        }
        let day = BillingDay.start(of: Timestamp(secondsSinceEpoch: 1_774_780_000), zone: berlin)
        #expect(BillingDay.end(of: day, zone: berlin).secondsSinceEpoch - day.secondsSinceEpoch == 23 * 3600)
        // China has kept +08:00 since 1991.
        let shanghai = configuration.meters.clocks.cjt188.zone
        #expect(shanghai.identifier == "Asia/Shanghai")
        for instant in stride(from: Int64(694_224_000), to: 4_102_444_800, by: 86_400 * 7) {
            #expect(shanghai.offsetSeconds(at: instant) == 28_800)
        }
    }

    @Test(
        arguments: [
            ("+08:00", 28_800), ("+0800", 28_800), ("+08", 28_800), ("-05:30", -19_800), ("+00:00", 0), ("Z", 0),
            ("+14:00", 50_400), ("-12:00", -43_200),
        ] as [(String, Int64)]
    )
    func aFixedOffsetIsAccepted(example: (String, Int64)) throws {
        let configuration = try load("[validation]\nbilling_day_time_zone = \"\(example.0)\"")
        #expect(configuration.validation.billingZone == TimeZoneRules(fixedOffsetSeconds: example.1))
    }

    @Test func theOlderMinuteSettingsStillWork() throws {
        let configuration = try load(
            """
            [validation]
            billing_day_utc_offset_minutes = 480
            [meters]
            mbus_clock_utc_offset_minutes = 120
            """
        )
        #expect(configuration.validation.billingZone == TimeZoneRules(fixedOffsetSeconds: 28_800))
        #expect(configuration.meters.clocks.mbus == MeterClock(utcOffsetMinutes: 120))
        // Defaults: billing days in UTC, CJ/T 188 clocks at +08:00, M-Bus clocks at +01:00.
        let defaults = try GatewayConfiguration.load(tomlText: nil, environment: [:])
        #expect(defaults.validation.billingZone == .utc)
        #expect(
            defaults.meters.clocks
                == MeterClocks(cjt188: MeterClock(utcOffsetMinutes: 480), mbus: MeterClock(utcOffsetMinutes: 60))
        )
    }

    @Test func bothFormsOfOneSettingAreRefused() {
        #expect(
            throws: ConfigurationError(
                setting: "validation.billing_day_time_zone",
                problem: "give validation.billing_day_time_zone or the older "
                    + "validation.billing_day_utc_offset_minutes, not both"
            )
        ) {
            try load("[validation]\nbilling_day_time_zone = \"Europe/Berlin\"\nbilling_day_utc_offset_minutes = 60")
        }
        // Also when one comes from the environment.
        #expect(throws: ConfigurationError.self) {
            try load(
                "[meters]\nmbus_clock_time_zone = \"Europe/Berlin\"",
                environment: ["METER_GATEWAY_METERS_MBUS_CLOCK_UTC_OFFSET_MINUTES": "60"]
            )
        }
        #expect(throws: ConfigurationError.self) {
            try load(
                "[meters]\ncjt188_clock_utc_offset_minutes = 480",
                environment: ["METER_GATEWAY_METERS_CJT188_CLOCK_TIME_ZONE": "Asia/Shanghai"]
            )
        }
    }

    @Test func aCopyOfTheExampleFileTakesAZoneNameWithNoOtherEdit() throws {
        let example = GatewayConfiguration.exampleFile()
        #expect(example.contains("\n# mbus_clock_utc_offset_minutes = 60\n"))
        let edited = example.replacingOccurrences(
            of: "\nmbus_clock_time_zone = \"\"\n",
            with: "\nmbus_clock_time_zone = \"Europe/Berlin\"\n"
        )
        #expect(edited != example)
        let configuration = try GatewayConfiguration.load(tomlText: edited, environment: [:])
        #expect(configuration.meters.mbusZone.identifier == "Europe/Berlin")
    }

    @Test(arguments: ["Europe/Atlantis", "CET1", "GMT+8", "+8:00", "+15:00", "+08:60", "08:00", "europe berlin"])
    func anUnknownZoneIsRefused(name: String) {
        #expect(throws: ConfigurationError.self) {
            try load("[meters]\nmbus_clock_time_zone = \"\(name)\"")
        }
    }

    // MARK: Meter clocks in named zones

    @Test func aCJT188MeterInShanghaiReadsEightHoursAheadOfUTC() throws {
        let clocks = try load("[meters]\ncjt188_clock_time_zone = \"Asia/Shanghai\"").meters.clocks
        // The golden vector gas-901f-status-alarms: meter clock 2015-05-11 22:01:31.
        let bytes = try #require(
            Hex.decode("FEFEFE68304433221100337881161F9000007766552C452301002C3101221105152007814D16")
        )
        let frame = try bytes.withUnsafeBytes { try CJT188Decoder.decode($0) }
        var batch = SinkBatch()
        let received = Timestamp(secondsSinceEpoch: local(2015, 5, 11, 14, 2))
        frame.appendRecords(
            to: &batch,
            meterID: 7,
            receivedAt: received,
            clock: clocks.cjt188,
            policy: .serviceCommitments
        )
        #expect(batch.readings.count == 2)
        let expected = local(2015, 5, 11, 14, 1) + 31
        #expect(batch.readings.allSatisfy { $0.readAt.secondsSinceEpoch == expected })
        #expect(batch.readings.allSatisfy { $0.statusBits & CJT188Frame.clockRepeatedStatusBit == 0 })
    }

    /// The golden vector gas-vm-vb-plain (wireless, no CRC, plain) with its meter time record `04 6D` set to
    /// `time`, and its rows on `clock`.
    private func mbusRows(at time: CivilTime, receivedAt: Timestamp, clock: MeterClock) throws -> [ReadingRecord] {
        let prefix =
            "5544E61E010024203C037A100000000C943A001709000C933E842784064C14563412008C10140001000002FD74871302FD1704"
            + "0001FD71C30265B40802696400042210270000042620000000023B2C01046D"
        var bytes = try #require(Hex.decode(prefix))
        let year = time.year % 100
        bytes += [
            UInt8(time.minute), UInt8(time.hour), UInt8(time.day) | UInt8((year & 0x07) << 5),
            UInt8(time.month) | UInt8((year >> 3) << 4),
        ]
        let frame = try bytes.withUnsafeBytes {
            try MBusDecoder.decodeWireless($0, key: { _ in nil }, allowAlreadyDecrypted: false)
        }
        #expect(frame.meterTime == time)
        var batch = SinkBatch()
        frame.appendRecords(
            to: &batch,
            meterID: 9,
            receivedAt: receivedAt,
            clock: clock,
            policy: .serviceCommitments,
            source: .wmbus,
            minimum: .plain
        )
        let current = batch.readings.filter { $0.storage == 0 }
        #expect(current.count == 3)
        return current
    }

    @Test func anMBusMeterInBerlinInTheRepeatedHourIsReadNearTheReceiveTimeAndFlagged() throws {
        let clock = try load("[meters]\nmbus_clock_time_zone = \"Europe/Berlin\"").meters.clocks.mbus
        let time = CivilTime(year: 2026, month: 10, day: 25, hour: 2, minute: 30)
        // 02:30 happens at 00:30Z (CEST) and again at 01:30Z (CET).
        for (received, expected) in [
            (local(2026, 10, 25, 0, 31), local(2026, 10, 25, 0, 30)),
            (local(2026, 10, 25, 1, 31), local(2026, 10, 25, 1, 30)),
            (local(2026, 10, 25, 1, 0), local(2026, 10, 25, 0, 30)),  // as near to both: the earlier
        ] {
            let rows = try mbusRows(at: time, receivedAt: Timestamp(secondsSinceEpoch: received), clock: clock)
            #expect(rows.allSatisfy { $0.readAt.secondsSinceEpoch == expected }, "received \(received)")
            #expect(rows.allSatisfy { $0.statusBits & MBusFrame.clockRepeatedStatusBit != 0 })
            #expect(rows.allSatisfy { $0.statusBits & MBusFrame.clockInvalidStatusBit == 0 })
        }
        // The hour before and after is one instant, unflagged.
        let before = try mbusRows(
            at: CivilTime(year: 2026, month: 10, day: 25, hour: 1, minute: 30),
            receivedAt: Timestamp(secondsSinceEpoch: local(2026, 10, 24, 23, 31)),
            clock: clock
        )
        #expect(
            before.allSatisfy {
                $0.readAt.secondsSinceEpoch == local(2026, 10, 24, 23, 30)
                    && $0.statusBits & MBusFrame.clockRepeatedStatusBit == 0
            }
        )
    }

    @Test func anMBusMeterInBerlinInTheSkippedHourIsReadAtReceiveTimeAndFlaggedInvalid() throws {
        let clock = try load("[meters]\nmbus_clock_time_zone = \"Europe/Berlin\"").meters.clocks.mbus
        // 2026-03-29 02:30 never happened in Berlin (02:00 CET became 03:00 CEST).
        let received = Timestamp(secondsSinceEpoch: local(2026, 3, 29, 1, 31))
        let rows = try mbusRows(
            at: CivilTime(year: 2026, month: 3, day: 29, hour: 2, minute: 30),
            receivedAt: received,
            clock: clock
        )
        #expect(rows.allSatisfy { $0.readAt == received })
        #expect(rows.allSatisfy { $0.statusBits & MBusFrame.clockInvalidStatusBit != 0 })
        // 03:30 CEST is 01:30Z.
        let after = try mbusRows(
            at: CivilTime(year: 2026, month: 3, day: 29, hour: 3, minute: 30),
            receivedAt: received,
            clock: clock
        )
        #expect(
            after.allSatisfy {
                $0.readAt.secondsSinceEpoch == local(2026, 3, 29, 1, 30)
                    && $0.statusBits & MBusFrame.clockInvalidStatusBit == 0
            }
        )
    }
}
