import GatewayCore
import MQTTIngest

extension GatewayConfiguration {
    /// `[mqtt]`: the broker connection: address, identity, session, subscription and reconnect settings.
    ///
    /// Each property is one row of ``settings``, which holds its TOML key, range and help text.
    struct MQTT: Sendable, Equatable {
        var host = "127.0.0.1"
        var port = 1883
        var clientID = "meter-gateway-1"
        var username = ""
        var password = ""
        /// Send the password to a non-loopback broker without TLS.
        var allowPlaintextCredentials = false
        var keepAliveSeconds = 30
        var sessionExpirySeconds = 7 * 24 * 3600
        var receiveMaximum = 200
        var topicPrefix = "gm/v1"
        var sharedGroup = ""
        var sharedSessionExpirySeconds = 0
        var maxPayloadBytes = AdmissionLadder.defaultMaxPayloadBytes
        var reconnectMinMilliseconds = 500
        var reconnectMaxMilliseconds = 30_000
        /// Keep a retained `online`/`offline` status on `<prefix>/status/<client id>` (last will included).
        var publishesStatus = true
        /// Republish each stored frame as JSON on `<prefix>/decoded/<protocol>/<meter id>`.
        var publishesDecoded = false
        var tls = TLS()

        /// `[mqtt.tls]`: TLS towards the broker, with an optional client certificate for mutual TLS.
        struct TLS: Sendable, Equatable {
            var isEnabled = false
            var caFile = ""
            var certFile = ""
            var keyFile = ""
            var verifyHostname = true
        }
    }
}

extension GatewayConfiguration.MQTT {
    /// The `[mqtt]` and `[mqtt.tls]` settings, in the order of the example file.
    static let settings: [Setting] = [
        Setting(
            section: "mqtt",
            key: "host",
            kind: .string(\.mqtt.host, isSecret: false, allowed: nil),
            help: "Broker host name or address."
        ),
        Setting(
            section: "mqtt",
            key: "port",
            kind: .integer(\.mqtt.port, range: 1...65535),
            help: "Broker port (1883 plain, 8883 TLS by convention)."
        ),
        Setting(
            section: "mqtt",
            key: "client_id",
            kind: .string(\.mqtt.clientID, isSecret: false, allowed: nil),
            help:
                "Fixed client id. With clean start off the broker keeps this session's queued QoS 1 frames while the gateway is down; give every instance its own id."
        ),
        Setting(
            section: "mqtt",
            key: "username",
            kind: .string(\.mqtt.username, isSecret: false, allowed: nil),
            help: "User name; empty for none."
        ),
        Setting(
            section: "mqtt",
            key: "password",
            kind: .string(\.mqtt.password, isSecret: true, allowed: nil),
            help: "Password; empty for none. Prefer a secret file (password_file) or the environment to this file."
        ),
        Setting(
            section: "mqtt",
            key: "allow_plaintext_credentials",
            kind: .boolean(\.mqtt.allowPlaintextCredentials),
            help:
                "Start although mqtt.password would be sent without TLS to a broker that is not on loopback "
                + "(anyone on the path reads it). Leave off; enable [mqtt.tls] instead."
        ),
        Setting(
            section: "mqtt",
            key: "keepalive_seconds",
            kind: .integer(\.mqtt.keepAliveSeconds, range: 5...3600),
            help: "MQTT keep-alive interval."
        ),
        Setting(
            section: "mqtt",
            key: "session_expiry_seconds",
            kind: .integer(\.mqtt.sessionExpirySeconds, range: 0...Int(UInt32.max)),
            help:
                "MQTT v5 session expiry: how long the broker keeps the session (and queues frames) after a disconnect."
        ),
        Setting(
            section: "mqtt",
            key: "receive_maximum",
            kind: .integer(\.mqtt.receiveMaximum, range: 1...65535),
            help:
                "MQTT v5 receive maximum: QoS 1 frames the broker may have in flight to the gateway (sent in CONNECT; "
                + "it overrides the broker's max_inflight_messages, 20 by default in mosquitto, for this client). "
                + "Frames are acknowledged once per burst, after that burst's fdatasync, so one connection takes at "
                + "most this many frames per spool sync: 200 allows ~20,000 frames/s at a 10 ms sync. Larger values "
                + "let bursts grow on slow disks, and widen the shared-group loss window (see mqtt.shared_group)."
        ),
        Setting(
            section: "mqtt",
            key: "topic_prefix",
            kind: .string(\.mqtt.topicPrefix, isSecret: false, allowed: nil),
            help:
                "Topic prefix. Uplinks: <prefix>/up/<protocol>/<meter id>; downlinks: <prefix>/down/<protocol>/<meter id>."
        ),
        Setting(
            section: "mqtt",
            key: "status",
            kind: .boolean(\.mqtt.publishesStatus),
            help:
                "Keep a retained status on <topic_prefix>/status/<client_id>: `online` after every connect, `offline` "
                + "before a clean disconnect and as the connection's last will (the broker publishes it when the "
                + "gateway dies or loses the network). The broker's ACL must let the gateway write there."
        ),
        Setting(
            section: "mqtt",
            key: "publish_decoded",
            kind: .boolean(\.mqtt.publishesDecoded),
            help:
                "Republish every stored frame (not duplicates, not quarantined ones) as JSON on "
                + "<topic_prefix>/decoded/<protocol>/<meter id> at QoS 1, after its commit, for Node-RED, Telegraf or "
                + "Home Assistant. Costs about one MQTT message per frame; off by default."
        ),
        Setting(
            section: "mqtt",
            key: "shared_group",
            kind: .string(\.mqtt.sharedGroup, isSecret: false, allowed: nil),
            help:
                "If set, subscribe as $share/<group>/… so several instances split the fleet (MQTT v5 shared subscription). "
                + "Each instance then connects with clean start and mqtt.shared_session_expiry_seconds instead of a "
                + "persistent session: a persistent member that dies would keep its share of frames, alarms included, "
                + "queued at the broker until its session expires; a clean member's share goes to the living members "
                + "at once. Frames in flight to a member when it dies (at most mqtt.receive_maximum, acknowledged by "
                + "the broker's rules only) are lost inside the broker: native meters resend them (no app ack), other "
                + "protocols' frames in that window are lost."
        ),
        Setting(
            section: "mqtt",
            key: "shared_session_expiry_seconds",
            kind: .integer(\.mqtt.sharedSessionExpirySeconds, range: 0...3600),
            help:
                "Session expiry of an instance in a shared group (clean start). 0 hands a dead member's share to the "
                + "others at once; a few seconds let a member that restarts at once keep its in-flight frames."
        ),
        Setting(
            section: "mqtt",
            key: "max_payload_bytes",
            kind: .integer(\.mqtt.maxPayloadBytes, range: 64...1_048_576),
            help:
                "Largest payload admitted (default: a little above the largest frame a supported protocol allows). "
                + "A larger one is quarantined as frame_too_large with its first 64 bytes and its size, never spooled whole."
        ),
        Setting(
            section: "mqtt",
            key: "reconnect_min_ms",
            kind: .integer(\.mqtt.reconnectMinMilliseconds, range: 10...600_000),
            help: "Shortest reconnect delay."
        ),
        Setting(
            section: "mqtt",
            key: "reconnect_max_ms",
            kind: .integer(\.mqtt.reconnectMaxMilliseconds, range: 100...3_600_000),
            help: "Longest reconnect delay; delays grow exponentially with full jitter up to this."
        ),
        Setting(section: "mqtt.tls", key: "enabled", kind: .boolean(\.mqtt.tls.isEnabled), help: "Connect with TLS."),
        Setting(
            section: "mqtt.tls",
            key: "ca_file",
            kind: .string(\.mqtt.tls.caFile, isSecret: false, allowed: nil),
            help: "PEM file of trusted CAs (required with TLS)."
        ),
        Setting(
            section: "mqtt.tls",
            key: "cert_file",
            kind: .string(\.mqtt.tls.certFile, isSecret: false, allowed: nil),
            help: "Client certificate (PEM) for mutual TLS; empty for none."
        ),
        Setting(
            section: "mqtt.tls",
            key: "key_file",
            kind: .string(\.mqtt.tls.keyFile, isSecret: false, allowed: nil),
            help: "Client private key (PEM) for mutual TLS; empty for none."
        ),
        Setting(
            section: "mqtt.tls",
            key: "verify_hostname",
            kind: .boolean(\.mqtt.tls.verifyHostname),
            help:
                "Check that the broker certificate names mqtt.host (on by default). Off, any certificate of the CA is "
                + "accepted for any host, and every start logs a warning."
        ),
    ]
}

