#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The MQTT protocol version the client speaks.
public enum MQTTProtocolVersion: Sendable, Hashable, CustomStringConvertible {
    /// MQTT 5.0: session expiry, receive maximum and PUBACK reason codes are available.
    case v5
    /// MQTT 3.1.1: sessions with `cleanStart == false` last as long as the broker keeps them
    /// (mosquitto: `persistent_client_expiration`).
    case v3_1_1

    public var description: String {
        switch self {
        case .v5: return "5"
        case .v3_1_1: return "3.1.1"
        }
    }
}

/// TLS settings for the connection to the broker.
///
/// The broker's certificate is always verified against ``caFile``. ``verifyHostname`` (on by default) additionally
/// checks that the certificate names the host that was dialled; with it off, ``MosquittoClient`` logs a warning
/// each time one is created.
public struct MQTTTLSOptions: Sendable, Hashable {
    /// PEM file with the certificate authorities that sign the broker's certificate.
    public var caFile: String
    /// PEM client certificate for mutual TLS; requires ``keyFile``.
    public var certFile: String?
    /// PEM private key of ``certFile``; must not be encrypted.
    public var keyFile: String?
    /// Whether the broker certificate must match the host name (default `true`).
    public var verifyHostname: Bool

    /// Creates TLS settings.
    /// - Parameters:
    ///   - caFile: PEM file with the trusted certificate authorities.
    ///   - certFile: Client certificate for mutual TLS, or `nil`.
    ///   - keyFile: Private key of `certFile`, or `nil`.
    ///   - verifyHostname: Whether the broker certificate must match the host name.
    public init(caFile: String, certFile: String? = nil, keyFile: String? = nil, verifyHostname: Bool = true) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.verifyHostname = verifyHostname
    }
}

/// How ``MosquittoClient`` connects to the broker.
///
/// The defaults describe a durable ingest subscriber: MQTT v5, a fixed client id, `cleanStart == false`
/// and a session that outlives the connection by ``sessionExpirySeconds``, so that QoS 1 messages
/// published while the gateway is down or restarting are queued by the broker and delivered on reconnect.
///
/// Call ``validate()`` to check the values; ``MosquittoClient/init(options:subscriptions:logger:onMessage:)``
/// does so as well. The password is never part of ``description``, ``debugDescription`` or `dump` output.
public struct MQTTConnectionOptions: Sendable, Hashable {
    /// Broker host name or IP address.
    public var host: String
    /// Broker TCP port, 1…65535 (default 1883).
    public var port: Int
    /// Fixed client identifier. Required: the broker keys the persistent session by it.
    public var clientID: String
    /// User name, or `nil` for anonymous access.
    public var username: String?
    /// Password; requires ``username``. Never logged or printed.
    public var password: String?
    /// TLS settings, or `nil` for plain TCP.
    public var tls: MQTTTLSOptions?
    /// Keep-alive interval in seconds, 5…65535 (default 30). Note that a blocked message handler also
    /// stalls keep-alive pings, so handlers must not block for more than about 1.5 × this value.
    public var keepAliveSeconds: Int
    /// Protocol version (default ``MQTTProtocolVersion/v5``).
    public var protocolVersion: MQTTProtocolVersion
    /// Whether the broker discards the previous session on connect (default `false`).
    public var cleanStart: Bool
    /// MQTT v5 session expiry interval in seconds (default 7 days). `UInt32.max` means "never expires".
    /// Ignored for MQTT 3.1.1.
    public var sessionExpirySeconds: UInt32
    /// MQTT v5 receive maximum: how many unacknowledged QoS 1/2 messages the broker may have in flight
    /// to this client, 1…65535, or `nil` for the libmosquitto default (20). Ignored for MQTT 3.1.1.
    public var receiveMaximum: Int?
    /// Smallest delay before a reconnection attempt (default 0.5 s).
    public var reconnectMinimumDelay: Duration
    /// Largest delay before a reconnection attempt (default 30 s).
    public var reconnectMaximumDelay: Duration
    /// A retained topic that tells subscribers whether this client is connected, or `nil` (default) for none: the
    /// client publishes ``statusOnline`` there (retained, QoS 1) after every successful connect, registers
    /// ``statusOffline`` as its last will (retained, QoS 1: the broker publishes it when the connection drops without
    /// a DISCONNECT — a crash, a kill, a network loss past the keep-alive) and publishes ``statusOffline`` itself
    /// before a clean disconnect, which suppresses the will.
    public var statusTopic: String?
    /// The payload of ``statusTopic`` while connected.
    public static let statusOnline = "online"
    /// The payload of ``statusTopic`` once disconnected.
    public static let statusOffline = "offline"

