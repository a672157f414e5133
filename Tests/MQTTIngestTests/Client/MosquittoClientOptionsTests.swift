import Logging
import Testing

@testable import MQTTIngest

@Suite struct MosquittoClientOptionsTests {
    static func options(_ change: (inout MQTTConnectionOptions) -> Void = { _ in }) -> MQTTConnectionOptions {
        var options = MQTTConnectionOptions(host: "127.0.0.1", port: 1883, clientID: "gateway-1")
        change(&options)
        return options
    }

    static func validationMessage(_ options: MQTTConnectionOptions) -> String? {
        do {
            try options.validate()
            return nil
        } catch {
            #expect(error.code == .invalidOptions)
            #expect(!error.isRetryable)
            return error.message
        }
    }

    @Test func defaultsDescribeADurableSubscriber() throws {
        let options = Self.options()
        #expect(options.protocolVersion == .v5)
        #expect(options.cleanStart == false)
        #expect(options.sessionExpirySeconds == 7 * 24 * 3600)
        #expect(options.keepAliveSeconds == 30)
        #expect(options.reconnectMinimumDelay == .milliseconds(500))
        #expect(options.reconnectMaximumDelay == .seconds(30))
        #expect(options.tls == nil)
        #expect(options.statusTopic == nil)
        try options.validate()
    }

    @Test(arguments: [
        ("host", Self.options { $0.host = "" }),
        ("port", Self.options { $0.port = 0 }),
        ("port", Self.options { $0.port = 65_536 }),
        ("clientID", Self.options { $0.clientID = "" }),
        ("clientID", Self.options { $0.clientID = "gw\u{0}1" }),
        ("password", Self.options { $0.password = "secret" }),
        ("keepAliveSeconds", Self.options { $0.keepAliveSeconds = 4 }),
        ("keepAliveSeconds", Self.options { $0.keepAliveSeconds = 70_000 }),
        ("receiveMaximum", Self.options { $0.receiveMaximum = 0 }),
        ("receiveMaximum", Self.options { $0.receiveMaximum = 65_536 }),
        ("reconnectMinimumDelay", Self.options { $0.reconnectMinimumDelay = .zero }),
        ("reconnectMaximumDelay", Self.options { $0.reconnectMaximumDelay = .milliseconds(100) }),
        ("statusTopic", Self.options { $0.statusTopic = "" }),
        ("statusTopic", Self.options { $0.statusTopic = "gm/v1/status/#" }),
        ("statusTopic", Self.options { $0.statusTopic = "gm/+/status/gw" }),
        ("tls.caFile", Self.options { $0.tls = MQTTTLSOptions(caFile: "/nonexistent/ca.pem") }),
        ("tls.keyFile", Self.options { $0.tls = MQTTTLSOptions(caFile: "/etc/hostname", certFile: "/etc/hostname") }),
        ("tls.certFile", Self.options { $0.tls = MQTTTLSOptions(caFile: "/etc/hostname", keyFile: "/etc/hostname") }),
    ])
    func rejectsInvalidFieldNamingIt(field: String, options: MQTTConnectionOptions) throws {
        let message = try #require(Self.validationMessage(options))
        #expect(message.contains(field), "message '\(message)' should name \(field)")
    }

    @Test func acceptsBoundaryValues() throws {
        try Self.options {
            $0.port = 65_535
            $0.keepAliveSeconds = 5
            $0.receiveMaximum = 1
            $0.username = "gateway"
            $0.password = "secret"
            $0.reconnectMinimumDelay = .seconds(1)
            $0.reconnectMaximumDelay = .seconds(1)
            $0.protocolVersion = .v3_1_1
        }.validate()
    }

    @Test func passwordNeverAppearsInDescriptionsOrErrors() {
        let password = "hunter2-super-secret"
        let options = Self.options {
            $0.username = "gateway"
            $0.password = password
        }
        #expect(!options.description.contains(password))
        #expect(!options.debugDescription.contains(password))
        #expect(!String(describing: options).contains(password))
        #expect(!String(reflecting: options).contains(password))
        var dumped = ""
        dump(options, to: &dumped)
        #expect(!dumped.contains(password))
        #expect(options.description.contains("<redacted>"))

        var invalid = options
        invalid.keepAliveSeconds = 1
        let message = Self.validationMessage(invalid) ?? ""
        #expect(!message.contains(password))
    }

