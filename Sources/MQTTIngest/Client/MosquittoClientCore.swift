internal import CMosquitto
import Dispatch
import Logging
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A libmosquitto handle that may cross threads.
///
/// Invariant that makes `@unchecked Sendable` sound: the handle is put in threaded mode
/// (`mosquitto_threaded_set(h, true)`) before it is shared. Then only the owning network thread calls the
/// connection and loop functions (`mosquitto_connect_bind_v5`, `mosquitto_reconnect`, `mosquitto_loop_read`,
/// `mosquitto_loop_write`, `mosquitto_loop_misc`, and `mosquitto_loop` while shutting down);
/// other threads call only `mosquitto_publish` and `mosquitto_disconnect`, which libmosquitto guards with
/// its own mutexes in threaded mode; and `mosquitto_destroy` runs exactly once, in
/// ``MosquittoClientCore``'s deinit, after the network thread has finished.
struct MosquittoHandle: @unchecked Sendable {
    let raw: OpaquePointer
}

/// Process-wide libmosquitto initialisation.
enum MosquittoLibrary {
    /// `mosquitto_lib_init` runs once per process (Swift globals are initialised exactly once, thread-safely).
    private static let initialization: Int32 = mosquitto_lib_init()

    static func ensureInitialized() throws(MQTTError) {
        try MQTTError.check(Self.initialization, "mosquitto_lib_init")
    }
}

/// Owns the libmosquitto handle, the callback context and the network thread's lifecycle.
///
/// ``MosquittoClient`` is a thin public façade over this object. The network thread keeps a strong
/// reference to the core while it runs, so the handle is destroyed only after the thread exited, no matter
/// when the last ``MosquittoClient`` reference goes away.
final class MosquittoClientCore: Sendable {
    enum Lifecycle: Sendable {
        case idle
        case running
        case stopped
    }

    let handle: MosquittoHandle
    let context: MosquittoCallbackContext
    let options: MQTTConnectionOptions
    let logger: Logger

    /// Set once by ``requestStop()``; the network thread polls it between libmosquitto calls.
    let stopRequested = Atomic<Bool>(false)
    /// Guards that exactly one party sends DISCONNECT from a foreign thread.
    let disconnectSent = Atomic<Bool>(false)
    /// Wakes the network thread from its reconnect backoff sleep.
    let wakeUp = DispatchSemaphore(value: 0)
    /// Entered when the network thread starts, left when it has finished.
    let exited = DispatchGroup()
    let lifecycle = Mutex<Lifecycle>(.idle)
    /// Identity of the running network thread, to keep `stop()` from waiting on itself.
    let networkThreadID = Mutex<ObjectIdentifier?>(nil)
    /// Wakes the network thread's `poll` for a packet queued by another thread or a stop request.
    let wakeUpPipe = WakeUpPipe()
    /// Whether the network thread is (about to be) waiting in `poll`; a publisher rings the pipe only then.
    let isPolling = Atomic<Bool>(false)

    /// Takes ownership of `handle` and of one retain of `context` (the one passed to `mosquitto_new`).
    init(handle: MosquittoHandle, context: MosquittoCallbackContext, options: MQTTConnectionOptions, logger: Logger) {
        self.handle = handle
        self.context = context
        self.options = options
        self.logger = logger
    }

    deinit {
        // The network thread holds a strong reference while it runs, so it has finished by now and no
        // callback can fire any more.
        mosquitto_destroy(self.handle.raw)
        Unmanaged.passUnretained(self.context).release()
        self.wakeUpPipe.closeBoth()
    }

