import ArgumentParser
import Foundation
import GatewayCore
import Logging
import PostgresSink

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the gateway until SIGTERM or SIGINT. Migrations are applied at start."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try options.load()
        let logger = GatewayLogging.bootstrap(level: configuration.log.level)
        let runtime = try GatewayRuntime(configuration: configuration, logger: logger)
        logger.info(
            "meter-gateway starting",
            metadata: [
                "mqtt.broker": "\(configuration.mqtt.host):\(configuration.mqtt.port)",
                "mqtt.client.id": "\(configuration.mqtt.clientID)",
                "spool.directory": "\(configuration.spool.directory)",
            ]
        )
        try await runtime.run(logger: logger)
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the database migrations that are not applied yet, then exit."
    )

    @OptionGroup var options: ConfigOptions

    func run() async throws {
        let configuration = try options.load()
        let logger = GatewayLogging.bootstrap(level: configuration.log.level)
        let writer = TelemetryStore(
            conninfo: configuration.postgres.conninfo,
            logger: logger,
            rules: configuration.ticketRules
        )
        try await writer.connect()
        let applied = try await writer.migrate()
        await writer.close()
        let versions = applied.map(String.init).joined(separator: ", ")
        print(applied.isEmpty ? "database is up to date" : "applied migrations: \(versions)")
    }
}

struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode one frame given in hex and print it as one JSON object.",
        discussion: """
            Without --key the MAC is not verified and the output says "mac":"not_verified". \
            On bad input prints {"error":{"code":…,"message":…}} and exits with status 2.
            """
    )

    enum ProtocolName: String, ExpressibleByArgument, CaseIterable {
        case native, cjt188, wmbus, mbus
    }

    @Option(name: .long, help: "The frame's protocol: native, cjt188, wmbus or mbus.")
    var `protocol`: ProtocolName

    @Option(name: .long, help: "The meter's 16-byte AES key in hex, to verify the MAC (native) or decrypt (OMS).")
    var key: String?

    @Argument(help: "The frame in hex (spaces allowed).")
    var hex: String

    func run() throws {
        let (output, failed) = Self.render(protocol: self.protocol, keyHex: key, frameHex: hex)
        print(output)
        if failed { throw ExitCode(2) }
    }

    /// The JSON output and whether it is an error. Separate from `run` so tests can call it.
    static func render(protocol name: ProtocolName, keyHex: String?, frameHex: String) -> (String, Bool) {
        func failure(_ code: String, _ message: String) -> (String, Bool) {
            let object = ["error": ["code": code, "message": message]]
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            return (String(decoding: data, as: UTF8.self), true)
        }
        guard let bytes = Hex.decode(frameHex) else {
            return failure("bad_hex", "the frame is not valid hexadecimal (an even number of 0-9/A-F digits)")
        }
        var key: AES128Key?
        if let keyHex {
            guard let parsed = AES128Key(hex: keyHex) else {
                return failure("bad_key", "the key must be 32 hexadecimal digits (16 bytes)")
            }
            key = parsed
        }
        switch name {
        case .native:
            let result = bytes.withUnsafeBytes { raw in
                Result { () throws(FrameDecodingError) -> NativeFrame in
                    if let key { return try NativeDecoder.decode(raw) { _ in key } }
                    return try NativeDecoder.decodeWithoutVerifyingMAC(raw)
                }
            }
            switch result {
            case .success(let frame): return (frame.renderJSON(), false)
            case .failure(let error): return (error.renderJSON(), true)
            }
        case .cjt188:
            let result = bytes.withUnsafeBytes { raw in
                Result { () throws(FrameDecodingError) -> CJT188Frame in try CJT188Decoder.decode(raw) }
            }
            switch result {
            case .success(let frame): return (frame.renderJSON(), false)
            case .failure(let error): return (error.renderJSON(), true)
            }
        case .wmbus:
            // The decode tool accepts "already decrypted" test-data frames; the decoder only takes that path when
            // no --key is given (with a key such a frame is an already_decrypted error).
            let result = bytes.withUnsafeBytes { raw in
                Result { () throws(FrameDecodingError) -> MBusFrame in
                    try MBusDecoder.decodeWireless(raw, key: { _ in key }, allowAlreadyDecrypted: true)
                }
            }
            switch result {
            case .success(let frame): return (frame.renderJSON(), false)
            case .failure(let error): return (error.renderJSON(), true)
            }
        case .mbus:
            let result = bytes.withUnsafeBytes { raw in
                Result { () throws(FrameDecodingError) -> MBusFrame in
                    try MBusDecoder.decodeWired(raw, key: { _ in key }, allowAlreadyDecrypted: true)
                }
            }
            switch result {
            case .success(let frame): return (frame.renderJSON(), false)
            case .failure(let error): return (error.renderJSON(), true)
            }
        }
    }
}
