internal import CMosquitto

/// An error raised by the MQTT ingest module.
///
/// Every failure that crosses the module boundary is an `MQTTError`. Inspect ``code`` to react to a
/// specific failure and ``isRetryable`` to decide whether trying the same operation again later can
/// succeed (for example after the client has reconnected).
///
/// ``description`` is safe to log: it never contains passwords, connection credentials or payload
/// bytes. ``debugDescription`` adds the source location and the raw libmosquitto return code.
public struct MQTTError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The category of an ``MQTTError``.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case invalidOptions
            case invalidArgument
            case notConnected
            case connectionLost
            case connectionRefused
            case lookupFailed
            case tls
            case timedOut
            case stopped
            case publishRejected
            case payloadTooLarge
            case protocolError
            case notSupported
            case outOfMemory
            case systemError
            case unknown
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// ``MQTTConnectionOptions`` or a subscription failed validation; the message names the field.
        public static let invalidOptions = Code(.invalidOptions)
        /// An argument of a call (topic, payload) is invalid, for example a topic with wildcards.
        public static let invalidArgument = Code(.invalidArgument)
        /// The client is not connected to the broker right now. Retryable.
        public static let notConnected = Code(.notConnected)
        /// The connection to the broker was lost. Retryable.
        public static let connectionLost = Code(.connectionLost)
        /// The broker refused the connection (CONNACK with a failure reason). Retryable.
        public static let connectionRefused = Code(.connectionRefused)
        /// The broker's host name could not be resolved. Retryable.
        public static let lookupFailed = Code(.lookupFailed)
        /// A TLS setup or handshake failure.
        public static let tls = Code(.tls)
        /// The operation did not complete in time. Retryable.
        public static let timedOut = Code(.timedOut)
        /// The client has been stopped.
        public static let stopped = Code(.stopped)
        /// The broker answered a publish with a failure reason code (MQTT v5 PUBACK reason ≥ 0x80).
        public static let publishRejected = Code(.publishRejected)
        /// The payload is larger than MQTT allows (268,435,455 bytes) or than the broker accepts.
        public static let payloadTooLarge = Code(.payloadTooLarge)
        /// The broker or the library reported an MQTT protocol violation. Retryable (reconnect).
        public static let protocolError = Code(.protocolError)
        /// The feature is not supported by the installed libmosquitto or the negotiated protocol.
        public static let notSupported = Code(.notSupported)
        /// libmosquitto could not allocate memory.
        public static let outOfMemory = Code(.outOfMemory)
        /// A system call failed (the message carries `strerror`). Retryable.
        public static let systemError = Code(.systemError)
        /// Any other libmosquitto failure.
        public static let unknown = Code(.unknown)

        /// Whether an operation that failed with this code may succeed when it is tried again later.
        public var isRetryable: Bool {
            switch self.base {
            case .notConnected, .connectionLost, .connectionRefused, .lookupFailed, .timedOut, .protocolError,
                .systemError:
                return true
            case .invalidOptions, .invalidArgument, .tls, .stopped, .publishRejected, .payloadTooLarge,
                .notSupported, .outOfMemory, .unknown:
                return false
            }
        }

        public var description: String {
            switch self.base {
            case .invalidOptions: return "invalidOptions"
            case .invalidArgument: return "invalidArgument"
            case .notConnected: return "notConnected"
            case .connectionLost: return "connectionLost"
            case .connectionRefused: return "connectionRefused"
            case .lookupFailed: return "lookupFailed"
            case .tls: return "tls"
            case .timedOut: return "timedOut"
            case .stopped: return "stopped"
            case .publishRejected: return "publishRejected"
            case .payloadTooLarge: return "payloadTooLarge"
            case .protocolError: return "protocolError"
            case .notSupported: return "notSupported"
            case .outOfMemory: return "outOfMemory"
            case .systemError: return "systemError"
            case .unknown: return "unknown"
            }
        }
    }

    /// What went wrong, as a category.
    public var code: Code
    /// A human-readable explanation. Never contains passwords or payload bytes.
    public var message: String
    /// The libmosquitto return code (`mosq_err_t`) or MQTT v5 reason code behind this error, if any.
    public var libraryCode: Int?
    /// The file that raised the error.
    public var file: String
    /// The line that raised the error.
    public var line: Int

    /// Whether trying the operation again later may succeed (e.g. once the client has reconnected).
    public var isRetryable: Bool { self.code.isRetryable }

    /// Creates an error.
    /// - Parameters:
    ///   - code: The category.
    ///   - message: An explanation; must not contain secrets or payload bytes.
    ///   - libraryCode: The libmosquitto return code or MQTT reason code, if any.
    ///   - file: The file that raised the error.
    ///   - line: The line that raised the error.
    public init(
        _ code: Code,
        _ message: String,
        libraryCode: Int? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.libraryCode = libraryCode
        self.file = file
        self.line = line
    }

    public var description: String {
        "MQTTError.\(self.code): \(self.message)"
    }

    public var debugDescription: String {
        var text = "MQTTError(code: \(self.code), message: \(self.message)"
        if let libraryCode = self.libraryCode {
            text += ", libraryCode: \(libraryCode)"
        }
        text += ", retryable: \(self.isRetryable), at: \(self.file):\(self.line))"
        return text
    }
}

