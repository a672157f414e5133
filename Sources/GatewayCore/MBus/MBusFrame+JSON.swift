extension MBusFrame {
    /// The frame as one JSON object, for `meter-gateway decode --protocol wmbus|mbus` (allocates; not the hot path).
    ///
    /// The names shared by every protocol come first (`protocol`, `direction`, `meter`, `access_number`,
    /// `readings`, `meter_time`, `status`, `alarms`, `security`), then the layers (`link`, `ell`, `afl`, `tpl`) and
    /// every record. `meter` is the meter's own identity (TPL long header when present); `link` shows the DLL or
    /// radio-module address. Values are exact decimals from scaled integers; meter times are the meter's zone-less
    /// clock as `YYYY-MM-DDThh:mm:ss`, or `null`.
    ///
    /// - Returns: One JSON object.
    public func renderJSON() -> String {
        var json = JSONWriter()
        json.beginObject()
        json.field("protocol", string: medium.rawValue)
        json.field("direction", string: direction.rawValue)
        json.field("frame_kind", string: kind.rawValue)
        json.key("meter")
        Self.writeAddress(meter, to: &json)
        if let access = accessNumber {
            json.field("access_number", integer: access)
        } else {
            json.fieldNull("access_number")
        }
        json.key("readings")
        json.beginArray()
        for record in recordArray where record.isPlainMeasurement {
            writeReading(record, to: &json)
        }
        json.endArray()
        json.key("meter_time")
        if let meterTime {
            json.string(meterTime.iso8601())
        } else {
            json.null()
        }
        json.key("status")
        if let status {
            json.beginObject()
            json.field("raw", integer: status.rawValue)
            json.field("application", string: status.application.rawValue)
            json.key("bits")
            json.beginArray()
            for name in status.names {
                json.string(name)
            }
            json.endArray()
            json.endObject()
        } else {
            json.null()
        }
        json.key("alarms")
        json.beginArray()
        for name in alarmNames {
            json.beginObject()
            json.field("condition", string: name)
            switch name {
            case "error_flags":
                json.field("source", string: "fd17_error_flags")
                json.field("raw", string: "0x" + String(errorFlags ?? 0, radix: 16, uppercase: true))
            case "alarm_telegram", "application_error_telegram":
                json.field("source", string: "ci")
                json.field("ci", string: "0x" + Hex.encode([transport.ci]))
            default:
                json.field("source", string: "tpl_status")
            }
            json.endObject()
        }
        json.endArray()
        writeSecurity(to: &json)
        writeLink(to: &json)
        writeExtendedLink(to: &json)
        writeAuthentication(to: &json)
        writeTransport(to: &json)
        json.key("records")
        json.beginArray()
        for record in recordArray {
            writeRecord(record, to: &json)
        }
        json.endArray()
        json.field("records_dropped", integer: droppedRecordCount)
        json.key("manufacturer_data")
        if let range = manufacturerDataRange {
            json.string(Hex.encode(bytes(in: range)))
        } else {
            json.null()
        }
        json.field("more_records_follow", bool: hasMoreRecordsInNextTelegram)
        if let range = payloadRange {
            json.field("payload_hex", string: Hex.encode(bytes(in: range)))
        }
        json.endObject()
        return json.text
    }

    // MARK: Layers

    static func writeAddress(_ address: MBusAddress, to json: inout JSONWriter) {
        json.beginObject()
        json.field("id", string: address.label)
        json.field("manufacturer", string: address.manufacturer)
        json.field("manufacturer_code", integer: address.manufacturerCode)
        json.field("version", integer: address.version)
        json.field("type", string: address.deviceTypeName)
        json.field("type_code", integer: address.deviceType)
        json.field("address", string: address.registryAddress)
        json.endObject()
    }

    private func writeSecurity(to json: inout JSONWriter) {
        json.key("security")
        json.beginObject()
        json.field("mode", integer: security.mode)
        json.field("state", string: security.isAlreadyDecrypted ? "already_decrypted" : stateName)
        json.field("tpl", string: security.tpl.rawValue)
        json.field("ell", string: security.ell.rawValue)
        json.field("encrypted_bytes", integer: security.encryptedByteCount)
        json.field(
            "mac",
            string: authentication?.mac == nil ? "none" : security.isMACVerified ? "verified" : "not_verified"
        )
        json.endObject()
    }

    private var stateName: String {
        security.tpl == .decrypted || security.ell == .decrypted ? "decrypted" : "none"
    }

    private func writeLink(to json: inout JSONWriter) {
        json.key("link")
        json.beginObject()
        json.field("format", string: link.format.rawValue)
        json.field("l", integer: link.length)
        json.field("c", integer: link.control)
        if let name = link.controlName {
            json.field("c_name", string: name)
        } else {
            json.fieldNull("c_name")
        }
        if let address = link.address {
            json.key("address")
            Self.writeAddress(address, to: &json)
        }
        if let primary = link.primaryAddress {
            json.field("primary_address", integer: primary)
        }
        json.endObject()
    }

    private func writeExtendedLink(to json: inout JSONWriter) {
        json.key("ell")
        guard let ell = extendedLink else {
            json.null()
            return
        }
        json.beginObject()
        json.field("ci", string: "0x" + Hex.encode([ell.ci]))
        json.field("cc", integer: ell.communicationControl)
        json.field("access_number", integer: ell.accessNumber)
        if let address = ell.address {
            json.key("address")
            Self.writeAddress(address, to: &json)
        }
        if let session = ell.sessionNumber {
            json.field("session_number", integer: session)
            json.field("encryption", integer: ell.encryption)
        }
        json.endObject()
    }

    private func writeAuthentication(to json: inout JSONWriter) {
        json.key("afl")
        guard let afl = authentication else {
            json.null()
            return
        }
        json.beginObject()
        json.field("fcl", integer: afl.fragmentControl)
        if let mcl = afl.messageControl { json.field("mcl", integer: mcl) }
        if let type = afl.authenticationType { json.field("auth_type", integer: type) }
        if let ki = afl.keyInformation { json.field("ki", integer: ki) }
        if let mcr = afl.messageCounter { json.field("mcr", integer: mcr) }
        if let mac = afl.mac {
            json.field("mac", string: Hex.encode((0..<8).map { UInt8(truncatingIfNeeded: mac >> (56 - 8 * $0)) }))
        }
        if let ml = afl.messageLength { json.field("ml", integer: ml) }
        json.endObject()
    }

    private func writeTransport(to json: inout JSONWriter) {
        json.key("tpl")
        json.beginObject()
        json.field("ci", string: "0x" + Hex.encode([transport.ci]))
        json.key("address")
        if let address = transport.address {
            Self.writeAddress(address, to: &json)
        } else {
            json.null()
        }
        if let configuration = transport.configuration {
            json.key("config")
            json.beginObject()
            json.field("raw", integer: configuration)
            json.field("mode", integer: transport.securityMode)
            json.field("encrypted_blocks", integer: transport.encryptedBlockCount)
            json.field("bidirectional", bool: transport.isBidirectional)
            json.field("accessibility", bool: transport.isAccessible)
            json.field("synchronous", bool: transport.isSynchronous)
            json.field("content", integer: transport.contentType)
            if let extensionByte = transport.configurationExtension {
                json.field("extension", integer: extensionByte)
            }
            if let kdf = transport.keyDerivation { json.field("kdf", integer: kdf) }
            if let keyID = transport.keyID { json.field("key_id", integer: keyID) }
            json.endObject()
        } else {
            json.fieldNull("config")
        }
        json.endObject()
    }

    // MARK: Records

    private func writeReading(_ record: MBusRecord, to json: inout JSONWriter) {
        json.beginObject()
        json.field("quantity", string: record.quantity.rawValue)
        json.key("value")
        writeNumber(record, to: &json)
        json.field("unit", string: unitText(record))
        json.field("storage", integer: record.storage)
        json.field("tariff", integer: record.tariff)
        json.field("subunit", integer: record.subunit)
        json.field("function", string: record.function.rawValue)
        json.field("basis", string: record.basis.rawValue)
        if record.accumulation != .standard {
            json.field("accumulation", string: record.accumulation.rawValue)
        }
        json.field("protected", bool: record.isProtected)
        json.endObject()
    }

    private func writeRecord(_ record: MBusRecord, to json: inout JSONWriter) {
        json.beginObject()
        json.field("dif_vif", string: Hex.encode(bytes(in: record.headerRange)))
        json.field("quantity", string: record.quantity.rawValue)
        json.field("vif_table", string: record.vifTable.rawValue)
        json.field("vif_code", integer: record.vifCode)
        json.field("unit", string: unitText(record))
        json.field("exponent", integer: record.exponent)
        json.field("storage", integer: record.storage)
        json.field("tariff", integer: record.tariff)
        json.field("subunit", integer: record.subunit)
        json.field("function", string: record.function.rawValue)
        json.field("basis", string: record.basis.rawValue)
        json.field("accumulation", string: record.accumulation.rawValue)
        if let modifier = record.modifier {
            json.field("modifier", string: "0x" + Hex.encode([modifier]))
        } else {
            json.fieldNull("modifier")
        }
        json.field("protected", bool: record.isProtected)
        json.field("data_hex", string: Hex.encode(bytes(in: record.dataRange)))
        json.field("kind", string: record.value.kindName)
        json.key("value")
        switch record.value {
        case .integer, .real:
            writeNumber(record, to: &json)
        case .date(let date):
            if let date {
                json.string(record.quantity == .date ? String(date.iso8601().prefix(10)) : date.iso8601())
            } else {
                json.null()
            }
        case .bits(let bits):
            json.integer(bits)
        case .text:
            json.string(text(of: record) ?? "")
        case .none, .bytes, .invalid:
            json.null()
        }
        json.endObject()
    }

    private func unitText(_ record: MBusRecord) -> String {
        record.unit == .text ? plainTextUnit(of: record) ?? "" : record.unit.rawValue
    }

    private func writeNumber(_ record: MBusRecord, to json: inout JSONWriter) {
        if let text = Self.decimalText(record.value, exponent: Int(record.exponent)) {
            json.literal(text)
        } else {
            json.null()
        }
    }

    /// The exact decimal text of `value × 10^exponent` for integer and real values, else `nil`.
    ///
    /// Integers are exact; reals use the shortest decimal that round-trips the 32-bit value, then shift the
    /// decimal point.
    public static func decimalText(_ value: MBusValue, exponent: Int) -> String? {
        switch value {
        case .integer(let integer):
            return shifted(
                digits: String(integer.magnitude),
                pointPosition: String(integer.magnitude).count + exponent,
                isNegative: integer < 0
            )
        case .real(let real):
            guard real.isFinite else { return nil }
            // Float.description: "1.5", "-0.25", "1e-05", "3.4028235e+38".
            var text = real.magnitude.description
            var decimalExponent = 0
            if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
                decimalExponent = Int(text[text.index(after: e)...]) ?? 0
                text = String(text[..<e])
            }
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            let integerPart = String(parts[0])
            let fraction = parts.count > 1 ? String(parts[1]) : ""
            return shifted(
                digits: integerPart + fraction,
                pointPosition: integerPart.count + decimalExponent + exponent,
                isNegative: real < 0
            )
        default:
            return nil
        }
    }

    /// Places a decimal point `pointPosition` digits from the left of `digits` (padding with zeros when it falls
    /// outside) and drops leading integer zeros; the fraction keeps every digit (the record's resolution).
    static func shifted(digits: String, pointPosition: Int, isNegative: Bool) -> String {
        var integerPart: String
        var fraction: String
        if pointPosition <= 0 {
            integerPart = "0"
            fraction = String(repeating: "0", count: -pointPosition) + digits
        } else if pointPosition >= digits.count {
            integerPart = digits + String(repeating: "0", count: pointPosition - digits.count)
            fraction = ""
        } else {
            integerPart = String(digits.prefix(pointPosition))
            fraction = String(digits.suffix(digits.count - pointPosition))
        }
        while integerPart.count > 1 && integerPart.first == "0" {
            integerPart.removeFirst()
        }
        let isZero = integerPart == "0" && fraction.allSatisfy { $0 == "0" }
        let sign = isNegative && !isZero ? "-" : ""
        return fraction.isEmpty ? sign + integerPart : sign + integerPart + "." + fraction
    }
}

extension MBusHeader {
    /// The header as one JSON object (allocates), e.g. for a quarantine detail: `protocol`, `meter`, `link`,
    /// `ell_ci`, `tpl_ci`, `access_number`, `status`, `security_mode`.
    public func renderJSON() -> String {
        var json = JSONWriter()
        json.beginObject()
        json.field("protocol", string: medium.rawValue)
        json.key("meter")
        if let meter {
            MBusFrame.writeAddress(meter, to: &json)
        } else {
            json.null()
        }
        json.field("c", integer: link.control)
        if let address = link.address {
            json.field("link_address", string: address.registryAddress)
        }
        if let primary = link.primaryAddress {
            json.field("primary_address", integer: primary)
        }
        if let ell = extendedLink {
            json.field("ell_ci", integer: ell.ci)
            json.field("ell_encryption", integer: ell.encryption)
        }
        if let transport {
            json.field("tpl_ci", integer: transport.ci)
            if let access = transport.accessNumber { json.field("access_number", integer: access) }
            if let status = transport.status { json.field("status", integer: status.rawValue) }
            json.field("security_mode", integer: transport.securityMode)
        }
        json.endObject()
        return json.text
    }
}
