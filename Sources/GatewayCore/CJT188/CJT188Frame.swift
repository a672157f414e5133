/// One decoded CJ/T 188 frame (`firmware-protocols/cjt188.md`), in either direction.
///
/// A plain value without references: decoding fills it from borrowed bytes without allocating. The fields used for
/// storage are plain integers: volumes in millilitres (``CJT188Quantity/millilitres``), the meter's clock as
/// ``CivilTime``, the raw 16-bit status word and the valve state derived from it.
public struct CJT188Frame: Sendable, Equatable {
    /// The number of `FE` wake-up bytes before the start byte `68`.
    public var preambleLength: Int
    /// The meter type T.
    public var meterType: CJT188MeterType
    /// The address A0…A6.
    public var address: CJT188Address
    /// The control code C.
    public var control: CJT188Control
    /// The function code of ``control`` (always a CJ/T 188 function: the decoder rejects the others).
    public var function: CJT188Function
    /// The length byte L: the number of bytes in the data field.
    public var dataLength: Int
    /// The data identifier, or `nil` for an abnormal reply whose data field carries status bytes only.
    ///
    /// A known identifier is given in its canonical form (`0x901F`) whatever the byte order on the wire; an unknown
    /// one is given as sent, first byte high (``diOrder`` is then `nil`).
    public var dataIdentifier: CJT188DataIdentifier?
    /// The byte order the DI was sent in, or `nil` when the DI is absent or unknown.
    public var diOrder: CJT188DIOrder?
    /// The sequence number SER, or `nil` when the data field has no DI.
    public var sequence: UInt8?
    /// The checksum byte CS (verified).
    public var checksum: UInt8
    /// The decoded data field after DI and SER.
    public var body: Body

    /// Creates a frame.
    public init(
        preambleLength: Int,
        meterType: CJT188MeterType,
        address: CJT188Address,
        control: CJT188Control,
        function: CJT188Function,
        dataLength: Int,
        dataIdentifier: CJT188DataIdentifier?,
        diOrder: CJT188DIOrder?,
        sequence: UInt8?,
        checksum: UInt8,
        body: Body
    ) {
        self.preambleLength = preambleLength
        self.meterType = meterType
        self.address = address
        self.control = control
        self.function = function
        self.dataLength = dataLength
        self.dataIdentifier = dataIdentifier
        self.diOrder = diOrder
        self.sequence = sequence
        self.checksum = checksum
        self.body = body
    }

    /// Whether the frame travels from the meter to the master (C bit D7).
    public var isFromMeter: Bool { control.isFromMeter }

    /// The decoded data field after DI and SER.
    public enum Body: Sendable, Equatable {
        /// A request whose data field is DI and SER only (read data, read address, read key version).
        case request
        /// The reply to read data, DI 901F, water or gas layout (22-byte data field).
        case meterData(MeterData)
        /// The reply to read data, DI 901F, heat layout (46-byte data field).
        case heatData(HeatData)
        /// The reply to read the real-time clock, DI 907F.
        case clock(CJT188Clock)
        /// The reply to read a past settlement-day volume, DI D120…D12B (water and gas).
        case settlementHistory(SettlementHistory)
        /// A valve control request, DI A017.
        case valveCommand(CJT188ValveCommand)
        /// The reply to a valve control request, DI A017: the status after the command.
        case valveStatus(ValveStatus)
        /// The reply to read address, DI 810A: the address in the data field, or `nil` when the reply carries the
        /// address in the header only.
        case addressReply(CJT188Address?)
        /// A write address request, DI A018: the new address.
        case newAddress(CJT188Address)
        /// An abnormal reply (C bit D6): the status bytes.
        case abnormal(CJT188Payload)
        /// A data field without a supported layout (an unknown DI, or a known DI whose layout is not decoded): the
        /// bytes after SER, kept as sent. Never a reading.
        case raw(CJT188Payload)

        /// The snake_case name used in JSON.
        public var name: String {
            switch self {
            case .request: "request"
            case .meterData: "meter_data"
            case .heatData: "heat_data"
            case .clock: "clock"
            case .settlementHistory: "settlement_history"
            case .valveCommand: "valve_command"
            case .valveStatus: "valve_status"
            case .addressReply: "address_reply"
            case .newAddress: "new_address"
            case .abnormal: "abnormal"
            case .raw: "raw"
            }
        }
    }

    /// The reply to read data (DI 901F) of a water or gas meter.
    public struct MeterData: Sendable, Hashable {
        /// The current cumulative volume (storage 0).
        public var currentVolume: CJT188Quantity
        /// The second volume of the reply (storage 1): the settlement-day cumulative volume by the standard-based
        /// sources, "this month's usage" by one vendor. Label it `settlement_or_period_value` until the meter model
        /// is profiled.
        public var settlementVolume: CJT188Quantity
        /// The meter's real-time clock.
        public var clock: CJT188Clock
        /// The status word ST.
        public var status: CJT188Status

