// The readings of a CJT188FrameDocument and the members each body adds beside the shared names.

extension CJT188FrameDocument {
    /// One entry of `readings`; `unit_code` and `millilitres` only for values with a CJ/T 188 unit code, `label`
    /// only where the standard names the value.
    struct Quantity: Encodable, Sendable, Equatable {
        var quantity: String
        var value: ExactDecimal
        var unit: String
        var storage: Int
        var tariff = 0
        var basis = "unspecified"
        var unitCode: UInt8?
        var millilitres: Int64?
        var label: String?

        init(_ quantity: String, _ value: CJT188Quantity, storage: Int = 0, label: String? = nil) {
            self.quantity = quantity
            self.value = ExactDecimal(significand: value.displayRaw, exponent: -value.displayScale)
            unit = value.unit.displaySymbol
            self.storage = storage
            unitCode = value.unit.rawValue
            millilitres = value.millilitres
            self.label = label
        }

        /// A value without a unit code: `raw` × 10^−`scale` `unit`.
        init(_ quantity: String, raw: UInt32, scale: Int, unit: String) {
            self.quantity = quantity
            value = ExactDecimal(significand: UInt64(raw), exponent: -scale)
            self.unit = unit
            storage = 0
        }

        static func readings(of body: CJT188Frame.Body) -> [Quantity] {
            switch body {
            case .meterData(let data):
                return [
                    Quantity("volume", data.currentVolume),
                    Quantity("volume", data.settlementVolume, storage: 1, label: "settlement_or_period_value"),
                ]
            case .heatData(let data):
                return [
                    Quantity("energy", data.currentHeat),
                    Quantity("energy", data.settlementHeat, storage: 1, label: "settlement_day_heat"),
                    Quantity("power", data.power),
                    Quantity("flow", data.flow),
                    Quantity("volume", data.cumulativeVolume),
                    Quantity("supply_temperature", raw: data.supplyTemperatureCentiCelsius, scale: 2, unit: "degC"),
                    Quantity("return_temperature", raw: data.returnTemperatureCentiCelsius, scale: 2, unit: "degC"),
                    Quantity("operating_time", raw: data.operatingHours, scale: 0, unit: "h"),
                ]
            case .settlementHistory(let history):
                return [
                    Quantity("volume", history.volume, storage: history.monthsAgo, label: "settlement_day_volume")
                ]
            default:
                return []
            }
        }

        enum CodingKeys: String, CodingKey {
            case quantity, value, unit, storage, tariff, basis, millilitres, label
            case unitCode = "unit_code"
        }
    }

    /// The body's own members; each body sets the ones it has and the rest are left out.
    struct Fields: Encodable, Sendable, Equatable {
        struct ValveCommand: Encodable, Sendable, Equatable {
            var action: String
            var code: UInt8
        }

        struct NewAddress: Encodable, Sendable, Equatable {
            var id: String
            var idIsBCD: Bool

            enum CodingKeys: String, CodingKey {
                case id
                case idIsBCD = "id_is_bcd"
            }
        }

        struct Abnormal: Encodable, Sendable, Equatable {
            var status: Int
            var statusHex: String

            enum CodingKeys: String, CodingKey {
                case status
                case statusHex = "status_hex"
            }
        }

        var clock: String?
        var monthsAgo: Int?
        var valveCommand: ValveCommand?
        var statusBytes: Int?
        /// `null` when an address reply carries the address in the header only.
        var reportedAddress: ExplicitNull<String>?
        var newAddress: NewAddress?
        var abnormal: Abnormal?
        var payloadHex: String?

        init(_ body: CJT188Frame.Body) {
            switch body {
            case .request:
                break
            case .meterData(let data):
                clock = data.clock.state.name
            case .heatData(let data):
                clock = data.clock.state.name
            case .clock(let clock):
                self.clock = clock.state.name
            case .settlementHistory(let history):
                monthsAgo = history.monthsAgo
            case .valveCommand(let command):
                valveCommand = ValveCommand(action: command.name, code: command.rawValue)
            case .valveStatus(let reply):
                statusBytes = reply.byteCount
            case .addressReply(let reported):
                reportedAddress = ExplicitNull(wrappedValue: reported?.label)
            case .newAddress(let address):
                newAddress = NewAddress(id: address.label, idIsBCD: address.isBCD)
            case .abnormal(let payload):
                abnormal = Abnormal(
                    status: payload.count > 0 ? Int(payload.bytes[0]) : 0,
                    statusHex: Hex.encode(payload.array)
                )
            case .raw(let payload):
                payloadHex = Hex.encode(payload.array)
            }
        }

        enum CodingKeys: String, CodingKey {
            case clock, abnormal
            case monthsAgo = "months_ago"
            case valveCommand = "valve_command"
            case statusBytes = "status_bytes"
            case reportedAddress = "reported_address"
            case newAddress = "new_address"
            case payloadHex = "payload_hex"
        }
    }
}
