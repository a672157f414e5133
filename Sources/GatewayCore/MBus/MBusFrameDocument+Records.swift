// The readings and the records of an MBusFrameDocument.

extension MBusFrameDocument {
    /// One entry of `readings`: a plain measurement record; `accumulation` only when it is not `standard`.
    struct Reading: Encodable, Sendable, Equatable {
        var quantity: String
        @ExplicitNull var value: ExactDecimal?
        var unit: String
        var storage: UInt64
        var tariff: UInt32
        var subunit: UInt16
        var function: String
        var basis: String
        var accumulation: String?
        var isProtected: Bool

        init(_ record: MBusRecord, in frame: MBusFrame) {
            quantity = record.quantity.rawValue
            value = record.value.exactDecimal(exponent: Int(record.exponent))
            unit = Record.unitText(record, in: frame)
            storage = record.storage
            tariff = record.tariff
            subunit = record.subunit
            function = record.function.rawValue
            basis = record.basis.rawValue
            accumulation = record.accumulation == .standard ? nil : record.accumulation.rawValue
            isProtected = record.isProtected
        }

        enum CodingKeys: String, CodingKey {
            case quantity, value, unit, storage, tariff, subunit, function, basis, accumulation
            case isProtected = "protected"
        }
    }

    /// One data record as decoded, whatever its kind.
    struct Record: Encodable, Sendable, Equatable {
        var difVif: String
        var quantity: String
        var vifTable: String
        var vifCode: UInt8
        var unit: String
        var exponent: Int8
        var storage: UInt64
        var tariff: UInt32
        var subunit: UInt16
        var function: String
        var basis: String
        var accumulation: String
        @ExplicitNull var modifier: String?
        var isProtected: Bool
        var dataHex: String
        var kind: String
        var value: Value

        init(_ record: MBusRecord, in frame: MBusFrame) {
            difVif = Hex.encode(frame.bytes(in: record.headerRange))
            quantity = record.quantity.rawValue
            vifTable = record.vifTable.rawValue
            vifCode = record.vifCode
            unit = Self.unitText(record, in: frame)
            exponent = record.exponent
            storage = record.storage
            tariff = record.tariff
            subunit = record.subunit
            function = record.function.rawValue
            basis = record.basis.rawValue
            accumulation = record.accumulation.rawValue
            modifier = record.modifier.map(byteHex)
            isProtected = record.isProtected
            dataHex = Hex.encode(frame.bytes(in: record.dataRange))
            kind = record.value.kindName
            value = Value(record, in: frame)
        }

        /// The unit's name, or for a plain-text VIF the unit text the record carries.
        static func unitText(_ record: MBusRecord, in frame: MBusFrame) -> String {
            record.unit == .text ? frame.plainTextUnit(of: record) ?? "" : record.unit.rawValue
        }

        enum CodingKeys: String, CodingKey {
            case quantity, unit, exponent, storage, tariff, subunit, function, basis, accumulation, modifier
            case kind, value
            case difVif = "dif_vif"
            case vifTable = "vif_table"
            case vifCode = "vif_code"
            case isProtected = "protected"
            case dataHex = "data_hex"
        }
    }

    /// A record's value: an exact number, a date (`YYYY-MM-DD`) or time point, a bit field, text, or `null`.
    enum Value: Encodable, Sendable, Equatable {
        case number(ExactDecimal)
        case text(String)
        case bits(UInt64)
        case null

        init(_ record: MBusRecord, in frame: MBusFrame) {
            switch record.value {
            case .integer, .real:
                self = record.value.exactDecimal(exponent: Int(record.exponent)).map(Value.number) ?? .null
            case .date(let date):
                guard let date else {
                    self = .null
                    return
                }
                self = .text(record.quantity == .date ? String(date.iso8601().prefix(10)) : date.iso8601())
            case .bits(let bits):
                self = .bits(bits)
            case .text:
                self = .text(frame.text(of: record) ?? "")
            case .none, .bytes, .invalid:
                self = .null
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .number(let number): try container.encode(number)
            case .text(let text): try container.encode(text)
            case .bits(let bits): try container.encode(bits)
            case .null: try container.encodeNil()
            }
        }
    }
}
