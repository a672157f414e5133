import GatewayCore
import Testing

/// Hand-built frames of every type, used for round trips here and in the malformed-input tests.
enum SampleFrames {
    static let key = AES128Key(hex: "2B7E151628AED2A6ABF7158809CF4F3C")
    static let meterTime: UInt32 = 1_795_420_800

    static let register = NativeFrame.Register(raw: 1_234_567, exponent: -3, digits: 8)

    static var all: [NativeFrame] {
        [
            NativeFrame(
                meterID: 1_000_001,
                frameCounter: 7,
                meterTime: meterTime,
                flags: .ackRequested,
                body: .reading(
                    NativeFrame.Reading(
                        register: register,
                        flowMillilitresPerHour: 500_000,
                        valve: .open,
                        batteryMillivolts: 3600,
                        temperatureCentiCelsius: 2150,
                        signalDBm: -85,
                        status: [.batteryLow]
                    )
                )
            ),
            NativeFrame(
                meterID: 1_000_001,
                frameCounter: 8,
                meterTime: 0,
                body: .reading(
                    NativeFrame.Reading(
                        register: register,
                        flowMillilitresPerHour: nil,
                        valve: .unknown,
                        batteryMillivolts: nil,
                        temperatureCentiCelsius: nil,
                        signalDBm: nil,
                        status: NativeStatus(rawValue: 0xFFFF_FFFF)
                    )
                )
            ),
            NativeFrame(
                meterID: 1_000_001,
                frameCounter: 9,
                meterTime: meterTime,
                flags: .ackRequested,
                body: .dailyReport(
                    NativeFrame.DailyReport(
                        intervalStart: 1_795_305_600,
                        intervalMinutes: 30,
                        startRegister: NativeFrame.Register(raw: 99_990_000, exponent: -3, digits: 5),
                        points: (0..<48).map { UInt32($0 * 400) },
                        frozenTotals: (0..<7).map {
                            NativeFrame.FrozenTotal(time: 1_795_305_600 - UInt32($0) * 86_400, raw: 99_000_000)
                        }
                    )
                )
            ),
            NativeFrame(
                meterID: 1_000_001,
                frameCounter: 10,
                meterTime: meterTime,
                flags: [.ackRequested, .retransmission],
                body: .alarm(
                    NativeFrame.Alarm(
                        code: 0x0001,
                        isRaised: true,
                        valve: .closed,
                        register: register,
                        flowMillilitresPerHour: 0,
                        detail: 2500
                    )
                )
            ),
            NativeFrame(
                meterID: 1_000_001,
                frameCounter: 11,
                meterTime: meterTime,
                body: .commandResult(
                    NativeFrame.CommandResult(
                        commandFrameCounter: 5,
                        commandType: .valveCommand,
                        outcome: .executed,
                        valve: .closed
                    )
                )
            ),
            NativeFrame(
                meterID: 1_000_001,
                frameCounter: 7,
                meterTime: meterTime,
                body: .ack(
                    NativeFrame.Ack(ackedFrameCounter: 7, ackedFrameType: 0x01, result: .stored, serverTime: meterTime)
                )
            ),
            NativeFrame(
                meterID: 1_000_001,
                frameCounter: 5,
                meterTime: meterTime,
                flags: .ackRequested,
                body: .valveCommand(NativeFrame.ValveCommand(action: .close, reason: 0x0001))
            ),
            NativeFrame(
                meterID: 1_000_001,
                frameCounter: 6,
                meterTime: meterTime,
                flags: .ackRequested,
                body: .parameterUpdate(
                    NativeFrame.ParameterUpdate(
                        NativeFrame.ParameterID.allCases.map {
                            NativeFrame.Parameter(id: $0, value: $0.validRange.upperBound)
                        }
                    )
                )
            ),
        ]
    }

    static func encoded() throws -> [[UInt8]] {
        let key = try #require(key)
        return try all.map { try NativeEncoder.encode($0, key: key) }
    }
}

@Suite struct NativeEncoderTests {
    @Test(arguments: SampleFrames.all)
    func roundTripsEveryFrameType(_ frame: NativeFrame) throws {
        let key = try #require(SampleFrames.key)
        let bytes = try NativeEncoder.encode(frame, key: key)
        #expect(bytes.count == 33 + frame.body.payloadLength)
        let decoded = try decodeNative(bytes, keyHex: "2B7E151628AED2A6ABF7158809CF4F3C")
        #expect(decoded.header == frame.header)
        #expect(decoded.body == frame.body)
        #expect(decoded.macStatus == .verified)
    }

    @Test func encodesIntoACallerBuffer() throws {
        let key = try #require(SampleFrames.key)
        let frame = SampleFrames.all[0]
        var buffer = [UInt8](repeating: 0xAA, count: 600)
        let count = try buffer.withUnsafeMutableBytes { raw in
            try NativeEncoder.encode(frame, key: key, into: raw)
        }
        #expect(count == 58)
        #expect(Array(buffer[0..<count]) == (try NativeEncoder.encode(frame, key: key)))
        #expect(buffer[count] == 0xAA)
    }

