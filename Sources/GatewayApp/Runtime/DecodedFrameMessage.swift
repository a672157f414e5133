import GatewayCore

/// The JSON a stored frame is republished as on `<prefix>/decoded/<protocol>/<meter id>` (`mqtt.publish_decoded`),
/// for tools that read MQTT rather than SQL: Node-RED, Telegraf, Home Assistant.
///
/// Built from the rows the frame became in its committed batch (what the database holds, in its units), not from the
/// protocol's fields, so every protocol reads alike:
///
/// ```json
/// {"alarms":[{"cleared":false,"condition":"methane_detector","priority":"P0","raised_at":"2026-12-06T10:00:00Z",
///   "valve":"closed"}],
///  "frame_counter":42,"intervals":[{"minutes":30,"start":"2026-12-05T00:00:00Z","volume_ml":120000}],
///  "meter_id":17,"protocol":"native",
///  "readings":[{"basis":"unspecified","battery_mv":3600,"flow_ml_per_h":0,"kind":"periodic",
///   "read_at":"2026-12-06T10:00:00Z","signal_dbm":-71,"status_bits":0,"temperature_centi_c":1250,"valve":"open",
///   "volume_ml":12345678000}],
///  "received_at":"2026-12-06T10:00:01.250000Z"}
/// ```
///
/// Volumes in millilitres (10⁻⁶ m³) as integers, times in UTC (ISO 8601); members in key order; a member whose value
/// the frame did not carry is left out; `alarms`, `intervals` and `readings` are always present (maybe empty).
enum DecodedFrameMessage {
    /// The topic of a meter's decoded frames.
    static func topic(prefix: String, protocol frameProtocol: FrameProtocol, meterID: Int64) -> String {
        "\(prefix)/decoded/\(frameProtocol.rawValue)/\(meterID)"
    }

    /// Writes the JSON of the frame whose rows in `batch` start at `gate` and end where `next` starts (or at the
    /// batch's end).
    /// - Parameters:
    ///   - gate: The frame's gate.
    ///   - next: The next frame's gate, if any.
    ///   - batch: The committed batch.
    ///   - writer: Where the text goes (emptied first).
    static func write(gate: FrameGate, next: FrameGate?, in batch: SinkBatch, to writer: inout JSONWriter) {
        writer.removeAll()
        let readings = batch.readings[gate.firstReading..<(next?.firstReading ?? batch.readings.count)]
        let intervals = batch.intervals[gate.firstInterval..<(next?.firstInterval ?? batch.intervals.count)]
        let alarms = batch.alarms[gate.firstAlarm..<(next?.firstAlarm ?? batch.alarms.count)]
        writer.beginObject()
        writer.key("alarms")
        writer.beginArray()
        for alarm in alarms {
            writer.beginObject()
            writer.member("cleared", alarm.isCleared)
            writer.member("condition", alarm.condition.rawValue)
            writer.member("priority", alarm.priority.rawValue)
            writer.member("raised_at", alarm.raisedAt.description)
            writer.member("valve", alarm.valve.name)
            writer.endObject()
        }
        writer.endArray()
        writer.memberIfPresent("frame_counter", readings.first?.frameCounter ?? alarms.first?.frameCounter)
        writer.key("intervals")
        writer.beginArray()
        for interval in intervals {
            writer.beginObject()
            writer.member("minutes", interval.intervalMinutes)
            writer.member("start", interval.intervalStart.description)
            writer.member("volume_ml", interval.volumeMillilitres)
            writer.endObject()
        }
        writer.endArray()
        writer.member("meter_id", gate.meterID)
        writer.member("protocol", gate.source.rawValue)
        writer.key("readings")
        writer.beginArray()
        for reading in readings {
            writer.beginObject()
            writer.member("basis", reading.basis.name)
            writer.memberIfPresent("battery_mv", reading.batteryMillivolts)
            writer.memberIfPresent("flow_ml_per_h", reading.flowMillilitresPerHour)
            writer.member("kind", reading.kind.jsonName)
            writer.member("read_at", reading.readAt.description)
            writer.memberIfPresent("signal_dbm", reading.signalDBm)
            writer.member("status_bits", reading.statusBits)
            writer.memberIfPresent("temperature_centi_c", reading.temperatureCentiCelsius)
            writer.member("valve", reading.valve.name)
            writer.member("volume_ml", reading.volumeMillilitres)
            writer.endObject()
        }
        writer.endArray()
        writer.member("received_at", gate.receivedAt.description)
        writer.endObject()
    }
}

extension ReadingKind {
    /// The word the decoded-frame JSON uses.
    fileprivate var jsonName: String {
        switch self {
        case .periodic: "periodic"
        case .dailyFrozen: "daily_frozen"
        case .alarmSnapshot: "alarm_snapshot"
        case .historic: "historic"
        }
    }
}