    @Test func subscriptionFiltersAreValidated() throws {
        try MQTTSubscription(filter: "meters/+/up/#").validate()
        try MQTTSubscription(filter: "$share/gateway/meters/#", qos: .exactlyOnce).validate()
        for bad in ["", "meters/#/x", "meters/a+/b", "x\u{0}y"] {
            #expect(throws: MQTTError.self) { try MQTTSubscription(filter: bad).validate() }
        }
    }

    @Test func clientInitRejectsInvalidSubscription() {
        #expect {
            _ = try MosquittoClient(
                options: Self.options(),
                subscriptions: [MQTTSubscription(filter: "a/#/b")],
                logger: Logger(label: "test"),
                onMessage: { _ in }
            )
        } throws: { error in
            (error as? MQTTError)?.code == .invalidOptions
        }
    }

    @Test func errorCodesClassifyRetryability() {
        #expect(MQTTError.Code.notConnected.isRetryable)
        #expect(MQTTError.Code.connectionLost.isRetryable)
        #expect(MQTTError.Code.timedOut.isRetryable)
        #expect(!MQTTError.Code.invalidOptions.isRetryable)
        #expect(!MQTTError.Code.stopped.isRetryable)
        #expect(!MQTTError.Code.publishRejected.isRetryable)
        let error = MQTTError(.notConnected, "not connected")
        #expect(error.description == "MQTTError.notConnected: not connected")
        #expect(error.debugDescription.contains("MosquittoClientOptionsTests.swift"))
    }

    @Test func libmosquittoCodesConvert() throws {
        #expect(MQTTError.mosquitto(0, "op") == nil)
        let noConnection = try #require(MQTTError.mosquitto(4, "mosquitto_publish"))  // MOSQ_ERR_NO_CONN
        #expect(noConnection.code == .notConnected)
        #expect(noConnection.isRetryable)
        #expect(noConnection.libraryCode == 4)
        let lost = try #require(MQTTError.mosquitto(7, "mosquitto_loop"))  // MOSQ_ERR_CONN_LOST
        #expect(lost.code == .connectionLost)
        #expect(lost.isRetryable)
        let environmentalInval = try #require(MQTTError.mosquitto(3, "mosquitto_loop", invalIsMisuse: false))
        #expect(environmentalInval.code == .invalidArgument)
    }

    @Test func backoffUsesFullJitterWithinGrowingCappedWindow() {
        var backoff = MQTTReconnectBackoff(minimum: .milliseconds(500), maximum: .seconds(30))
        var generator = SystemRandomNumberGenerator()
        let expectedCeilings: [Duration] = [
            .milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30),
            .seconds(30), .seconds(30),
        ]
        for ceiling in expectedCeilings {
            #expect(backoff.currentCeiling == ceiling)
            let delay = backoff.nextDelay(using: &generator)
            #expect(delay >= .milliseconds(500) && delay <= ceiling)
        }
        for _ in 0..<1_000 {
            _ = backoff.nextDelay(using: &generator)
        }
        #expect(backoff.currentCeiling == .seconds(30))
        backoff.reset()
        #expect(backoff.currentCeiling == .milliseconds(500))
        #expect(backoff.nextDelay(using: &generator) == .milliseconds(500))
    }

    @Test func backoffDelaysAreSpreadOut() {
        var generator = SystemRandomNumberGenerator()
        var delays = Set<Duration>()
        for _ in 0..<50 {
            var backoff = MQTTReconnectBackoff(minimum: .milliseconds(500), maximum: .seconds(30))
            for _ in 0..<6 { _ = backoff.nextDelay(using: &generator) }
            delays.insert(backoff.nextDelay(using: &generator))
        }
        #expect(delays.count > 40)
    }

    @Test func ackRegistryResolvesAcksThatArriveBeforeTheWaiterIsAttached() async throws {
        let registry = MQTTPublishAckRegistry()
        registry.beginRegistration()
        registry.complete(mid: 7, reasonCode: 0)  // PUBACK processed before the publisher learnt mid 7
        let waiter = MQTTPublishAckWaiter()
        registry.attach(waiter, to: 7)
        try await waiter.wait()

        registry.beginRegistration()
        let rejected = MQTTPublishAckWaiter()
        registry.attach(rejected, to: 8)
        registry.complete(mid: 8, reasonCode: 0x87)  // not authorized
        await #expect(throws: MQTTError.self) { try await rejected.wait() }

        // Acks without a registration in progress are not retained.
        registry.complete(mid: 9, reasonCode: 0)
        registry.beginRegistration()
        let late = MQTTPublishAckWaiter()
        registry.attach(late, to: 9)
        registry.failAll(MQTTError(.stopped, "stopped"))
        await #expect(throws: MQTTError.self) { try await late.wait() }
    }
}
