import GatewayCore
import Logging
import MQTTIngest
import Synchronization

/// The MQTT receive side of the gateway: every delivered frame is staged in the spool's batch, and the batch is
/// committed (one `write`, one `fdatasync`) before the network loop writes any of its acknowledgements.
///
/// A payload over `mqtt.max_payload_bytes` is spooled as its first ``GatewayCore/OversizedFrame/keptBytes`` under a
/// marked topic (it becomes a `frame_too_large` quarantine row), so a flood of large payloads cannot fill the disk.
/// If the spool cannot be written (disk full, I/O error) the commit fails: the client holds the acknowledgements of
/// the whole batch and retries the commit every 500 ms, so the broker keeps the frames and what follows them.
enum SpoolingReceiver {
    /// The `onMessage` handler: stages the frame (in memory; blocks only for backlog backpressure).
    static func makeHandler(
        spool: FrameSpool,
        maxPayloadBytes: Int,
        statistics: PipelineStatistics
    ) -> @Sendable (borrowing MQTTInboundMessage) -> Void {
        let writer = spool.writer
        return { message in
            let receivedAt = Timestamp.now
            if message.isRetained { statistics.retainedFrames.add(1, ordering: .relaxed) }
            if message.payload.count > maxPayloadBytes {
                statistics.oversizedFrames.add(1, ordering: .relaxed)
                let topic = OversizedFrame.markedTopic(message.topicUTF8, size: message.payload.count)
                topic.withUnsafeBytes { topic in
                    writer.stage(
                        topic: topic,
                        payload: UnsafeRawBufferPointer(rebasing: message.payload.prefix(OversizedFrame.keptBytes)),
                        receivedAt: receivedAt
                    )
                }
            } else {
                writer.stage(topic: message.topicUTF8, payload: message.payload, receivedAt: receivedAt)
            }
        }
    }

    /// The commit run before acknowledgements are written: `true` once every staged frame is durable.
    static func makeCommit(spool: FrameSpool, logger: Logger) -> @Sendable () -> Bool {
        let writer = spool.writer
        let failures = Atomic<Int>(0)
        return {
            do {
                try writer.commitStaged()
                failures.store(0, ordering: .relaxed)
                return true
            } catch {
                // Logged on the first failure and every tenth retry after it (one retry every 500 ms).
                if failures.add(1, ordering: .relaxed).oldValue % 10 == 0 {
                    logger.critical(
                        "cannot write the spool; holding the received frames unacknowledged",
                        metadata: ["error": "\(error)", "spool.staged.frames": "\(writer.stagedRecords)"]
                    )
                }
                return false
            }
        }
    }
}