        /// Creates a water/gas 901F reply body.
        public init(
            currentVolume: CJT188Quantity,
            settlementVolume: CJT188Quantity,
            clock: CJT188Clock,
            status: CJT188Status
        ) {
            self.currentVolume = currentVolume
            self.settlementVolume = settlementVolume
            self.clock = clock
            self.status = status
        }
    }

    /// The reply to read data (DI 901F) of a heat meter, in the 46-byte layout.
    public struct HeatData: Sendable, Hashable {
        /// The settlement-day heat (storage 1), an energy unit.
        public var settlementHeat: CJT188Quantity
        /// The current heat (storage 0), an energy unit.
        public var currentHeat: CJT188Quantity
        /// The heat power, a power unit.
        public var power: CJT188Quantity
        /// The flow, a flow unit, 4 decimals.
        public var flow: CJT188Quantity
        /// The cumulative volume (storage 0), a volume unit.
        public var cumulativeVolume: CJT188Quantity
        /// The supply (flow) temperature in 0.01 °C (6 BCD digits).
        public var supplyTemperatureCentiCelsius: UInt32
        /// The return temperature in 0.01 °C (6 BCD digits).
        public var returnTemperatureCentiCelsius: UInt32
        /// The cumulative operating time in hours (6 BCD digits).
        public var operatingHours: UInt32
        /// The meter's real-time clock.
        public var clock: CJT188Clock
        /// The status word ST.
        public var status: CJT188Status

        /// Creates a heat 901F reply body.
        public init(
            settlementHeat: CJT188Quantity,
            currentHeat: CJT188Quantity,
            power: CJT188Quantity,
            flow: CJT188Quantity,
            cumulativeVolume: CJT188Quantity,
            supplyTemperatureCentiCelsius: UInt32,
            returnTemperatureCentiCelsius: UInt32,
            operatingHours: UInt32,
            clock: CJT188Clock,
            status: CJT188Status
        ) {
            self.settlementHeat = settlementHeat
            self.currentHeat = currentHeat
            self.power = power
            self.flow = flow
            self.cumulativeVolume = cumulativeVolume
            self.supplyTemperatureCentiCelsius = supplyTemperatureCentiCelsius
            self.returnTemperatureCentiCelsius = returnTemperatureCentiCelsius
            self.operatingHours = operatingHours
            self.clock = clock
            self.status = status
        }
    }

    /// The reply to DI D120…D12B: the settlement-day volume of a past month.
    public struct SettlementHistory: Sendable, Hashable {
        /// How many settlement days ago: 1 for D120 (the last one) … 12 for D12B. Also the storage number.
        public var monthsAgo: Int
        /// The cumulative volume on that settlement day.
        public var volume: CJT188Quantity

        /// Creates a settlement-history body.
        public init(monthsAgo: Int, volume: CJT188Quantity) {
            self.monthsAgo = monthsAgo
            self.volume = volume
        }
    }

    /// The reply to a valve control request (DI A017): the status bytes after SER.
    public struct ValveStatus: Sendable, Hashable {
        /// The status: ST1, and ST2 when the meter sent two bytes (else 0).
        public var status: CJT188Status
        /// How many status bytes the meter sent (1 or 2).
        public var byteCount: Int

        /// Creates a valve reply body.
        public init(status: CJT188Status, byteCount: Int) {
            self.status = status
            self.byteCount = byteCount
        }
    }

    /// One volume reading of the frame, for mapping to storage rows.
    public struct VolumeReading: Sendable, Hashable {
        /// 0 = current value; 1 = the last settlement day (901F second value, D120); n = n settlement days ago.
        public var storage: Int
        /// The volume as sent, with its unit.
        public var quantity: CJT188Quantity

        /// The volume in millilitres (10⁻⁶ m³), exact.
        public var millilitres: Int64 { quantity.millilitres ?? 0 }
    }

    /// The current cumulative volume (storage 0) of a 901F reply (water/gas current volume, heat cumulative volume).
    public var currentVolume: VolumeReading? {
        switch body {
        case .meterData(let data): VolumeReading(storage: 0, quantity: data.currentVolume)
        case .heatData(let data): VolumeReading(storage: 0, quantity: data.cumulativeVolume)
        default: nil
        }
    }

    /// The settlement-day volume of a 901F reply (storage 1) or of a D120…D12B reply (storage 1…12).
    public var settlementVolume: VolumeReading? {
        switch body {
        case .meterData(let data): VolumeReading(storage: 1, quantity: data.settlementVolume)
        case .settlementHistory(let history): VolumeReading(storage: history.monthsAgo, quantity: history.volume)
        default: nil
        }
    }

    /// The meter's clock, when the frame carries one and it is valid.
    public var meterTime: CivilTime? {
        switch body {
        case .meterData(let data): data.clock.time
        case .heatData(let data): data.clock.time
        case .clock(let clock): clock.time
        default: nil
        }
    }

    /// The status word, when the frame carries one (901F replies, valve replies).
    public var status: CJT188Status? {
        switch body {
        case .meterData(let data): data.status
        case .heatData(let data): data.status
        case .valveStatus(let reply): reply.status
        default: nil
        }
    }

    /// The valve state by the default status profile, when the frame carries a status word.
    public var valve: ValveState? { status?.valve }
}
