// Compact M-Bus frames on the ladder: the quarantine of a compact frame whose layout is not known yet, and the
// recording of the layouts admitted full frames carry (firmware-protocols/wmbus-oms.md "Compact frames").

extension AdmissionLadder {
    /// The decoder's layout lookup: the layout the book knows for the registry id of the frame's meter (none for an
    /// unregistered meter). Never allocates.
    static func layout(
        of meter: MBusAddress,
        _ signature: UInt16,
        in table: MeterTable<Void>,
        _ formats: FormatLayoutBook
    ) -> MBusRecordLayout? {
        table[meter.registryKey].flatMap { formats.layout(meterID: $0.meterID, signature: signature) }
    }

    /// The reason and detail for a compact frame whose format signature names no known layout: `unknown_format`
    /// for a registered meter (re-admitted by `quarantine replay` once a full frame with the layout is stored),
    /// `unknown_meter` when the meter is not registered at all.
    /// - Parameters:
    ///   - asked: The frame's meter and the format signature it carries.
    ///   - frameProtocol: `wmbus` or `mbus`.
    ///   - isRegistered: Whether the registry knows the meter.
    /// - Returns: The quarantine reason and its detail (allocates; the cold path).
    static func unknownFormat(
        _ asked: (meter: MBusAddress, signature: UInt16),
        _ frameProtocol: FrameProtocol,
        isRegistered: Bool
    ) -> (QuarantineReason, String) {
        let (meter, signature) = asked
        guard isRegistered else {
            return (.unknownMeter, "no \(frameProtocol.rawValue) meter \(meter.registryAddress) is registered")
        }
        let hex = MBusCompactFormat(signature: signature, fullFrameCRC: 0).signatureHex
        return (
            QuarantineReason(.unknownFormat),
            "compact frame of meter \(meter.registryAddress) names format signature \(hex), but no full frame with "
                + "that layout is known yet; `quarantine replay` re-admits it once one is stored"
        )
    }

    /// Appends an admitted full frame's layout to the batch when the book does not know it yet (or its last record
    /// is older than ``FormatLayoutBook/refreshSeconds``), once per batch. Allocates only then.
    /// - Parameters:
    ///   - frame: The admitted frame.
    ///   - meterID: Its meter's registry id.
    ///   - formats: The layouts the registry knows.
    ///   - receivedAt: The frame's receive time.
    ///   - batch: Receives the layout row.
    static func recordFormatLayout(
        of frame: MBusFrame,
        meterID: Int64,
        _ formats: FormatLayoutBook,
        at receivedAt: Timestamp,
        into batch: inout SinkBatch
    ) {
        guard let signature = frame.formatSignature,
            formats.needsRecording(frame, meterID: meterID, signature: signature, receivedAt: receivedAt)
        else { return }
        for (index, pending) in batch.formatLayouts.enumerated()
        where pending.meterID == meterID && pending.signature == signature {
            if pending.seenAt < receivedAt { batch.formatLayouts[index].seenAt = receivedAt }
            return
        }
        guard let layout = frame.recordLayout else { return }
        batch.formatLayouts.append(FormatLayoutRecord(meterID: meterID, layout: layout, seenAt: receivedAt))
    }
}