    /// The default session expiry: 7 days.
    public static let defaultSessionExpirySeconds: UInt32 = 7 * 24 * 60 * 60

    /// Creates connection options.
    /// - Parameters:
    ///   - host: Broker host name or address.
    ///   - port: Broker TCP port.
    ///   - clientID: Fixed client identifier (required for the persistent session).
    ///   - username: User name, or `nil`.
    ///   - password: Password, or `nil`; requires `username`.
    ///   - tls: TLS settings, or `nil` for plain TCP.
    ///   - keepAliveSeconds: Keep-alive interval in seconds.
    ///   - protocolVersion: MQTT protocol version.
    ///   - cleanStart: Whether to discard the previous session.
    ///   - sessionExpirySeconds: MQTT v5 session expiry interval.
    ///   - receiveMaximum: MQTT v5 receive maximum, or `nil` for the library default.
    ///   - reconnectMinimumDelay: Smallest reconnect delay.
    ///   - reconnectMaximumDelay: Largest reconnect delay.
    public init(
        host: String,
        port: Int = 1883,
        clientID: String,
        username: String? = nil,
        password: String? = nil,
        tls: MQTTTLSOptions? = nil,
        keepAliveSeconds: Int = 30,
        protocolVersion: MQTTProtocolVersion = .v5,
        cleanStart: Bool = false,
        sessionExpirySeconds: UInt32 = MQTTConnectionOptions.defaultSessionExpirySeconds,
        receiveMaximum: Int? = nil,
        reconnectMinimumDelay: Duration = .milliseconds(500),
        reconnectMaximumDelay: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.clientID = clientID
        self.username = username
        self.password = password
        self.tls = tls
        self.keepAliveSeconds = keepAliveSeconds
        self.protocolVersion = protocolVersion
        self.cleanStart = cleanStart
        self.sessionExpirySeconds = sessionExpirySeconds
        self.receiveMaximum = receiveMaximum
        self.reconnectMinimumDelay = reconnectMinimumDelay
        self.reconnectMaximumDelay = reconnectMaximumDelay
    }

