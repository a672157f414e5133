/// How an oversized payload travels through the spool without being spooled whole.
///
/// The receive callback keeps only the first ``keptBytes`` of a payload over `mqtt.max_payload_bytes` and
/// spools them under a marked topic: a NUL byte (which no MQTT topic name may contain, MQTT 5 §4.7.3), the word
/// `oversize`, the payload's real size, a space and the original topic. The admission ladder turns such a record
/// into a `frame_too_large` quarantine row with the original topic, the first bytes and the size.
public enum OversizedFrame {
    /// How many leading bytes of an oversized payload are kept.
    public static let keptBytes = 64

    private static let marker: [UInt8] = [0] + Array("oversize ".utf8)

    /// The spool topic for an oversized payload.
    /// - Parameters:
    ///   - topic: The original topic bytes.
    ///   - size: The payload's real size in bytes.
    /// - Returns: The marked topic bytes.
    public static func markedTopic(_ topic: UnsafeRawBufferPointer, size: Int) -> [UInt8] {
        marker + Array(String(size).utf8) + [UInt8(ascii: " ")] + Array(topic)
    }

    /// Reads a marked topic.
    /// - Parameter topic: Topic bytes from the spool.
    /// - Returns: The payload's real size and the original topic, or nil when the topic is not marked.
    public static func parse(
        topic: UnsafeRawBufferPointer
    ) -> (size: Int, originalTopic: UnsafeRawBufferPointer)? {
        guard topic.count > marker.count, topic[0] == 0 else { return nil }
        for index in 1..<marker.count where topic[index] != marker[index] { return nil }
        var index = marker.count
        var size = 0
        while index < topic.count, topic[index] != UInt8(ascii: " ") {
            let byte = topic[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), size < Int.max / 10 - 9 else { return nil }
            size = size * 10 + Int(byte - UInt8(ascii: "0"))
            index += 1
        }
        guard index < topic.count, index > marker.count else { return nil }
        return (size, UnsafeRawBufferPointer(rebasing: topic[(index + 1)...]))
    }
}
