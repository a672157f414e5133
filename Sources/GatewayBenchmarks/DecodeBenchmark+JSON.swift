public import GatewayCore

extension DecodeBenchmark {
    /// A frame of the decode cases with what `meter-gateway decode` needs to print it: its protocol and key.
    public struct Sample: Sendable {
        /// The decode case's name.
        public var name: String
        /// The frame's protocol.
        public var protocolName: FrameProtocol
        /// The meter's key, or `nil`.
        public var key: AES128Key?
        /// The frame.
        public var bytes: [UInt8]
    }

    /// The frames of ``cases()`` with their protocols and keys.
    /// - Returns: One sample per decode case, in the same order.
    public static func samples() -> [Sample] {
        let protocols: [String: (FrameProtocol, AES128Key?)] = [
            "native reading (CMAC, records)": (.native, benchmarkKey),
            "native daily report 48 points": (.native, benchmarkKey),
            "cjt188 901F read-data reply": (.cjt188, nil),
            "wmbus OMS mode 5 (AES-CBC)": (.wmbus, AES128Key(hex: "0102030405060708090A0B0C0D0E0F11")),
            "wmbus OMS mode 7 (ELL, CMAC, KDF)": (.wmbus, AES128Key(hex: "000102030405060708090A0B0C0D0E0F")),
            "mbus wired long frame (plain)": (.mbus, nil),
        ]
        return cases().compactMap { benchmark in
            guard let (protocolName, key) = protocols[benchmark.name], let bytes = benchmark.frames.first else {
                return nil
            }
            return Sample(name: benchmark.name, protocolName: protocolName, key: key, bytes: bytes)
        }
    }

    /// Decode + JSON: each sample decoded and printed as `meter-gateway decode` prints it.
    ///
    /// - Parameters:
    ///   - label: Names the JSON path in each case's name, e.g. `writer`.
    ///   - render: Decodes the frame and writes its JSON; returns the text's length, 0 when the frame did not
    ///     decode (an error object).
    /// - Returns: One case per sample.
    public static func jsonCases(
        label: String,
        render: @escaping (FrameProtocol, AES128Key?, UnsafeRawBufferPointer) -> Int
    ) -> [DecodeBenchmark] {
        samples().map { sample in
            DecodeBenchmark(name: "+json \(label): \(sample.name)", frames: [sample.bytes]) { bytes in
                render(sample.protocolName, sample.key, bytes)
            }
        }
    }

    /// Decode + JSON through the decode tool's own path (``FrameJSONRenderer``, one reused writer).
    /// - Returns: One case per sample.
    public static func writerJSONCases() -> [DecodeBenchmark] {
        final class Scratch {
            var renderer = FrameJSONRenderer()
        }
        let scratch = Scratch()
        return jsonCases(label: "writer") { protocolName, key, bytes in
            scratch.renderer.render(bytes, protocol: protocolName, key: key) ? scratch.renderer.writer.bytes.count : 0
        }
    }
}