    /// Checks every field.
    /// - Throws: ``MQTTError`` with code ``MQTTError/Code/invalidOptions`` whose message names the field.
    public func validate() throws(MQTTError) {
        try Self.requireText(self.host, field: "host")
        guard (1...65_535).contains(self.port) else {
            throw Self.invalid("port must be in 1...65535 (got \(self.port))")
        }
        try Self.requireText(self.clientID, field: "clientID")
        if let username {
            try Self.requireText(username, field: "username", allowEmpty: true)
        }
        if let password {
            guard self.username != nil else {
                throw Self.invalid("password is set but username is nil; MQTT requires a user name with a password")
            }
            // The value itself is never echoed back.
            guard !password.utf8.contains(0), password.utf8.count <= 65_535 else {
                throw Self.invalid("password must be at most 65535 UTF-8 bytes without NUL characters")
            }
        }
        guard (5...65_535).contains(self.keepAliveSeconds) else {
            throw Self.invalid("keepAliveSeconds must be in 5...65535 (got \(self.keepAliveSeconds))")
        }
        if let receiveMaximum {
            guard (1...65_535).contains(receiveMaximum) else {
                throw Self.invalid("receiveMaximum must be in 1...65535 (got \(receiveMaximum))")
            }
        }
        guard self.reconnectMinimumDelay > .zero else {
            throw Self.invalid("reconnectMinimumDelay must be positive (got \(self.reconnectMinimumDelay))")
        }
        guard self.reconnectMaximumDelay >= self.reconnectMinimumDelay else {
            throw Self.invalid(
                "reconnectMaximumDelay (\(self.reconnectMaximumDelay)) must not be smaller than reconnectMinimumDelay (\(self.reconnectMinimumDelay))"
            )
        }
        if let statusTopic {
            try Self.requireText(statusTopic, field: "statusTopic")
            guard !statusTopic.contains(where: { $0 == "+" || $0 == "#" }) else {
                throw Self.invalid("statusTopic must not contain the wildcards + or # (got \(statusTopic))")
            }
        }
        if let tls {
            try Self.requireReadableFile(tls.caFile, field: "tls.caFile")
            switch (tls.certFile, tls.keyFile) {
            case (nil, nil):
                break
            case (let certFile?, let keyFile?):
                try Self.requireReadableFile(certFile, field: "tls.certFile")
                try Self.requireReadableFile(keyFile, field: "tls.keyFile")
            case (.some, nil):
                throw Self.invalid("tls.certFile is set but tls.keyFile is nil; both or neither are required")
            case (nil, .some):
                throw Self.invalid("tls.keyFile is set but tls.certFile is nil; both or neither are required")
            }
        }
    }

    private static func invalid(_ message: String, file: String = #fileID, line: Int = #line) -> MQTTError {
        MQTTError(.invalidOptions, "MQTTConnectionOptions.\(message)", file: file, line: line)
    }

    private static func requireText(
        _ value: String,
        field: String,
        allowEmpty: Bool = false,
        file: String = #fileID,
        line: Int = #line
    ) throws(MQTTError) {
        if !allowEmpty && value.isEmpty {
            throw Self.invalid("\(field) must not be empty", file: file, line: line)
        }
        if value.utf8.contains(0) {
            throw Self.invalid("\(field) must not contain NUL characters", file: file, line: line)
        }
        if value.utf8.count > 65_535 {
            throw Self.invalid("\(field) must be at most 65535 UTF-8 bytes", file: file, line: line)
        }
    }

    private static func requireReadableFile(_ path: String, field: String) throws(MQTTError) {
        try Self.requireText(path, field: field)
        guard access(path, R_OK) == 0 else {
            throw Self.invalid("\(field) is not a readable file: \(path)")
        }
    }
}

extension MQTTConnectionOptions: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        var text = "MQTTConnectionOptions(host: \(self.host), port: \(self.port), clientID: \(self.clientID)"
        if let username {
            text += ", username: \(username), password: \(self.password == nil ? "nil" : "<redacted>")"
        }
        text += ", tls: \(self.tls == nil ? "off" : "on"), keepAliveSeconds: \(self.keepAliveSeconds)"
        text += ", protocolVersion: \(self.protocolVersion), cleanStart: \(self.cleanStart)"
        text += ", sessionExpirySeconds: \(self.sessionExpirySeconds)"
        text += ", receiveMaximum: \(self.receiveMaximum.map(String.init) ?? "default")"
        text += ", reconnectDelay: \(self.reconnectMinimumDelay)...\(self.reconnectMaximumDelay))"
        return text
    }

    public var debugDescription: String { self.description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "host": self.host,
                "port": self.port,
                "clientID": self.clientID,
                "username": self.username as Any,
                "password": (self.password == nil ? "nil" : "<redacted>") as Any,
                "tls": self.tls as Any,
                "keepAliveSeconds": self.keepAliveSeconds,
                "protocolVersion": self.protocolVersion,
                "cleanStart": self.cleanStart,
                "sessionExpirySeconds": self.sessionExpirySeconds,
                "receiveMaximum": self.receiveMaximum as Any,
                "reconnectMinimumDelay": self.reconnectMinimumDelay,
                "reconnectMaximumDelay": self.reconnectMaximumDelay,
            ],
            displayStyle: .struct
        )
    }
}
