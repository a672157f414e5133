import ArgumentParser
import Foundation
import GatewayCore
import GatewayHTTP
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
            Keys are sorted; decimal values are exact JSON numbers. \
            Without a key the MAC is not verified and the output says "mac":"not_verified". \
            Give a real meter's key with --key-file FILE or --key - (read from standard input): a key written on \
            the command line (--key HEX) is visible to every user of the host in the process list and stays in the \
            shell history, so it is accepted for published test vectors only, with a warning on standard error. \
            On bad input prints {"error":{"code":…,"message":…}} and exits with status 2.
            """
    )

    enum ProtocolName: String, ExpressibleByArgument, CaseIterable {
        case native, cjt188, wmbus, mbus
    }

    @Option(name: .long, help: "The frame's protocol: native, cjt188, wmbus or mbus.")
    var `protocol`: ProtocolName

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The meter's 16-byte AES key in hex, to verify the MAC (native) or decrypt (OMS); - reads it from "
                + "standard input. A key given here is visible in the process list: use it for test vectors only."
        )
    )
    var key: String?

    @Option(name: .long, help: "A file holding the meter's key in hex (the safe way to give a real key).")
    var keyFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "wmbus/mbus compact frames (CI 79, 7B, 73): the DIF/VIF chain of an earlier full frame of the meter in "
                + "hex (repeatable); the one whose format signature the frame names is used."
        )
    )
    var layout: [String] = []

    @Argument(help: "The frame in hex (spaces allowed).")
    var hex: String

    func validate() throws {
        if key != nil && keyFile != nil { throw ValidationError("give the key with --key or --key-file, not both") }
    }

    func run() throws {
        let keyHex: String?
        switch (key, keyFile) {
        case ("-", _):
            keyHex = Self.trimmed(String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self))
        case (let argument?, _):
            FileHandle.standardError.write(
                Data(
                    ("warning: a key given with --key is visible to other users in the process list and stays in "
                        + "the shell history; use --key-file FILE or --key - for a real meter's key\n").utf8
                )
            )
            keyHex = argument
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read the key file \(path)")
            }
            keyHex = Self.trimmed(String(decoding: data, as: UTF8.self))
        case (nil, nil):
            keyHex = nil
        }
        let (output, failed) = Self.render(protocol: self.protocol, keyHex: keyHex, frameHex: hex, layouts: layout)
        print(output)
        if failed { throw ExitCode(2) }
    }

    /// A key read from a file or standard input, without surrounding white space (a trailing newline).
    private static func trimmed(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The JSON output and whether it is an error. Separate from `run` so tests can call it.
    static func render(
        protocol name: ProtocolName,
        keyHex: String?,
        frameHex: String,
        layouts layoutHex: [String] = []
    ) -> (String, Bool) {
        guard let bytes = Hex.decode(frameHex) else {
            let message = "the frame is not valid hexadecimal (an even number of 0-9/A-F digits)"
            return json(DecodeErrorDocument(code: "bad_hex", message: message), failed: true)
        }
        var layouts: [MBusRecordLayout] = []
        for text in layoutHex {
            guard let chain = Hex.decode(text), let layout = MBusRecordLayout(bytes: chain) else {
                let message = "a --layout must be a DIF/VIF chain in hex (complete record headers, 1-255 bytes)"
                return json(DecodeErrorDocument(code: "bad_layout", message: message), failed: true)
            }
            layouts.append(layout)
        }
        var key: AES128Key?
        if let keyHex {
            guard let parsed = AES128Key(hex: keyHex) else {
                let message = "the key must be 32 hexadecimal digits (16 bytes)"
                return json(DecodeErrorDocument(code: "bad_key", message: message), failed: true)
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
            return json(result) { NativeFrameDocument($0) }
        case .cjt188:
            let result = bytes.withUnsafeBytes { raw in
                Result { () throws(FrameDecodingError) -> CJT188Frame in try CJT188Decoder.decode(raw) }
            }
            return json(result) { CJT188FrameDocument($0) }
        case .wmbus:
            // The decode tool accepts "already decrypted" test-data frames; the decoder only takes that path when
            // no --key is given (with a key such a frame is an already_decrypted error). It runs every driver,
            // inferred ones too: the JSON's "driver" names the one that read the frame and how certain it is.
            let result = bytes.withUnsafeBytes { raw in
                Result { () throws(FrameDecodingError) -> MBusFrame in
                    try MBusDecoder.decodeWireless(
                        raw,
                        key: { _ in key },
                        allowAlreadyDecrypted: true,
                        layout: { _, signature in layouts.first { $0.signature == signature } },
                        drivers: .all
                    )
                }
            }
            return json(result, MBusFrameDocument.init)
        case .mbus:
            let result = bytes.withUnsafeBytes { raw in
                Result { () throws(FrameDecodingError) -> MBusFrame in
                    try MBusDecoder.decodeWired(
                        raw,
                        key: { _ in key },
                        allowAlreadyDecrypted: true,
                        layout: { _, signature in layouts.first { $0.signature == signature } },
                        drivers: .all
                    )
                }
            }
            return json(result, MBusFrameDocument.init)
        }
    }

    /// The document of a decoded frame, or the error object of a decoding error.
    private static func json<Frame>(
        _ result: Result<Frame, FrameDecodingError>,
        _ document: (Frame) -> some Encodable
    ) -> (String, Bool) {
        switch result {
        case .success(let frame): json(document(frame), failed: false)
        case .failure(let error): json(DecodeErrorDocument(error), failed: true)
        }
    }

    /// One line of JSON through the gateway's one JSON encoder (sorted keys, exact decimals).
    private static func json(_ document: some Encodable, failed: Bool) -> (String, Bool) {
        let encoder = GatewayJSONEncoder()
        do {
            return (try encoder.text(document), failed)
        } catch {
            // Not reached: a document holds strings, integers, booleans and decimals in Decimal's range.
            let failure = DecodeErrorDocument(code: "not_encodable", message: "the decoded frame has no JSON form")
            return ((try? encoder.text(failure)) ?? "", true)
        }
    }
}
