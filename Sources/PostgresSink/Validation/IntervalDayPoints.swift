import GatewayCore
import GatewayDomain

/// One stored `interval_days` row as the validator reads it (``ValidationBatchSQL/windowIntervalDays``), turned into
/// the points the `interval_readings` view shows for it: the same start, minutes, volume and protection, in start
/// order.
///
/// The view (migration v17) defines a point's start as the day's UTC midnight plus `offsets_s[n]` seconds and
/// `offsets_frac_us[n]` microseconds (0 when that array is NULL), and its protection as `flags[n] & 3` (0 plain,
/// 1 encrypted, otherwise authenticated).
struct IntervalDayPoints {
    /// The day's UTC midnight, µs since 1970.
    let midnight: Int64
    let offsetsSeconds: [Int32]
    let offsetsMicroseconds: [Int32]?
    let minutes: [Int16]
    let volumes: [Int64]
    let flags: [Int16]

    /// Decodes columns 1…6 of a ``ValidationBatchSQL/windowIntervalDays`` row.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when a column does not decode or the arrays differ in
    ///   length.
    init(row: PostgresRow) throws {
        midnight = try row.decode(1, as: Int64.self) * 86_400_000_000
        offsetsSeconds = try row.decode(2)
        offsetsMicroseconds = try row.decode(3, as: [Int32]?.self)
        minutes = try row.decode(4)
        volumes = try row.decode(5)
        flags = try row.decode(6)
        let count = offsetsSeconds.count
        guard minutes.count == count, volumes.count == count, flags.count == count,
            (offsetsMicroseconds?.count ?? count) == count
        else {
            throw PostgresError(code: .unexpectedResult, message: "interval_days: the point arrays differ in length")
        }
    }

    /// Appends the day's points that start at or after `first` (µs since 1970), in start order.
    func appendPoints(startingAtOrAfter first: Int64, to points: inout [IntervalValue]) {
        for index in offsetsSeconds.indices {
            let start = midnight + Int64(offsetsSeconds[index]) * 1_000_000 + Int64(offsetsMicroseconds?[index] ?? 0)
            guard start >= first else { continue }
            points.append(
                IntervalValue(
                    start: Timestamp(microsecondsSinceEpoch: start),
                    minutes: minutes[index],
                    volumeMillilitres: volumes[index],
                    isEstimated: false,
                    protection: ProtectionLevel(rawValue: UInt8(min(flags[index] & 3, 2))) ?? .authenticated
                )
            )
        }
    }
}