extension GatewayConfiguration.MQTT {
    /// The MQTT client options these settings describe.
    var connectionOptions: MQTTConnectionOptions {
        var options = MQTTConnectionOptions(host: host, port: port, clientID: clientID)
        options.username = username.isEmpty ? nil : username
        options.password = password.isEmpty ? nil : password
        options.keepAliveSeconds = keepAliveSeconds
        options.sessionExpirySeconds = UInt32(sessionExpirySeconds)
        options.receiveMaximum = receiveMaximum
        if sharedGroup.isEmpty {
            options.cleanStart = false
        } else {
            // A persistent member that dies would strand its share of the fleet at the broker (see the
            // mqtt.shared_group setting).
            options.cleanStart = true
            options.sessionExpirySeconds = UInt32(sharedSessionExpirySeconds)
        }
        options.reconnectMinimumDelay = .milliseconds(reconnectMinMilliseconds)
        options.reconnectMaximumDelay = .milliseconds(reconnectMaxMilliseconds)
        if tls.isEnabled {
            options.tls = MQTTTLSOptions(
                caFile: tls.caFile,
                certFile: tls.certFile.isEmpty ? nil : tls.certFile,
                keyFile: tls.keyFile.isEmpty ? nil : tls.keyFile,
                verifyHostname: tls.verifyHostname
            )
        }
        return options
    }

    /// Where the retained `online`/`offline` status of this gateway is kept (`mqtt.status`).
    var statusTopic: String { "\(topicPrefix)/status/\(clientID)" }

    /// The ingest connection's options: ``connectionOptions`` with the retained status and its last will
    /// (`mqtt.status`). Only this connection speaks for the gateway's status; the dispatch connection, the
    /// simulators and the reference consumer, whose options derive from ``connectionOptions``, do not.
    var ingestConnectionOptions: MQTTConnectionOptions {
        var options = connectionOptions
        options.statusTopic = publishesStatus ? statusTopic : nil
        return options
    }

    /// The options of the dispatch service's own, publish-only connection: the ingest connection's broker,
    /// credentials and TLS, the client id with `-dispatch` appended, a clean session and no subscriptions.
    ///
    /// Ticket events do not share the ingest connection: its network thread makes each burst of uplink frames
    /// durable (`fdatasync`) before it writes anything, so a dispatch message published there waited behind the
    /// fleet's bursts (measured: NOTIFY → dispatch topic p99 32 ms on the shared connection, 3.1 ms on its own).
    var dispatchConnectionOptions: MQTTConnectionOptions {
        var options = connectionOptions
        options.clientID = clientID + "-dispatch"
        options.cleanStart = true
        options.sessionExpirySeconds = 0
        options.receiveMaximum = nil
        return options
    }
}
