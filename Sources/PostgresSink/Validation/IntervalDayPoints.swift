import GatewayCore
import GatewayDomain

/// One stored `interval_days` row as the validator reads it (``ValidationBatchSQL/windowIntervalDays``), turned into
/// the points the `interval_readings` view shows for it: the same start, minutes, volume and protection, in start
/// order.
///
/// The view (migrations v17 and v26) defines a point's start as the day's UTC midnight plus `offsets_s[n]` seconds
/// (or `first_offset_s + (n - 1) * offset_step_s` when `offsets_s` is NULL) and `offsets_frac_us[n]` microseconds
/// (0 when that array is NULL), its minutes as `minutes[n]` (or `interval_minutes`), its volume as `volumes_ml[n]`
/// (or `volumes_wide_ml[n]`), and its protection as `flags[n] & 3` (or `flag & 3`; 0 plain, 1 encrypted, otherwise
/// authenticated).
struct IntervalDayPoints {
    /// The day's UTC midnight, µs since 1970.
    let midnight: Int64
    let volumes: [Int64]
    let offsetsSeconds: [Int32]?
    let offsetsMicroseconds: [Int32]?
    let minutes: [Int16]?
    let flags: [Int16]?
    /// The compact form's scalars, used where the array is NULL.
    let firstOffsetSeconds: Int64
    let offsetStepSeconds: Int64
    let uniformMinutes: Int16
    let uniformFlag: Int16

    /// Decodes columns 1…11 of a ``ValidationBatchSQL/windowIntervalDays`` row.
    /// - Throws: ``PostgresError`` (`.unexpectedResult`) when a column does not decode, the arrays differ in
    ///   length, or an array is NULL without its scalar.
    init(row: PostgresRow) throws {
        midnight = try row.decode(1, as: Int64.self) * 86_400_000_000
        offsetsSeconds = try row.decode(2, as: [Int32]?.self)
        offsetsMicroseconds = try row.decode(3, as: [Int32]?.self)
        minutes = try row.decode(4, as: [Int16]?.self)
        // The 32-bit and 64-bit forms print alike; exactly one of them is stored.
        guard let volumes = try row.decode(5, as: [Int64]?.self) ?? row.decode(10, as: [Int64]?.self) else {
            throw PostgresError(code: .unexpectedResult, message: "interval_days: a row without volumes")
        }
        self.volumes = volumes
        flags = try row.decode(6, as: [Int16]?.self)
        let firstOffset = try row.decode(7, as: Int32?.self)
        let step = try row.decode(8, as: Int32?.self)
        let uniformMinutes = try row.decode(9, as: Int16?.self)
        let uniformFlag = try row.decode(11, as: Int16?.self)
        let count = volumes.count
        guard (offsetsSeconds?.count ?? count) == count, (offsetsMicroseconds?.count ?? count) == count,
            (minutes?.count ?? count) == count, (flags?.count ?? count) == count
        else {
            throw PostgresError(code: .unexpectedResult, message: "interval_days: the point arrays differ in length")
        }
        guard offsetsSeconds != nil || (firstOffset != nil && step != nil), minutes != nil || uniformMinutes != nil,
            flags != nil || uniformFlag != nil
        else {
            throw PostgresError(code: .unexpectedResult, message: "interval_days: an array is NULL without its scalar")
        }
        firstOffsetSeconds = Int64(firstOffset ?? 0)
        offsetStepSeconds = Int64(step ?? 0)
        self.uniformMinutes = uniformMinutes ?? 0
        self.uniformFlag = uniformFlag ?? 0
    }

    /// Appends the day's points that start at or after `first` (µs since 1970), in start order.
    func appendPoints(startingAtOrAfter first: Int64, to points: inout [IntervalValue]) {
        for index in volumes.indices {
            let seconds =
                offsetsSeconds.map { Int64($0[index]) } ?? firstOffsetSeconds + Int64(index) * offsetStepSeconds
            let start = midnight + seconds * 1_000_000 + Int64(offsetsMicroseconds?[index] ?? 0)
            guard start >= first else { continue }
            let flag = flags?[index] ?? uniformFlag
            points.append(
                IntervalValue(
                    start: Timestamp(microsecondsSinceEpoch: start),
                    minutes: minutes?[index] ?? uniformMinutes,
                    volumeMillilitres: volumes[index],
                    isEstimated: false,
                    protection: ProtectionLevel(rawValue: UInt8(min(flag & 3, 2))) ?? .authenticated
                )
            )
        }
    }
}
