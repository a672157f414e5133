extension MosquittoClient {
    /// Publishes a message. Thread-safe; call from any thread or task, including from `onMessage`.
    ///
    /// The bytes are copied by libmosquitto before this returns. With QoS 1/2 libmosquitto keeps the
    /// message in flight (and retries it after a reconnect) until the broker acknowledges it; use
    /// ``publishAndWait(topic:payload:qos:retain:timeout:)`` to wait for that acknowledgement.
    ///
    /// - Parameters:
    ///   - topic: The topic name (no wildcards).
    ///   - payload: The payload bytes; only read during the call.
    ///   - qos: The QoS (default ``MQTTQoS/atLeastOnce``).
    ///   - retain: Whether the broker retains the message.
    /// - Throws: ``MQTTError``: ``MQTTError/Code/notConnected`` (retryable) while disconnected — the message
    ///   was not queued, the caller decides whether to retry; ``MQTTError/Code/invalidArgument`` for a bad
    ///   topic; ``MQTTError/Code/stopped`` after ``stop()``.
    public func publish(
        topic: String,
        payload: UnsafeRawBufferPointer,
        qos: MQTTQoS = .atLeastOnce,
        retain: Bool = false
    ) throws(MQTTError) {
        _ = try self.publishReturningMessageID(topic: topic, payload: payload, qos: qos, retain: retain)
    }

    /// Publishes a message whose payload is any collection of bytes (`[UInt8]`, `Data`, …).
    ///
    /// Contiguous collections are passed without copying; others are copied once.
    /// See `publish(topic:payload:qos:retain:)` for the semantics.
    /// - Parameters:
    ///   - topic: The topic name (no wildcards).
    ///   - payload: The payload bytes.
    ///   - qos: The QoS (default ``MQTTQoS/atLeastOnce``).
    ///   - retain: Whether the broker retains the message.
    /// - Throws: ``MQTTError``, as for the `UnsafeRawBufferPointer` variant.
    public func publish(
        topic: String,
        payload: some Collection<UInt8>,
        qos: MQTTQoS = .atLeastOnce,
        retain: Bool = false
    ) throws(MQTTError) {
        _ = try self.publishReturningMessageID(topic: topic, bytes: payload, qos: qos, retain: retain)
    }

    /// Publishes a message and waits until libmosquitto reports it delivered: the broker's PUBACK for
    /// QoS 1, PUBCOMP for QoS 2, or the packet written to the socket for QoS 0.
    ///
    /// Meant for simulators, tools and tests; the ingest path never waits on the broker. If the connection
    /// drops meanwhile, libmosquitto resends the message after reconnecting and the wait continues until
    /// `timeout`. A timed-out message may still be delivered later.
    ///
    /// - Parameters:
    ///   - topic: The topic name (no wildcards).
    ///   - payload: The payload bytes.
    ///   - qos: The QoS (default ``MQTTQoS/atLeastOnce``).
    ///   - retain: Whether the broker retains the message.
    ///   - timeout: The longest time to wait for the acknowledgement (default 10 s).
    /// - Throws: ``MQTTError`` (``MQTTError/Code/timedOut``, ``MQTTError/Code/publishRejected`` for an MQTT v5
    ///   failure reason code, ``MQTTError/Code/stopped``, or any `publish(topic:payload:qos:retain:)`
    ///   error), or `CancellationError` when the task is cancelled.
    public func publishAndWait(
        topic: String,
        payload: some Collection<UInt8> & Sendable,
        qos: MQTTQoS = .atLeastOnce,
        retain: Bool = false,
        timeout: Duration = .seconds(10)
    ) async throws {
        let (mid, waiter) = try self.publishAwaitingAcknowledgement(
            topic: topic,
            bytes: payload,
            qos: qos,
            retain: retain
        )
        defer { self.core.context.acks.detach(waiter, from: mid) }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await waiter.wait()
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw MQTTError(.timedOut, "no acknowledgement for message \(mid) on \(topic) within \(timeout)")
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    // MARK: - Internals

    /// Publishes a message with a waiter for its acknowledgement, registered so that an acknowledgement arriving
    /// before `attach` is not missed. The caller detaches the waiter from the message id when it is done waiting.
    func publishAwaitingAcknowledgement(
        topic: String,
        bytes: some Collection<UInt8>,
        qos: MQTTQoS,
        retain: Bool
    ) throws(MQTTError) -> (mid: Int32, waiter: MQTTPublishAckWaiter) {
        let registry = self.core.context.acks
        let waiter = MQTTPublishAckWaiter()
        registry.beginRegistration()
        let mid: Int32
        do {
            mid = try self.publishReturningMessageID(topic: topic, bytes: bytes, qos: qos, retain: retain)
        } catch {
            registry.abandonRegistration()
            throw error
        }
        registry.attach(waiter, to: mid)
        return (mid, waiter)
    }

    private func publishReturningMessageID(
        topic: String,
        bytes: some Collection<UInt8>,
        qos: MQTTQoS,
        retain: Bool
    ) throws(MQTTError) -> Int32 {
        let contiguous: Result<Int32, MQTTError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(MQTTError) -> Int32 in
                try self.publishReturningMessageID(
                    topic: topic,
                    payload: UnsafeRawBufferPointer(buffer),
                    qos: qos,
                    retain: retain
                )
            }
        }
        if let contiguous {
            return try contiguous.get()
        }
        let copy = Array(bytes)
        let copied: Result<Int32, MQTTError> = copy.withUnsafeBytes { buffer in
            Result { () throws(MQTTError) -> Int32 in
                try self.publishReturningMessageID(topic: topic, payload: buffer, qos: qos, retain: retain)
            }
        }
        return try copied.get()
    }

    private func publishReturningMessageID(
        topic: String,
        payload: UnsafeRawBufferPointer,
        qos: MQTTQoS,
        retain: Bool
    ) throws(MQTTError) -> Int32 {
        try self.core.publish(topic: topic, payload: payload, qos: qos, retain: retain)
    }
}
