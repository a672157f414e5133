// The members each native frame type adds beside the shared names of a NativeFrameDocument.

extension NativeFrameDocument {
    /// The frame type's own members, written into the same object as the shared names.
    enum Fields: Encodable, Sendable, Equatable {
        case reading(ReadingFields)
        case dailyReport(DailyReportFields)
        case alarm(AlarmFields)
        case commandResult(CommandResultFields)
        case ack(AckFields)
        case valveCommand(ValveCommandFields)
        case parameterUpdate(ParameterUpdateFields)

        func encode(to encoder: any Encoder) throws {
            switch self {
            case .reading(let fields): try fields.encode(to: encoder)
            case .dailyReport(let fields): try fields.encode(to: encoder)
            case .alarm(let fields): try fields.encode(to: encoder)
            case .commandResult(let fields): try fields.encode(to: encoder)
            case .ack(let fields): try fields.encode(to: encoder)
            case .valveCommand(let fields): try fields.encode(to: encoder)
            case .parameterUpdate(let fields): try fields.encode(to: encoder)
            }
        }
    }

    /// A periodic reading: the register, the valve and the measurements, `null` when not measured.
    struct ReadingFields: Encodable, Sendable, Equatable {
        var register: Register
        var valve: String
        @ExplicitNull var flowMlH: UInt32?
        @ExplicitNull var batteryMv: UInt16?
        @ExplicitNull var temperatureC: ExactDecimal?
        @ExplicitNull var signalDbm: Int16?

        init(_ reading: NativeFrame.Reading) {
            register = Register(reading.register)
            valve = reading.valve.name
            flowMlH = reading.flowMillilitresPerHour
            batteryMv = reading.batteryMillivolts
            temperatureC = reading.temperatureCentiCelsius.map { ExactDecimal(Int64($0), exponent: -2) }
            signalDbm = reading.signalDBm
        }

        enum CodingKeys: String, CodingKey {
            case register, valve
            case flowMlH = "flow_ml_h"
            case batteryMv = "battery_mv"
            case temperatureC = "temperature_c"
            case signalDbm = "signal_dbm"
        }
    }

    /// A daily report: the interval log with each point's end index, and the frozen totals.
    struct DailyReportFields: Encodable, Sendable, Equatable {
        var intervalLog: IntervalLog
        var frozenTotals: [FrozenTotal]

        init(_ report: NativeFrame.DailyReport) {
            let register = report.startRegister
            intervalLog = IntervalLog(report)
            frozenTotals = report.frozenTotalArray.map { total in
                FrozenTotal(
                    time: time(total.time),
                    raw: String(total.raw),
                    valueM3: register.cubicMetres(counts: total.raw)
                )
            }
        }

        enum CodingKeys: String, CodingKey {
            case intervalLog = "interval_log"
            case frozenTotals = "frozen_totals"
        }
    }

    struct IntervalLog: Encodable, Sendable, Equatable {
        @ExplicitNull var start: String?
        var intervalMinutes: UInt8
        var pointCount: Int
        var register: Register
        var points: [Point]

        init(_ report: NativeFrame.DailyReport) {
            let register = report.startRegister
            let consumptions = report.pointArray
            start = time(report.intervalStart)
            intervalMinutes = report.intervalMinutes
            pointCount = consumptions.count
            self.register = Register(register)
            // Each point's end index is the start register plus the consumption so far, rolling over.
            let modulus = register.rawModulus
            var index = modulus == 0 ? 0 : register.raw % modulus
            points = consumptions.enumerated().map { point, consumption in
                index &+= UInt64(consumption)
                if modulus != 0 { index %= modulus }
                let startSeconds =
                    UInt64(report.intervalStart) &+ UInt64(point) &* 60 &* UInt64(report.intervalMinutes)
                return Point(
                    start: time(UInt32(truncatingIfNeeded: startSeconds)),
                    consumptionRaw: UInt64(consumption),
                    consumptionM3: register.cubicMetres(counts: UInt64(consumption)),
                    endIndexM3: register.cubicMetres(counts: index)
                )
            }
        }

        enum CodingKeys: String, CodingKey {
            case start, register, points
            case intervalMinutes = "interval_minutes"
            case pointCount = "point_count"
        }
    }

