internal import CMosquitto
import Dispatch
import Logging
import Synchronization

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The network loop of one connection, split into libmosquitto's read, commit and write phases.
///
/// `mosquitto_loop` reads and writes in one call, so nothing could run between the moment a QoS 1 message is
/// delivered and the moment its PUBACK is written. This loop drives the phases itself:
///
/// 1. `poll` the socket (and the client's wake-up pipe, for publishes from other threads and stop requests);
/// 2. **read**: `mosquitto_loop_read` until the socket has no complete packet left (or
///    ``MosquittoClientCore/maximumMessagesPerCommit`` messages were delivered). Each QoS 1 message runs
///    `onMessage`; in threaded mode libmosquitto only *queues* its PUBACK;
/// 3. **commit**: `commitBeforeAcknowledging` once for all messages of the burst (the gateway writes them to the
///    spool with one `write` and one `fdatasync`). While it fails, nothing is read or written (the queued PUBACKs
///    stay queued) and it is retried every 500 ms;
/// 4. **write**: `mosquitto_loop_write` sends the queued packets — the burst's PUBACKs among them — on a corked
///    socket, uncorked afterwards, so they leave in full segments;
/// 5. `mosquitto_loop_misc`: keep-alive.
///
/// So no PUBACK reaches the broker before the commit that covers its message returned `true`.
///
/// While a commit is held (a slow `fdatasync`, a disk that refuses writes) the thread sends nothing, PINGREQ
/// included: after 1.5 × the keep-alive the broker drops the connection. Nothing is lost with the gateway's
/// persistent session: the loop reconnects once the commit returns, and the broker sends the held message again (a
/// duplicate that frame identity drops) and then what it queued meanwhile.
extension MosquittoClientCore {
    /// The most messages delivered between two commits. Bounds the memory of one batch and the latency of the
    /// first message's acknowledgement.
    static let maximumMessagesPerCommit = 512
    /// The longest `poll` wait; keep-alive is checked at least this often.
    static let pollTimeoutMilliseconds: Int32 = 1000
    /// The pause between two attempts of a failed commit.
    static let commitRetryMilliseconds = 500

    /// Drives the connection until it ends or a stop is requested.
    /// - Returns: `false` when it stopped while received messages were not committed (their PUBACKs are still
    ///   queued and must not be sent), `true` otherwise.
    func driveConnection(backoff: inout MQTTReconnectBackoff, attempt: inout Int) -> Bool {
        let raw = self.handle.raw
        while true {
            let socket = mosquitto_socket(raw)
            guard socket >= 0 else { return true }
            let (readable, failed) = self.waitForSocket(socket, wantsWrite: mosquitto_want_write(raw))
            if self.stopRequested.load(ordering: .acquiring) {
                return self.commitOrHold()
            }
            var rc = MOSQ_ERR_SUCCESS.rawValue
            if readable || failed {
                rc = self.readBurst()
            }
            if self.context.connackReceived.exchange(false, ordering: .acquiringAndReleasing) {
                backoff.reset()
                attempt = 0
            }
            // Even when the read ended the connection: what arrived is stored (the broker redelivers it, a
            // harmless duplicate), and a stop must not lose it.
            guard self.commitOrHold() else { return false }
            if rc == MOSQ_ERR_SUCCESS.rawValue, mosquitto_socket(raw) >= 0, mosquitto_want_write(raw) {
                rc = self.writeCorked(socket: mosquitto_socket(raw))
            }
            if rc == MOSQ_ERR_SUCCESS.rawValue, mosquitto_socket(raw) >= 0 {
                rc = mosquitto_loop_misc(raw)
            }
            if self.stopRequested.load(ordering: .acquiring) {
                return true
            }
            // MOSQ_ERR_INVAL can be environmental here (a closed socket), so it is a connection failure, not misuse.
            if let error = MQTTError.mosquitto(rc, "network loop", invalIsMisuse: false) {
                if error.code != .notConnected {
                    self.logger.warning("MQTT network loop ended", metadata: ["mqtt.error": "\(error)"])
                }
                return true
            }
        }
    }

    /// Waits until the socket is readable (or writable, when packets are queued) or the wake-up pipe rings.
    private func waitForSocket(_ socket: Int32, wantsWrite: Bool) -> (readable: Bool, failed: Bool) {
        var events = Int16(POLLIN)
        if wantsWrite { events |= Int16(POLLOUT) }
        var descriptors = (
            pollfd(fd: socket, events: events, revents: 0),
            pollfd(fd: self.wakeUpPipe.readEnd, events: Int16(POLLIN), revents: 0)
        )
        self.isPolling.store(true, ordering: .sequentiallyConsistent)
        // A packet queued by another thread after the check above rings the pipe (see `publish`), so a long
        // wait here never delays it. Re-checked after announcing the wait, to close the race.
        let timeout = wantsWrite || mosquitto_want_write(self.handle.raw) ? 0 : Self.pollTimeoutMilliseconds
        let count = withUnsafeMutableBytes(of: &descriptors) { bytes -> Int32 in
            guard let base = bytes.baseAddress else { return 0 }
            return poll(base.assumingMemoryBound(to: pollfd.self), 2, timeout)
        }
        self.isPolling.store(false, ordering: .sequentiallyConsistent)
        guard count > 0 else { return (false, false) }
        if descriptors.1.revents != 0 { self.wakeUpPipe.drain() }
        let revents = Int32(descriptors.0.revents)
        return (revents & Int32(POLLIN) != 0, revents & Int32(POLLERR | POLLHUP | POLLNVAL) != 0)
    }

