/// Decodes one frame of any protocol and writes the decode tool's JSON object for it through one reused
/// ``JSONWriter``: the frame's document (``NativeFrameDocument``, ``CJT188FrameDocument``, ``MBusFrameDocument``) or
/// a ``DecodeErrorDocument``. `meter-gateway decode` prints what it writes, one frame or a batch.
///
/// The decode tool's choices: without a key the native MAC is not verified; M-Bus frames may be "already
/// decrypted" test data (the decoder takes that path only without a key); every driver runs, inferred ones too;
/// compact M-Bus frames use the first of ``layouts`` whose format signature they name.
///
/// Allocates (the documents hold strings and arrays); not the gateway's hot path.
public struct FrameJSONRenderer {
    /// What the last ``render(_:protocol:key:line:)`` wrote; reused from frame to frame.
    public private(set) var writer = JSONWriter()
    /// The DIF/VIF chains compact M-Bus frames may name.
    public var layouts: [MBusRecordLayout]

    /// Creates a renderer.
    /// - Parameter layouts: The DIF/VIF chains compact M-Bus frames may name (`--layout`).
    public init(layouts: [MBusRecordLayout] = []) {
        self.layouts = layouts
    }

    /// Decodes a frame and writes its JSON object, or its error object, into ``writer`` (replacing what it held).
    ///
    /// - Parameters:
    ///   - frame: The frame's bytes.
    ///   - protocol: The frame's protocol.
    ///   - key: The meter's key (native MAC, OMS decryption), or `nil`.
    ///   - line: The input line an error object names (batch mode), or `nil`.
    /// - Returns: Whether the frame decoded (`false`: ``writer`` holds an error object).
    @discardableResult
    public mutating func render(
        _ frame: UnsafeRawBufferPointer,
        protocol: FrameProtocol,
        key: AES128Key?,
        line: Int? = nil
    ) -> Bool {
        writer.removeAll()
        let failure: FrameDecodingError
        switch `protocol` {
        case .native:
            do throws(FrameDecodingError) {
                let decoded =
                    if let key {
                        try NativeDecoder.decode(frame) { _ in key }
                    } else {
                        try NativeDecoder.decodeWithoutVerifyingMAC(frame)
                    }
                return finish(NativeFrameDocument(decoded), line: line)
            } catch {
                failure = error
            }
        case .cjt188:
            do throws(FrameDecodingError) {
                return finish(CJT188FrameDocument(try CJT188Decoder.decode(frame)), line: line)
            } catch {
                failure = error
            }
        case .wmbus, .mbus:
            let layouts = self.layouts
            do throws(FrameDecodingError) {
                let decoded =
                    if `protocol` == .wmbus {
                        try MBusDecoder.decodeWireless(
                            frame,
                            key: { _ in key },
                            allowAlreadyDecrypted: true,
                            layout: { _, signature in layouts.first { $0.signature == signature } },
                            drivers: .all
                        )
                    } else {
                        try MBusDecoder.decodeWired(
                            frame,
                            key: { _ in key },
                            allowAlreadyDecrypted: true,
                            layout: { _, signature in layouts.first { $0.signature == signature } },
                            drivers: .all
                        )
                    }
                return finish(MBusFrameDocument(decoded), line: line)
            } catch {
                failure = error
            }
        }
        var document = DecodeErrorDocument(failure)
        document.line = line
        writeError(document)
        return false
    }

    /// Writes an error object into ``writer`` (replacing what it held): input the tool could not read.
    /// - Parameter document: The error object.
    public mutating func writeError(_ document: DecodeErrorDocument) {
        writer.removeAll()
        document.write(to: &writer)
    }

    /// Writes a decoded frame's document; a value the JSON encoder refuses becomes the `not_encodable` error.
    private mutating func finish(_ document: some JSONWritable, line: Int?) -> Bool {
        document.write(to: &writer)
        guard writer.hasUnencodableValue else { return true }
        // Not reached for decoded frames: their numbers lie within Foundation Decimal's range.
        var failure = DecodeErrorDocument(code: "not_encodable", message: "the decoded frame has no JSON form")
        failure.line = line
        writeError(failure)
        return false
    }
}