    @Test func reportsABufferTooSmall() throws {
        let key = try #require(SampleFrames.key)
        var buffer = [UInt8](repeating: 0, count: 57)
        #expect {
            try buffer.withUnsafeMutableBytes { raw in
                try NativeEncoder.encode(SampleFrames.all[0], key: key, into: raw)
            }
        } throws: { error in
            (error as? FrameEncodingError)?.code == .bufferTooSmall
        }
    }

    @Test func ackMatchesTheIndependentVector() throws {
        let vector = try #require(NativeVectorFile.validVectors.first { $0.name == "ack-stored" })
        let key = try #require(AES128Key(hex: vector.key))
        let ack = NativeEncoder.encodeAck(
            meterID: 1_000_001,
            key: key,
            ackedFrameCounter: 7,
            ackedFrameType: 0x01,
            result: .stored,
            serverTime: vector.expected.header.meterTime
        )
        #expect(Hex.encode(ack) == vector.hex)
    }

    @Test func ackOfAnUnknownTypeStillEncodes() throws {
        let key = try #require(SampleFrames.key)
        let ack = NativeEncoder.encodeAck(
            meterID: 9,
            key: key,
            ackedFrameCounter: 1,
            ackedFrameType: 0x7F,
            result: .rejected,
            serverTime: 1
        )
        let frame = try decodeNative(ack, keyHex: "2B7E151628AED2A6ABF7158809CF4F3C")
        #expect(
            frame.body
                == .ack(NativeFrame.Ack(ackedFrameCounter: 1, ackedFrameType: 0x7F, result: .rejected, serverTime: 1))
        )
    }

    struct InvalidCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var frame: NativeFrame
    }

    static let invalidFrames: [InvalidCase] = [
        InvalidCase(
            testDescription: "meter id 0",
            frame: NativeFrame(
                meterID: 0,
                frameCounter: 1,
                meterTime: 1,
                body: .valveCommand(NativeFrame.ValveCommand(action: .close, reason: 0))
            )
        ),
        InvalidCase(
            testDescription: "exponent -7",
            frame: NativeFrame(
                meterID: 1,
                frameCounter: 1,
                meterTime: 1,
                body: .alarm(
                    NativeFrame.Alarm(
                        code: 1,
                        isRaised: true,
                        valve: .open,
                        register: NativeFrame.Register(raw: 1, exponent: -7, digits: 8),
                        flowMillilitresPerHour: nil,
                        detail: 0
                    )
                )
            )
        ),
        InvalidCase(
            testDescription: "ack with flags",
            frame: NativeFrame(
                meterID: 1,
                frameCounter: 1,
                meterTime: 1,
                flags: .ackRequested,
                body: .ack(NativeFrame.Ack(ackedFrameCounter: 1, ackedFrameType: 1, result: .stored, serverTime: 1))
            )
        ),
        InvalidCase(
            testDescription: "ack counter differs from header",
            frame: NativeFrame(
                meterID: 1,
                frameCounter: 2,
                meterTime: 1,
                body: .ack(NativeFrame.Ack(ackedFrameCounter: 1, ackedFrameType: 1, result: .stored, serverTime: 1))
            )
        ),
        InvalidCase(
            testDescription: "reserved flag",
            frame: NativeFrame(
                meterID: 1,
                frameCounter: 1,
                meterTime: 1,
                flags: NativeFrame.Flags(rawValue: 0x10),
                body: .valveCommand(NativeFrame.ValveCommand(action: .close, reason: 0))
            )
        ),
        InvalidCase(
            testDescription: "empty parameter update",
            frame: NativeFrame(meterID: 1, frameCounter: 1, meterTime: 1, body: .parameterUpdate(.init([])))
        ),
        InvalidCase(
            testDescription: "parameter value out of range",
            frame: NativeFrame(
                meterID: 1,
                frameCounter: 1,
                meterTime: 1,
                body: .parameterUpdate(.init([NativeFrame.Parameter(id: .retransmitMaxAttempts, value: 11)]))
            )
        ),
        InvalidCase(
            testDescription: "daily report with 49 points (field set by hand)",
            frame: {
                var report = NativeFrame.DailyReport(
                    intervalStart: 1800,
                    intervalMinutes: 30,
                    startRegister: SampleFrames.register,
                    points: [],
                    frozenTotals: []
                )
                report.pointCount = 49
                return NativeFrame(meterID: 1, frameCounter: 1, meterTime: 1, body: .dailyReport(report))
            }()
        ),
        InvalidCase(
            testDescription: "misaligned daily report",
            frame: NativeFrame(
                meterID: 1,
                frameCounter: 1,
                meterTime: 1,
                body: .dailyReport(
                    NativeFrame.DailyReport(
                        intervalStart: 1801,
                        intervalMinutes: 30,
                        startRegister: SampleFrames.register,
                        points: [1],
                        frozenTotals: []
                    )
                )
            )
        ),
    ]

    @Test(arguments: invalidFrames)
    func refusesToEncodeInvalidFrames(_ invalid: InvalidCase) throws {
        let key = try #require(SampleFrames.key)
        #expect {
            try NativeEncoder.encode(invalid.frame, key: key)
        } throws: { error in
            guard let error = error as? FrameEncodingError else { return false }
            return error.code == .invalidFrame && error.decodingError?.code == .fieldOutOfRange
        }
    }

    @Test func sealRepairsCRCAndMACAfterAnEdit() throws {
        let key = try #require(SampleFrames.key)
        var bytes = try NativeEncoder.encode(SampleFrames.all[0], key: key)
        bytes[17 + 3] &+= 1  // meter time + 1 s
        #expect(nativeErrorCode(bytes, keyHex: "2B7E151628AED2A6ABF7158809CF4F3C") == "bad_crc")
        bytes.withUnsafeMutableBytes { _ = NativeEncoder.seal($0, key: nil) }
        #expect(nativeErrorCode(bytes, keyHex: "2B7E151628AED2A6ABF7158809CF4F3C") == "bad_mac")
        bytes.withUnsafeMutableBytes { _ = NativeEncoder.seal($0, key: key) }
        #expect(nativeErrorCode(bytes, keyHex: "2B7E151628AED2A6ABF7158809CF4F3C") == nil)
        var short = Array(bytes.dropLast())
        #expect(short.withUnsafeMutableBytes { NativeEncoder.seal($0, key: key) } == false)
    }
}
