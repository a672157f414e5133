/// The gateway's MQTT topic scheme.
///
/// - Uplinks (meter → gateway): `<prefix>/up/<protocol>/<meter address>`, e.g. `gm/v1/up/native/100000001`.
/// - Downlinks (gateway → meter): `<prefix>/down/<protocol>/<meter address>`.
/// - Collectors that mix protocols: `<prefix>/up/collector/<collector id>` (the decoder is sniffed from the bytes).
///
/// `protocol` is one of `native`, `cjt188`, `wmbus`, `mbus`; the address is the meter's label form.
public struct TopicScheme: Sendable, Equatable {
    /// The prefix without a trailing slash, e.g. `gm/v1`.
    public var prefix: String

    public init(prefix: String) {
        self.prefix = prefix
    }

    /// The topic family of an uplink, as parsed from its topic.
    public enum Family: Sendable, Equatable {
        /// A single-protocol topic naming the meter.
        case meter(FrameProtocol)
        /// A collector topic that may carry any protocol.
        case collector
    }

    /// Where an uplink topic points: its family and the byte range of the last segment (meter or collector id).
    public struct Route: Sendable, Equatable {
        public var family: Family
        public var addressRange: Range<Int>
    }

    /// The subscription filter for every uplink, optionally as an MQTT v5 shared subscription.
    public func uplinkFilter(sharedGroup: String = "") -> String {
        sharedGroup.isEmpty ? "\(prefix)/up/#" : "$share/\(sharedGroup)/\(prefix)/up/#"
    }

    /// The uplink topic of a meter.
    public func uplinkTopic(_ source: FrameProtocol, address: String) -> String {
        "\(prefix)/up/\(source.rawValue)/\(address)"
    }

    /// The downlink topic of a meter.
    public func downlinkTopic(_ source: FrameProtocol, address: String) -> String {
        "\(prefix)/down/\(source.rawValue)/\(address)"
    }

    /// The filter a simulated fleet subscribes to for its downlinks.
    public func downlinkFilter(_ source: FrameProtocol) -> String {
        "\(prefix)/down/\(source.rawValue)/+"
    }

    /// Parses an uplink topic without allocating.
    /// - Parameter topic: The topic's UTF-8 bytes.
    /// - Returns: The route, or `nil` if the topic is not an uplink of this scheme (wrong prefix, unknown protocol,
    ///   missing or empty address, or extra levels).
    public func route(_ topic: UnsafeRawBufferPointer) -> Route? {
        var prefixMatches = true
        var index = 0
        for byte in prefix.utf8 {
            guard index < topic.count, topic[index] == byte else {
                prefixMatches = false
                break
            }
            index += 1
        }
        guard prefixMatches, Self.consume("/up/", in: topic, at: &index) else { return nil }
        let familyStart = index
        while index < topic.count, topic[index] != UInt8(ascii: "/") { index += 1 }
        guard index < topic.count else { return nil }
        let family: Family
        let segment = UnsafeRawBufferPointer(rebasing: topic[familyStart..<index])
        if Self.equals(segment, "collector") {
            family = .collector
        } else if Self.equals(segment, "native") {
            family = .meter(.native)
        } else if Self.equals(segment, "cjt188") {
            family = .meter(.cjt188)
        } else if Self.equals(segment, "wmbus") {
            family = .meter(.wmbus)
        } else if Self.equals(segment, "mbus") {
            family = .meter(.mbus)
        } else {
            return nil
        }
        index += 1
        let addressStart = index
        while index < topic.count {
            guard topic[index] != UInt8(ascii: "/") else { return nil }
            index += 1
        }
        guard index > addressStart else { return nil }
        return Route(family: family, addressRange: addressStart..<index)
    }

    /// Parses a decimal meter id (the native protocol's label form) from topic bytes, without allocating.
    public static func decimalID(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    private static func consume(_ literal: StaticString, in topic: UnsafeRawBufferPointer, at index: inout Int) -> Bool
    {
        let count = literal.utf8CodeUnitCount
        guard topic.count - index >= count else { return false }
        for offset in 0..<count where topic[index + offset] != literal.utf8Start[offset] {
            return false
        }
        index += count
        return true
    }

    private static func equals(_ bytes: UnsafeRawBufferPointer, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        for offset in 0..<bytes.count where bytes[offset] != text.utf8Start[offset] {
            return false
        }
        return true
    }
}