extension MQTTError {
    /// The single conversion from a libmosquitto return code (`mosq_err_t`) to `MQTTError`.
    ///
    /// `MOSQ_ERR_INVAL` means the module called libmosquitto incorrectly (every user-supplied value is
    /// validated before it reaches the library), so it is a `precondition` unless `invalIsMisuse` is
    /// false. That exception exists for calls whose `MOSQ_ERR_INVAL` can come from the environment, e.g.
    /// `mosquitto_loop` when the socket number exceeds `FD_SETSIZE`.
    ///
    /// - Parameters:
    ///   - rc: The return code.
    ///   - operation: The libmosquitto function, for the message.
    ///   - invalIsMisuse: Whether `MOSQ_ERR_INVAL` is a programming error (default `true`).
    /// - Returns: `nil` for `MOSQ_ERR_SUCCESS`, otherwise the error.
    static func mosquitto(
        _ rc: Int32,
        _ operation: StaticString,
        invalIsMisuse: Bool = true,
        file: String = #fileID,
        line: Int = #line
    ) -> MQTTError? {
        if rc == MOSQ_ERR_SUCCESS.rawValue {
            return nil
        }
        if invalIsMisuse {
            precondition(
                rc != MOSQ_ERR_INVAL.rawValue,
                "\(operation) was called with invalid arguments (MOSQ_ERR_INVAL)"
            )
        }
        let code: Code
        switch rc {
        case MOSQ_ERR_NO_CONN.rawValue: code = .notConnected
        case MOSQ_ERR_CONN_LOST.rawValue, MOSQ_ERR_KEEPALIVE.rawValue: code = .connectionLost
        case MOSQ_ERR_CONN_REFUSED.rawValue, MOSQ_ERR_AUTH.rawValue, MOSQ_ERR_ADMINISTRATIVE_ACTION.rawValue:
            code = .connectionRefused
        case MOSQ_ERR_EAI.rawValue, MOSQ_ERR_LOOKUP.rawValue: code = .lookupFailed
        case MOSQ_ERR_TLS.rawValue, MOSQ_ERR_TLS_HANDSHAKE.rawValue, MOSQ_ERR_OCSP.rawValue: code = .tls
        case MOSQ_ERR_PAYLOAD_SIZE.rawValue, MOSQ_ERR_OVERSIZE_PACKET.rawValue: code = .payloadTooLarge
        case MOSQ_ERR_PROTOCOL.rawValue, MOSQ_ERR_MALFORMED_PACKET.rawValue, MOSQ_ERR_DUPLICATE_PROPERTY.rawValue,
            MOSQ_ERR_TOPIC_ALIAS_INVALID.rawValue:
            code = .protocolError
        case MOSQ_ERR_MALFORMED_UTF8.rawValue, MOSQ_ERR_INVAL.rawValue: code = .invalidArgument
        case MOSQ_ERR_NOT_SUPPORTED.rawValue, MOSQ_ERR_QOS_NOT_SUPPORTED.rawValue,
            MOSQ_ERR_RETAIN_NOT_SUPPORTED.rawValue:
            code = .notSupported
        case MOSQ_ERR_ACL_DENIED.rawValue: code = .publishRejected
        case MOSQ_ERR_NOMEM.rawValue: code = .outOfMemory
        case MOSQ_ERR_ERRNO.rawValue: code = .systemError
        case MOSQ_ERR_TIMEOUT.rawValue: code = .timedOut
        default: code = .unknown
        }
        // For MOSQ_ERR_ERRNO libmosquitto's strerror returns strerror(errno), read right here.
        let reason = String(cString: mosquitto_strerror(rc))
        return MQTTError(code, "\(operation) failed: \(reason)", libraryCode: Int(rc), file: file, line: line)
    }

    /// Throws the converted error unless `rc` is `MOSQ_ERR_SUCCESS`. See ``mosquitto(_:_:invalIsMisuse:file:line:)``.
    static func check(
        _ rc: Int32,
        _ operation: StaticString,
        file: String = #fileID,
        line: Int = #line
    ) throws(MQTTError) {
        if let error = MQTTError.mosquitto(rc, operation, file: file, line: line) {
            throw error
        }
    }
}