    /// Reads packets until the socket holds no complete packet or enough messages wait for a commit.
    ///
    /// libmosquitto returns success both after it handled a whole packet and when the socket had nothing (more) to
    /// give; only `errno` (EAGAIN from its last `read`) tells the second case. But `errno` is not reliable after a
    /// handled packet: libmosquitto writes a wake-up byte to its internal socket pair for every packet it queues (each
    /// PUBACK among them), that pair is drained only by `mosquitto_loop`, which this loop does not call, so once it is
    /// full (after a few thousand packets) every such write leaves EAGAIN in `errno`. Trusting it then ends every
    /// burst after one message: one commit, one `fdatasync` and one database transaction per frame. So a call counts
    /// as "socket drained" only when it also delivered nothing (no message, no publish acknowledgement); a packet
    /// handled without a callback (PINGRESP) leaves `errno` at 0 and the loop reads on.
    private func readBurst() -> Int32 {
        let raw = self.handle.raw
        let counters = self.context.counters
        // Messages delivered plus publish acknowledgements: what moves when a call handled a packet with a callback.
        func deliveries() -> Int {
            counters.messagesReceived.load(ordering: .relaxed) + counters.publishAcks.load(ordering: .relaxed)
        }
        let first = self.context.uncommittedMessages.load(ordering: .relaxed)
        for _ in 0..<(4 * Self.maximumMessagesPerCommit) {
            let before = deliveries()
            errno = 0
            let rc = mosquitto_loop_read(raw, 1)
            if rc != MOSQ_ERR_SUCCESS.rawValue || mosquitto_socket(raw) < 0 { return rc }
            if deliveries() == before && (errno == EAGAIN || errno == EWOULDBLOCK) { return rc }
            if self.context.uncommittedMessages.load(ordering: .relaxed) - first >= Self.maximumMessagesPerCommit {
                return rc
            }
        }
        return MOSQ_ERR_SUCCESS.rawValue
    }

    /// Writes every queued packet. libmosquitto writes each packet (a 4-byte PUBACK, a downlink) with its own `write`;
    /// the socket is corked meanwhile, so they leave as full segments when it is uncorked, instead of one TCP segment
    /// (and, on loopback, one pass through the receiving stack) per packet.
    private func writeCorked(socket: Int32) -> Int32 {
        _ = cmosquitto_set_tcp_cork(socket, 1)
        let rc = mosquitto_loop_write(self.handle.raw, 1)
        if mosquitto_socket(self.handle.raw) == socket {
            _ = cmosquitto_set_tcp_cork(socket, 0)
        }
        return rc
    }

    /// Commits what `onMessage` received since the last commit, retrying until it succeeds.
    /// - Returns: `false` if a stop was requested before the commit succeeded.
    private func commitOrHold() -> Bool {
        guard self.context.uncommittedMessages.load(ordering: .relaxed) > 0 else { return true }
        while !self.context.commitBeforeAcknowledging() {
            if self.stopRequested.load(ordering: .acquiring) { return false }
            _ = self.wakeUp.wait(timeout: .now() + .milliseconds(Self.commitRetryMilliseconds))
            if self.stopRequested.load(ordering: .acquiring) { return false }
        }
        self.context.uncommittedMessages.store(0, ordering: .relaxed)
        return true
    }
}

/// A non-blocking pipe that wakes the network thread from `poll`.
///
/// Invariant that makes `@unchecked Sendable` sound: the two descriptors are set once in `init` and closed once in
/// `closeBoth()` (called from the owner's deinit, when no thread uses them any more); `ring()` and `drain()` only
/// `write`/`read` them, which is safe from any thread.
struct WakeUpPipe: @unchecked Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    init() {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
        }
        // Without a pipe (descriptor exhaustion) `poll` ignores the negative descriptor and the loop falls back to
        // its one-second timeout: slower wake-ups, nothing lost.
        self.readEnd = ends[0]
        self.writeEnd = ends[1]
    }

    func ring() {
        guard self.writeEnd >= 0 else { return }
        var byte: UInt8 = 1
        _ = write(self.writeEnd, &byte, 1)  // a full pipe already wakes the reader
    }

    func drain() {
        guard self.readEnd >= 0 else { return }
        var bytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        while withUnsafeMutableBytes(of: &bytes, { read(self.readEnd, $0.baseAddress, $0.count) }) > 0 {}
    }

    func closeBoth() {
        if self.readEnd >= 0 { _ = close(self.readEnd) }
        if self.writeEnd >= 0 { _ = close(self.writeEnd) }
    }
}
