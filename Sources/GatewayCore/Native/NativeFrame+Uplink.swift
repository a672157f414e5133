// The payloads a meter sends: register values, readings, daily reports, alarms and command results.

extension NativeFrame {
    /// A gas volume register value: raw count × 10^exponent m³, rolling over at 10^digits m³.
    public struct Register: Sendable, Hashable {
        /// The raw register count.
        public var raw: UInt64
        /// The decimal exponent, −6…0 (m³ = raw × 10^exponent).
        public var exponent: Int8
        /// The number of integer digits of the register in m³, 4…10.
        public var digits: UInt8

        /// Creates a register value.
        public init(raw: UInt64, exponent: Int8, digits: UInt8) {
            self.raw = raw
            self.exponent = exponent
            self.digits = digits
        }

        /// The number of raw counts after which the register rolls over: 10^(digits − exponent).
        public var rawModulus: UInt64 { DecimalScale.powerOfTen(Int(digits) - Int(exponent)) }

        /// Millilitres per raw count: 10^(exponent + 6).
        public var millilitresPerCount: Int64 { Int64(DecimalScale.powerOfTen(Int(exponent) + 6)) }

        /// The register value in millilitres (exact; valid for decoded, range-checked values).
        public var millilitres: Int64 { Int64(truncatingIfNeeded: raw) &* millilitresPerCount }

        /// The rollover modulus 10^digits m³ in millilitres.
        public var modulusMillilitres: Int64 { Int64(DecimalScale.powerOfTen(Int(digits) + 6)) }

        /// The value in m³ as exact decimal text with the register's resolution, e.g. `"1234.567"`.
        public var cubicMetresText: String { cubicMetres(counts: raw).description }

        /// An amount of raw counts in m³, exact, with the register's resolution (e.g. a consumption or an index).
        ///
        /// - Parameter counts: Raw counts of this register.
        /// - Returns: `counts` × 10^exponent m³.
        public func cubicMetres(counts: UInt64) -> ExactDecimal {
            ExactDecimal(significand: counts, exponent: Int(exponent))
        }
    }

    /// Body of a periodic reading (type 0x01, 25 bytes).
    public struct Reading: Sendable, Hashable {
        /// The volume register.
        public var register: Register
        /// Flow in mL/h, or `nil` when not measured (wire 0xFFFFFFFF).
        public var flowMillilitresPerHour: UInt32?
        /// The valve position (wire 0 open, 1 closed, 2 moving, 3 fault, 0xFF unknown / no valve).
        public var valve: ValveState
        /// Battery voltage in mV, or `nil` when not measured (wire 0xFFFF).
        public var batteryMillivolts: UInt16?
        /// Temperature in 0.01 °C (−4000…8500), or `nil` when not measured (wire 0x8000).
        public var temperatureCentiCelsius: Int16?
        /// Radio signal strength in dBm (−150…0), or `nil` when not measured (wire 0x8000).
        public var signalDBm: Int16?
        /// The status word as sent.
        public var status: NativeStatus

        /// Creates a reading body.
        public init(
            register: Register,
            flowMillilitresPerHour: UInt32?,
            valve: ValveState,
            batteryMillivolts: UInt16?,
            temperatureCentiCelsius: Int16?,
            signalDBm: Int16?,
            status: NativeStatus
        ) {
            self.register = register
            self.flowMillilitresPerHour = flowMillilitresPerHour
            self.valve = valve
            self.batteryMillivolts = batteryMillivolts
            self.temperatureCentiCelsius = temperatureCentiCelsius
            self.signalDBm = signalDBm
            self.status = status
        }
    }

    /// A register total frozen by the meter at a point in time (part of a daily report).
    public struct FrozenTotal: Sendable, Hashable {
        /// The meter's clock at the freeze, seconds since 1970 UTC (non-zero).
        public var time: UInt32
        /// The raw register count, in the daily report's exponent and digits.
        public var raw: UInt64

        /// Creates a frozen total.
        public init(time: UInt32, raw: UInt64) {
            self.time = time
            self.raw = raw
        }
    }

    /// Body of a daily report (type 0x02, 17 + 4n + 12k bytes).
    public struct DailyReport: Sendable, Equatable {
        /// The most interval points a report carries.
        public static let maximumPointCount = 48
        /// The most frozen totals a report carries.
        public static let maximumFrozenCount = 7

        /// Start of the first interval, meter clock seconds since 1970 UTC (non-zero, a multiple of the interval).
        public var intervalStart: UInt32
        /// Interval length: 15, 30 or 60 minutes.
        public var intervalMinutes: UInt8
        /// The register at the start of the first interval (its exponent and digits apply to the whole report).
        public var startRegister: Register
        /// The number of valid entries in ``points`` (0…48).
        public var pointCount: Int
        /// Consumption per interval in raw register counts; entries from ``pointCount`` on are unused.
        public var points: InlineArray<48, UInt32>
        /// The number of valid entries in ``frozenTotals`` (0…7).
        public var frozenCount: Int
        /// Frozen register totals; entries from ``frozenCount`` on are unused.
        public var frozenTotals: InlineArray<7, FrozenTotal>

