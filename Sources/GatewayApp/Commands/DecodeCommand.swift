import ArgumentParser
import Foundation
import GatewayCore

struct DecodeCommand: ParsableCommand {
    /// The protocols `--protocol` and the batch's protocol column name.
    typealias ProtocolName = FrameProtocol

    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode one frame given in hex, or a batch of frames, and print each as one JSON object.",
        discussion: """
            Keys are sorted; decimal values are exact JSON numbers. \
            Without a key the MAC is not verified and the output says "mac":"not_verified". \
            Give a real meter's key with --key-file FILE or --key - (read from standard input): a key written on \
            the command line (--key HEX) is visible to every user of the host in the process list and stays in the \
            shell history, so it is accepted for published test vectors only, with a warning on standard error. \
            On bad input prints {"error":{"code":…,"message":…}} and exits with status 2.

            Batch: --input FILE (or - for standard input) reads one frame per line and prints one JSON object per \
            line (JSON Lines), in input order. A line is up to three columns separated by spaces or tabs: the \
            frame in hex (no spaces inside), then optionally the meter's key (32 hex digits, or - for the --key / \
            --key-file key or none), then optionally the protocol (native, cjt188, wmbus, mbus; without it \
            --protocol). Leading and trailing white space and a CR before the newline are ignored; empty lines \
            and lines whose first non-blank character is # print nothing. A line that cannot be decoded prints \
            its error object with the line number, {"error":{"code":…,"message":…},"line":N}, and the batch goes \
            on; codes beyond the decoder's: bad_line (more than three columns), bad_hex, bad_key, \
            missing_protocol, bad_protocol, line_too_long (over 16384 bytes). The exit status is 0 when every \
            frame decoded, 2 when any line printed an error object, 1 when the input could not be read or the \
            output written.
            """
    )

    @Option(
        name: .long,
        help: "The frame's protocol: native, cjt188, wmbus or mbus (batch: for lines without a protocol column)."
    )
    var `protocol`: FrameProtocol?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The meter's 16-byte AES key in hex, to verify the MAC (native) or decrypt (OMS); - reads it from "
                + "standard input. A key given here is visible in the process list: use it for test vectors only. "
                + "Batch: the key of lines without a key column."
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

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Batch mode: read frames from this file, one per line (- for standard input), and print JSON Lines.",
            valueName: "file"
        )
    )
    var input: String?

    @Argument(help: "The frame in hex (spaces allowed); not with --input.")
    var hex: String?

    func validate() throws {
        if key != nil && keyFile != nil { throw ValidationError("give the key with --key or --key-file, not both") }
        switch (hex, input) {
        case (nil, nil): throw ValidationError("give the frame in hex, or --input FILE (or -) for a batch")
        case (.some, .some): throw ValidationError("give the frame in hex or --input, not both")
        case (.some, nil) where self.protocol == nil: throw ValidationError("--protocol is required for one frame")
        default: break
        }
        if input == "-" && key == "-" {
            throw ValidationError("--input - and --key - both read standard input: give the key with --key-file")
        }
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
        if let input {
            try Self.runBatch(input: input, protocol: self.protocol, keyHex: keyHex, layouts: layout)
            return
        }
        guard let name = self.protocol, let hex else { return }  // validate() requires both
        let (output, failed) = Self.render(protocol: name, keyHex: keyHex, frameHex: hex, layouts: layout)
        print(output)
        if failed { throw ExitCode(2) }
    }

    /// A key read from a file or standard input, without surrounding white space (a trailing newline).
    private static func trimmed(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The options every frame shares (layouts, the key), or the error object of the first one that is bad.
    static func parseOptions(
        keyHex: String?,
        layouts layoutHex: [String]
    ) -> Result<(AES128Key?, [MBusRecordLayout]), DecodeOptionError> {
        var layouts: [MBusRecordLayout] = []
        for text in layoutHex {
            guard let chain = Hex.decode(text), let layout = MBusRecordLayout(bytes: chain) else {
                let message = "a --layout must be a DIF/VIF chain in hex (complete record headers, 1-255 bytes)"
                return .failure(DecodeOptionError(document: DecodeErrorDocument(code: "bad_layout", message: message)))
            }
            layouts.append(layout)
        }
        var key: AES128Key?
        if let keyHex {
            guard let parsed = AES128Key(hex: keyHex) else {
                return .failure(DecodeOptionError(document: DecodeErrorDocument(code: "bad_key", message: badKey)))
            }
            key = parsed
        }
        return .success((key, layouts))
    }

    static let badKey = "the key must be 32 hexadecimal digits (16 bytes)"
    static let badHex = "the frame is not valid hexadecimal (an even number of 0-9/A-F digits)"

    /// The JSON output and whether it is an error. Separate from `run` so tests can call it.
    static func render(
        protocol name: FrameProtocol,
        keyHex: String?,
        frameHex: String,
        layouts layoutHex: [String] = []
    ) -> (String, Bool) {
        var renderer = FrameJSONRenderer()
        guard let bytes = Hex.decode(frameHex) else {
            renderer.writeError(DecodeErrorDocument(code: "bad_hex", message: badHex))
            return (String(decoding: renderer.writer.bytes, as: UTF8.self), true)
        }
        switch parseOptions(keyHex: keyHex, layouts: layoutHex) {
        case .failure(let failure):
            renderer.writeError(failure.document)
            return (String(decoding: renderer.writer.bytes, as: UTF8.self), true)
        case .success(let (key, layouts)):
            renderer.layouts = layouts
            let decoded = bytes.withUnsafeBytes { renderer.render($0, protocol: name, key: key) }
            return (String(decoding: renderer.writer.bytes, as: UTF8.self), !decoded)
        }
    }
}

/// A `--key` or `--layout` the decode command cannot use, as the error object it prints.
struct DecodeOptionError: Error {
    var document: DecodeErrorDocument
}
