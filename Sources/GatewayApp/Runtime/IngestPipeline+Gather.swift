import MQTTIngest

extension IngestPipeline {
    /// Gathers more spool records into a batch that is not full, for at most `pipeline.gather_ms` after its first
    /// records were read, so several spool commits share one database transaction.
    ///
    /// The MQTT side commits the spool once per burst read from the broker (group commit); a burst can be a few
    /// frames when the broker trickles them. Without gathering, each such burst would become a database transaction
    /// of its own, whose fixed cost (round trips, statement overhead, the WAL flush at commit) then dominates the
    /// per-frame cost. The wait ends as soon as the batch is full (`pipeline.max_batch_frames`), so under load it
    /// adds nothing; a frame that arrives alone (an alarm on a quiet gateway) waits at most the window.
    ///
    /// - Parameters:
    ///   - reader: The spool reader the batch's first records came from (nothing is committed in between, so a
    ///     rewind still covers every record of the batch).
    ///   - have: Records already in the batch.
    ///   - limit: The most records the batch may hold.
    ///   - take: Admits one record into the batch; returns whether the batch now holds an alarm: gathering stops
    ///     right after it.
    /// - Returns: How many records were added.
    func gatherMore(
        from reader: SpoolReader,
        have: Int,
        limit: Int,
        _ take: (SpoolRecord) throws -> Bool
    ) async throws -> Int {
        let deadline = ContinuousClock.now + .milliseconds(gatherMilliseconds)
        var added = 0
        var ended = false
        while have + added < limit, !ended {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            await spool.waitForAppend(timeout: left)
            added += try reader.read(maxRecords: limit - have - added) { record in
                ended = try take(record)
                return ended
            }
        }
        return added
    }
}