        /// Creates a daily report from arrays (at most 48 points and 7 frozen totals are kept).
        public init(
            intervalStart: UInt32,
            intervalMinutes: UInt8,
            startRegister: Register,
            points: [UInt32],
            frozenTotals: [FrozenTotal]
        ) {
            self.intervalStart = intervalStart
            self.intervalMinutes = intervalMinutes
            self.startRegister = startRegister
            self.pointCount = min(points.count, Self.maximumPointCount)
            self.points = InlineArray(repeating: 0)
            for index in 0..<pointCount {
                self.points[index] = points[index]
            }
            self.frozenCount = min(frozenTotals.count, Self.maximumFrozenCount)
            self.frozenTotals = InlineArray(repeating: FrozenTotal(time: 0, raw: 0))
            for index in 0..<frozenCount {
                self.frozenTotals[index] = frozenTotals[index]
            }
        }

        /// Creates an empty report to fill in place (used by the decoder).
        init(intervalStart: UInt32, intervalMinutes: UInt8, startRegister: Register) {
            self.intervalStart = intervalStart
            self.intervalMinutes = intervalMinutes
            self.startRegister = startRegister
            self.pointCount = 0
            self.points = InlineArray(repeating: 0)
            self.frozenCount = 0
            self.frozenTotals = InlineArray(repeating: FrozenTotal(time: 0, raw: 0))
        }

        /// The valid points as an array (allocates; for tests and tools).
        public var pointArray: [UInt32] { (0..<min(max(pointCount, 0), Self.maximumPointCount)).map { points[$0] } }

        /// The valid frozen totals as an array (allocates; for tests and tools).
        public var frozenTotalArray: [FrozenTotal] {
            (0..<min(max(frozenCount, 0), Self.maximumFrozenCount)).map { frozenTotals[$0] }
        }

        /// Compares the valid entries only (counts outside 0…48 and 0…7 are clamped).
        public static func == (lhs: DailyReport, rhs: DailyReport) -> Bool {
            guard lhs.intervalStart == rhs.intervalStart, lhs.intervalMinutes == rhs.intervalMinutes,
                lhs.startRegister == rhs.startRegister, lhs.pointCount == rhs.pointCount,
                lhs.frozenCount == rhs.frozenCount
            else { return false }
            for index in 0..<min(max(lhs.pointCount, 0), maximumPointCount)
            where lhs.points[index] != rhs.points[index] {
                return false
            }
            for index in 0..<min(max(lhs.frozenCount, 0), maximumFrozenCount)
            where lhs.frozenTotals[index] != rhs.frozenTotals[index] {
                return false
            }
            return true
        }
    }

    /// Body of an alarm or event (type 0x03, 22 bytes). The event time is the header's meter time.
    public struct Alarm: Sendable, Hashable {
        /// The alarm code (0x0001…0x000E defined; others are kept and map to ``AlarmCondition/unrecognised``).
        public var code: UInt16
        /// `true` when the condition was raised, `false` when it cleared.
        public var isRaised: Bool
        /// The valve position when the event happened.
        public var valve: ValveState
        /// The register at the event.
        public var register: Register
        /// Flow in mL/h at the event, or `nil` when not measured.
        public var flowMillilitresPerHour: UInt32?
        /// A code-specific measurement (methane %LEL × 100, pressure in Pa, …); 0 when the code defines none.
        public var detail: Int32

        /// Creates an alarm body.
        public init(
            code: UInt16,
            isRaised: Bool,
            valve: ValveState,
            register: Register,
            flowMillilitresPerHour: UInt32?,
            detail: Int32
        ) {
            self.code = code
            self.isRaised = isRaised
            self.valve = valve
            self.register = register
            self.flowMillilitresPerHour = flowMillilitresPerHour
            self.detail = detail
        }

        /// The condition the code maps to.
        public var condition: AlarmCondition { AlarmCondition(nativeCode: code) }
    }

    /// Body of a command result (type 0x04, 7 bytes).
    public struct CommandResult: Sendable, Hashable {
        /// What the meter did with the command.
        public enum Outcome: UInt8, Sendable, Hashable, CaseIterable {
            /// The command was carried out.
            case executed = 0
            /// The meter refused, e.g. opening needs a local button press first.
            case refused = 1
            /// The meter tried and failed.
            case failed = 2
            /// The meter does not support the command.
            case unsupported = 3

            /// The snake_case name used in JSON.
            public var name: String {
                switch self {
                case .executed: "executed"
                case .refused: "refused"
                case .failed: "failed"
                case .unsupported: "unsupported"
                }
            }
        }

        /// The frame counter of the command being answered.
        public var commandFrameCounter: UInt32
        /// The type of the command being answered: ``NativeFrameType/valveCommand`` or
        /// ``NativeFrameType/parameterUpdate``.
        public var commandType: NativeFrameType
        /// The outcome.
        public var outcome: Outcome
        /// The valve position after the command.
        public var valve: ValveState

        /// Creates a command result body.
        public init(commandFrameCounter: UInt32, commandType: NativeFrameType, outcome: Outcome, valve: ValveState) {
            self.commandFrameCounter = commandFrameCounter
            self.commandType = commandType
            self.outcome = outcome
            self.valve = valve
        }
    }
}
