// The fuzz harness for the gateway's frame decoders (build and run: firmware-protocols/README.md).
//
// Input format: one selector byte, then the frame.
// - Selector bits 0–6 choose the decoder: 0x01 CJ/T 188 (FuzzCJT188.swift), 0x02 wireless and 0x03 wired M-Bus
//   (FuzzMBus.swift); 0x7F parses the rest as hex text first; every other value drives the native decoder, so the
//   mapping of existing corpus files stays stable when decoders are added.
// - Selector bit 7 asks the harness to recompute the frame's integrity fields (native: CRC and MAC with the
//   test key) before decoding, so mutations get past the CRC and MAC and reach the type, length and range checks.
//
// Besides "never crash", the harness checks invariants with `precondition` (a failure is reported as a crash):
// a frame that decodes with its MAC verified re-encodes to exactly the same bytes, and decoding without the key
// fails with the same code as decoding with it, unless the key check (unknown_meter, bad_mac) stops the keyed decode
// first, in which case the unkeyed decode succeeds or fails at a later content check.

import GatewayCore

/// The fixed test key; the golden vectors of meter 1000001 use it, so their MACs verify here.
private let testKey = AES128Key(hex: "2B7E151628AED2A6ABF7158809CF4F3C")

/// The decoders the harness can drive.
private enum FuzzTarget {
    case native
    case cjt188
    case wirelessMBus
    case wiredMBus
    case hexThenNative

    init(selector: UInt8) {
        switch selector & 0x7F {
        case 0x01: self = .cjt188
        case 0x02: self = .wirelessMBus
        case 0x03: self = .wiredMBus
        case 0x7F: self = .hexThenNative
        default: self = .native
        }
    }
}

/// Runs one fuzz input through the decoder its selector byte chooses. Called by the libFuzzer entry point in
/// `Sources/FrameFuzzer`; kept in a library so the harness can span several files.
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1, let key = testKey else { return 0 }
    let selector = data[0]
    let input = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let reseal = selector & 0x80 != 0
    _ = FrameSniffer.guess(input)
    switch FuzzTarget(selector: selector) {
    case .native:
        fuzzNative(input, key: key, reseal: reseal)
    case .cjt188:
        fuzzCJT188(input, reseal: reseal)
    case .wirelessMBus:
        fuzzMBus(input, isWired: false, reseal: reseal)
    case .wiredMBus:
        fuzzMBus(input, isWired: true, reseal: reseal)
    case .hexThenNative:
        let text = String(decoding: input, as: UTF8.self)
        if let bytes = Hex.decode(text) {
            bytes.withUnsafeBytes { fuzzNative($0, key: key, reseal: reseal) }
        }
    }
    return 0
}

/// Runs every native decode path over one input.
private func fuzzNative(_ input: UnsafeRawBufferPointer, key: AES128Key, reseal: Bool) {
    guard reseal else {
        checkNative(input, key: key)
        return
    }
    var copy = Array(input)
    copy.withUnsafeMutableBytes { _ = NativeEncoder.seal($0, key: key) }
    copy.withUnsafeBytes { checkNative($0, key: key) }
}

private func checkNative(_ bytes: UnsafeRawBufferPointer, key: AES128Key) {
    _ = NativeDecoder.peekHeader(bytes)

    var unverifiedError: FrameDecodingError.Code? = nil
    do throws(FrameDecodingError) {
        let frame = try NativeDecoder.decodeWithoutVerifyingMAC(bytes)
        precondition(frame.macStatus == .notVerified, "unverified decode claims a verified MAC")
        exercise(frame)
        // The encoder reproduces every byte before the MAC.
        if let again = try? NativeEncoder.encode(frame, key: key) {
            let covered = NativeDecoder.headerSize + frame.header.payloadLength
            precondition(again.count == bytes.count, "re-encoded frame has another length")
            precondition(again.prefix(covered).elementsEqual(bytes.prefix(covered)), "re-encoding changed content")
        } else {
            preconditionFailure("a decoded frame does not re-encode")
        }
    } catch {
        unverifiedError = error.code
    }

    do throws(FrameDecodingError) {
        let frame = try NativeDecoder.decode(bytes) { _ in key }
        precondition(frame.macStatus == .verified, "verified decode without a verified MAC")
        precondition(unverifiedError == nil, "decodes with the key but not without it")
        exercise(frame)
        if let again = try? NativeEncoder.encode(frame, key: key) {
            precondition(again.elementsEqual(bytes), "a verified frame does not re-encode to the same bytes")
        } else {
            preconditionFailure("a verified frame does not re-encode")
        }
    } catch {
        if error.code == .badMAC || error.code == .unknownMeter {
            // Without the key, decoding goes on past the MAC and may stop at a later (content) check.
            let laterChecks: [FrameDecodingError.Code] = [.unknownType, .badLength, .fieldOutOfRange]
            precondition(
                unverifiedError.map { laterChecks.contains($0) } ?? true,
                "a check before the key lookup failed only with the key"
            )
        } else {
            precondition(unverifiedError == error.code, "decoding with and without the key disagree")
        }
        _ = DecodeErrorDocument(error)
    }
}

/// Builds records and the JSON document from a decoded frame.
private func exercise(_ frame: NativeFrame) {
    var batch = SinkBatch()
    frame.appendRecords(
        to: &batch,
        meterID: 1,
        receivedAt: Timestamp(secondsSinceEpoch: 1_800_000_000),
        policy: .serviceCommitments
    )
    precondition(batch.frames.count == (frame.isUplink ? 1 : 0), "an uplink must give exactly one frame record")
    _ = NativeFrameDocument(frame)
}