    /// Whether the connection's socket sends without delay (`TCP_NODELAY`), or nil while there is no socket.
    var sendsWithoutDelay: Bool? {
        let socket = mosquitto_socket(self.handle.raw)
        guard socket >= 0 else { return nil }
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length) == 0 else { return nil }
        return value != 0
    }

    /// Applies the options to the fresh handle. Runs in `MosquittoClient.init`, before any thread exists.
    func configure(forwardLibraryLog: Bool) throws(MQTTError) {
        let raw = self.handle.raw
        try MQTTError.check(mosquitto_threaded_set(raw, true), "mosquitto_threaded_set")
        let version = self.options.protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        try MQTTError.check(
            mosquitto_int_option(raw, MOSQ_OPT_PROTOCOL_VERSION, version),
            "mosquitto_int_option(MOSQ_OPT_PROTOCOL_VERSION)"
        )
        // Every packet leaves at once (Nagle off): a small write (a PUBACK, an ack to a meter, a dispatch event) that
        // follows one the peer has not acknowledged yet would otherwise wait for that acknowledgement, which the
        // peer's delayed ACK holds back up to 40 ms.
        try MQTTError.check(
            mosquitto_int_option(raw, MOSQ_OPT_TCP_NODELAY, 1),
            "mosquitto_int_option(MOSQ_OPT_TCP_NODELAY)"
        )
        if self.options.protocolVersion == .v5, let receiveMaximum = self.options.receiveMaximum {
            try MQTTError.check(
                mosquitto_int_option(raw, MOSQ_OPT_RECEIVE_MAXIMUM, Int32(receiveMaximum)),
                "mosquitto_int_option(MOSQ_OPT_RECEIVE_MAXIMUM)"
            )
        }
        if let username = self.options.username {
            let rc = username.withCString { user in
                if let password = self.options.password {
                    return password.withCString { mosquitto_username_pw_set(raw, user, $0) }
                }
                return mosquitto_username_pw_set(raw, user, nil)
            }
            try MQTTError.check(rc, "mosquitto_username_pw_set")
        }
        if let tls = self.options.tls {
            try self.configureTLS(tls)
        }
        if let statusTopic = self.options.statusTopic {
            let offline = Array(MQTTConnectionOptions.statusOffline.utf8)
            let rc = offline.withUnsafeBytes { payload in
                mosquitto_will_set(raw, statusTopic, Int32(payload.count), payload.baseAddress, 1, true)
            }
            try MQTTError.check(rc, "mosquitto_will_set")
        }
        MosquittoCallbackContext.installCallbacks(on: raw, forwardLibraryLog: forwardLibraryLog)
    }

    private func configureTLS(_ tls: MQTTTLSOptions) throws(MQTTError) {
        let raw = self.handle.raw
        let rc = tls.caFile.withCString { caFile in
            Self.withOptionalCString(tls.certFile) { certFile in
                Self.withOptionalCString(tls.keyFile) { keyFile in
                    mosquitto_tls_set(raw, caFile, nil, certFile, keyFile, nil)
                }
            }
        }
        // MOSQ_ERR_INVAL here means a file vanished or became unreadable after validate(): a configuration
        // problem, not misuse of the library.
        if rc == MOSQ_ERR_INVAL.rawValue {
            throw MQTTError(
                .invalidOptions,
                "MQTTConnectionOptions.tls: libmosquitto could not read caFile/certFile/keyFile",
                libraryCode: Int(rc)
            )
        }
        try MQTTError.check(rc, "mosquitto_tls_set")
        try MQTTError.check(mosquitto_tls_insecure_set(raw, !tls.verifyHostname), "mosquitto_tls_insecure_set")
    }

    private static func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let string else { return body(nil) }
        return string.withCString { body($0) }
    }

    // MARK: - Stop

    /// Asks the network thread to disconnect cleanly and exit. Never blocks; idempotent.
    func requestStop() {
        let wasRunning = self.lifecycle.withLock { lifecycle -> Bool in
            defer { lifecycle = .stopped }
            if case .running = lifecycle { return true }
            return false
        }
        // A clean DISCONNECT suppresses the will, so say `offline` first: queued before the stop is visible to the
        // network thread, it is written before the DISCONNECT whichever thread queues that.
        if wasRunning, let statusTopic = self.options.statusTopic, self.context.isConnected.load(ordering: .acquiring) {
            Self.publishStatus(MQTTConnectionOptions.statusOffline, topic: statusTopic, on: self.handle.raw)
        }
        self.stopRequested.store(true, ordering: .releasing)
        self.wakeUp.signal()
        self.wakeUpPipe.ring()
        // In threaded mode `mosquitto_disconnect` only queues DISCONNECT; the network thread, woken through the pipe
        // above, writes it while shutting down (or queues it itself if this thread loses the race).
        if wasRunning, self.context.isConnected.load(ordering: .acquiring),
            !self.disconnectSent.exchange(true, ordering: .acquiringAndReleasing)
        {
            _ = mosquitto_disconnect(self.handle.raw)
        }
    }

    /// Publishes a retained status payload at QoS 1 (``MQTTConnectionOptions/statusTopic``); a failure only means
    /// the retained value is stale until the next connect or the will corrects it.
    static func publishStatus(_ status: String, topic: String, on handle: OpaquePointer) {
        let bytes = Array(status.utf8)
        _ = bytes.withUnsafeBytes { payload in
            mosquitto_publish(handle, nil, topic, Int32(payload.count), payload.baseAddress, 1, true)
        }
    }

    /// Whether the caller is the network thread (e.g. `stop()` called from the message handler).
    var isOnNetworkThread: Bool {
        let current = currentThreadIdentifier()
        return self.networkThreadID.withLock { $0 == current }
    }

    func waitForExit() {
        guard !self.isOnNetworkThread else { return }
        self.exited.wait()
    }

    func waitForExit() async {
        guard !self.isOnNetworkThread else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            self.exited.notify(queue: .global()) {
                continuation.resume()
            }
        }
    }

    // MARK: - Publish

    /// Hands a message to libmosquitto. Any thread.
    /// - Returns: The message id libmosquitto assigned.
    func publish(
        topic: String,
        payload: UnsafeRawBufferPointer,
        qos: MQTTQoS,
        retain: Bool
    ) throws(MQTTError) -> Int32 {
        guard !self.stopRequested.load(ordering: .acquiring) else {
            throw MQTTError(.stopped, "publish after stop()")
        }
        let topicBytes = topic.utf8.count
        guard topicBytes > 0, topicBytes <= 65_535, !topic.utf8.contains(0) else {
            throw MQTTError(.invalidArgument, "topic must be 1...65535 UTF-8 bytes without NUL characters")
        }
        guard topic.withCString({ mosquitto_pub_topic_check($0) }) == MOSQ_ERR_SUCCESS.rawValue else {
            throw MQTTError(.invalidArgument, "topic must not contain the wildcards '+' or '#': \(topic)")
        }
        guard payload.count <= 268_435_455 else {
            throw MQTTError(.payloadTooLarge, "payload of \(payload.count) bytes exceeds the MQTT limit")
        }
        // While disconnected libmosquitto would silently queue QoS > 0 messages in memory; report a
        // retryable error instead and let the caller decide (it owns durability).
        guard self.context.isConnected.load(ordering: .acquiring) else {
            throw MQTTError(.notConnected, "not connected to the MQTT broker")
        }
        var mid: Int32 = 0
        let rc = topic.withCString { topic in
            mosquitto_publish(
                self.handle.raw,
                &mid,
                topic,
                Int32(payload.count),
                payload.baseAddress,
                Int32(qos.rawValue),
                retain
            )
        }
        try MQTTError.check(rc, "mosquitto_publish")
        // Threaded mode only queues the packet; the network thread writes it. Ring it only when it waits in poll:
        // otherwise it is busy and reaches its write phase anyway.
        if self.isPolling.load(ordering: .sequentiallyConsistent) { self.wakeUpPipe.ring() }
        self.context.counters.messagesPublished.add(1, ordering: .relaxed)
        return mid
    }
}
