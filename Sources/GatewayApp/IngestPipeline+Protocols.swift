import GatewayCore
import MQTTIngest
import PostgresSink

/// The CJ/T 188 and M-Bus branches of ``IngestPipeline``. Each frame ends as rows or as one quarantine row with a
/// reason code; nothing is dropped.
///
/// Checks, in order: the decoder (framing, checksum or CRC, security); the direction (the live pipeline stores only
/// meter → gateway frames); the registry (`unknown_meter`); the topic's address against the frame's (meter topics
/// only, `topic_mismatch`); for a meter registered with a key, that the frame was protected by it
/// (`unencrypted_frame`); then the frame must hold something storable (`no_reading`).
extension IngestPipeline {
    func processCJT188(
        _ record: SpoolRecord,
        topicAddress: UnsafeRawBufferPointer?,
        registry: MeterRegistry,
        into batch: inout SinkBatch
    ) -> Bool {
        let frame: CJT188Frame
        do {
            frame = try CJT188Decoder.decode(record.payload)
        } catch {
            quarantine(
                record,
                reason: error.code.description,
                detail: error.message,
                source: .cjt188,
                address: topicAddress.map { String(decoding: $0, as: UTF8.self) },
                into: &batch
            )
            return false
        }
        guard frame.isFromMeter else {
            quarantine(
                record,
                reason: "wrong_direction",
                detail: "CJ/T 188 frame to the meter (C bit D7 clear) on an uplink topic",
                source: .cjt188,
                address: frame.address.label,
                into: &batch
            )
            return false
        }
        guard let entry = registry.cjt188[frame.address.rawValue] else {
            quarantine(
                record,
                reason: "unknown_meter",
                detail: "no CJ/T 188 meter \(frame.address.label) is registered",
                source: .cjt188,
                address: frame.address.label,
                into: &batch
            )
            return false
        }
        if let topicAddress, CJT188Address(labelBytes: topicAddress) != frame.address {
            quarantine(
                record,
                reason: "topic_mismatch",
                detail: "frame address differs from the topic's (the topic names the 14 address digits)",
                source: .cjt188,
                address: frame.address.label,
                into: &batch
            )
            return false
        }
        let appended = frame.appendRecords(
            to: &batch,
            meterID: entry.meterID,
            receivedAt: record.receivedAt,
            clock: clocks.cjt188,
            policy: policy
        )
        guard appended > 0 else {
            quarantine(
                record,
                reason: "no_reading",
                detail: "CJ/T 188 \(frame.body.name) frame"
                    + (frame.control.isAbnormal ? " (abnormal reply)" : "") + " carries no reading to store",
                source: .cjt188,
                address: frame.address.label,
                into: &batch
            )
            return false
        }
        return true
    }

    func processMBus(
        _ record: SpoolRecord,
        as frameProtocol: FrameProtocol,
        topicAddress: UnsafeRawBufferPointer?,
        registry: MeterRegistry,
        into batch: inout SinkBatch
    ) -> Bool {
        let isWired = frameProtocol == .mbus
        let table = registry.mbusTable(frameProtocol)
        let frame: MBusFrame
        do {
            // Already-decrypted test data is never accepted here: a live frame is decrypted with the meter's key.
            if isWired {
                frame = try MBusDecoder.decodeWired(
                    record.payload,
                    key: { table[$0.registryKey]?.key },
                    allowAlreadyDecrypted: false
                )
            } else {
                frame = try MBusDecoder.decodeWireless(
                    record.payload,
                    key: { table[$0.registryKey]?.key },
                    allowAlreadyDecrypted: false
                )
            }
        } catch {
            let header = MBusDecoder.peekHeader(record.payload, isWired: isWired)
            var detail = error.message
            if error.code == .unsupportedSecurityMode, let header {
                detail += "; header: " + header.summary
            }
            quarantine(
                record,
                reason: error.code.description,
                detail: detail,
                source: frameProtocol,
                address: header?.meter?.registryAddress,
                into: &batch
            )
            return false
        }
        var address: String { frame.meter.registryAddress }  // built only when a frame is quarantined
        guard frame.direction == .fromMeter else {
            quarantine(
                record,
                reason: "wrong_direction",
                detail: "M-Bus frame with C field \(Hex.encode([frame.link.control])) is not from a meter",
                source: frameProtocol,
                address: address,
                into: &batch
            )
            return false
        }
        guard let entry = table[frame.meter.registryKey] else {
            quarantine(
                record,
                reason: "unknown_meter",
                detail: "no \(frameProtocol.rawValue) meter \(address) is registered",
                source: frameProtocol,
                address: address,
                into: &batch
            )
            return false
        }
        if let topicAddress, !frame.meter.isNamed(byTopicAddress: topicAddress) {
            quarantine(
                record,
                reason: "topic_mismatch",
                detail: "frame meter differs from the topic's (the topic names the 8-digit id or the registry address)",
                source: frameProtocol,
                address: address,
                into: &batch
            )
            return false
        }
        let isProtected =
            frame.security.tpl == .decrypted || frame.security.ell == .decrypted || frame.security.isMACVerified
        if entry.key != nil && !isProtected {
            quarantine(
                record,
                reason: "unencrypted_frame",
                detail: "the meter is registered with a key but the frame was not encrypted or authenticated with it",
                source: frameProtocol,
                address: address,
                into: &batch
            )
            return false
        }
        let appended = frame.appendRecords(
            to: &batch,
            meterID: entry.meterID,
            receivedAt: record.receivedAt,
            clock: clocks.mbus,
            policy: policy,
            source: frameProtocol,
            protectedOnly: entry.key != nil
        )
        guard appended > 0 else {
            quarantine(
                record,
                reason: "no_reading",
                detail: "M-Bus frame (CI \(Hex.encode([frame.transport.ci]))) has no volume record or alarm to store",
                source: frameProtocol,
                address: address,
                into: &batch
            )
            return false
        }
        return true
    }
}