    struct Point: Encodable, Sendable, Equatable {
        @ExplicitNull var start: String?
        var consumptionRaw: UInt64
        var consumptionM3: ExactDecimal
        var endIndexM3: ExactDecimal

        enum CodingKeys: String, CodingKey {
            case start
            case consumptionRaw = "consumption_raw"
            case consumptionM3 = "consumption_m3"
            case endIndexM3 = "end_index_m3"
        }
    }

    struct FrozenTotal: Encodable, Sendable, Equatable {
        @ExplicitNull var time: String?
        /// Text: a 64-bit count does not fit a JSON reader's double.
        var raw: String
        var valueM3: ExactDecimal

        enum CodingKeys: String, CodingKey {
            case time, raw
            case valueM3 = "value_m3"
        }
    }

    /// An alarm frame's register, valve and flow (the alarm itself is in `alarms`).
    struct AlarmFields: Encodable, Sendable, Equatable {
        var register: Register
        var valve: String
        @ExplicitNull var flowMlH: UInt32?

        init(_ alarm: NativeFrame.Alarm) {
            register = Register(alarm.register)
            valve = alarm.valve.name
            flowMlH = alarm.flowMillilitresPerHour
        }

        enum CodingKeys: String, CodingKey {
            case register, valve
            case flowMlH = "flow_ml_h"
        }
    }

    struct CommandResultFields: Encodable, Sendable, Equatable {
        struct CommandResult: Encodable, Sendable, Equatable {
            var commandFrameCounter: UInt32
            var commandType: String
            var result: String

            enum CodingKeys: String, CodingKey {
                case result
                case commandFrameCounter = "command_frame_counter"
                case commandType = "command_type"
            }
        }

        var commandResult: CommandResult
        var valve: String

        init(_ result: NativeFrame.CommandResult) {
            commandResult = CommandResult(
                commandFrameCounter: result.commandFrameCounter,
                commandType: result.commandType.name,
                result: result.outcome.name
            )
            valve = result.valve.name
        }

        enum CodingKeys: String, CodingKey {
            case valve
            case commandResult = "command_result"
        }
    }

    struct AckFields: Encodable, Sendable, Equatable {
        struct Ack: Encodable, Sendable, Equatable {
            var ackedFrameCounter: UInt32
            var ackedFrameType: String
            var ackedFrameTypeCode: UInt8
            var result: String
            @ExplicitNull var serverTime: String?

            enum CodingKeys: String, CodingKey {
                case result
                case ackedFrameCounter = "acked_frame_counter"
                case ackedFrameType = "acked_frame_type"
                case ackedFrameTypeCode = "acked_frame_type_code"
                case serverTime = "server_time"
            }
        }

        var ack: Ack

        init(_ ack: NativeFrame.Ack) {
            self.ack = Ack(
                ackedFrameCounter: ack.ackedFrameCounter,
                ackedFrameType: NativeFrameType(rawValue: ack.ackedFrameType)?.name ?? "unknown",
                ackedFrameTypeCode: ack.ackedFrameType,
                result: ack.result.name,
                serverTime: time(ack.serverTime)
            )
        }
    }

    struct ValveCommandFields: Encodable, Sendable, Equatable {
        struct ValveCommand: Encodable, Sendable, Equatable {
            var action: String
            var reasonCode: UInt16
            /// `null` for reason 0 (no alarm behind the command).
            @ExplicitNull var reasonCondition: String?

            enum CodingKeys: String, CodingKey {
                case action
                case reasonCode = "reason_code"
                case reasonCondition = "reason_condition"
            }
        }

        var valveCommand: ValveCommand

        init(_ command: NativeFrame.ValveCommand) {
            valveCommand = ValveCommand(
                action: command.action.name,
                reasonCode: command.reason,
                reasonCondition: command.reason == 0 ? nil : AlarmCondition(nativeCode: command.reason).rawValue
            )
        }

        enum CodingKeys: String, CodingKey {
            case valveCommand = "valve_command"
        }
    }

    struct ParameterUpdateFields: Encodable, Sendable, Equatable {
        struct Parameter: Encodable, Sendable, Equatable {
            var id: UInt8
            var name: String
            var value: UInt32
        }

        var parameters: [Parameter]

        init(_ update: NativeFrame.ParameterUpdate) {
            parameters = update.parameterArray.map {
                Parameter(id: $0.id.rawValue, name: $0.id.name, value: $0.value)
            }
        }
    }
}
