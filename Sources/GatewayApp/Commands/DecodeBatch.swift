import ArgumentParser
import GatewayCore

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `meter-gateway decode --input FILE|-`: frames in, one per line; JSON Lines out, one object per frame line.
///
/// The line format (README "Commands", `decode --help`): up to three columns separated by runs of spaces or tabs,
/// `FRAME [KEY|- [PROTOCOL]]`; the frame is hex without spaces; the key is 32 hex digits or `-` (the command's
/// `--key`/`--key-file` key, or none); the protocol is `native`, `cjt188`, `wmbus` or `mbus` (without it the
/// command's `--protocol`). Leading and trailing white space and a CR before the LF are ignored. Empty lines and
/// lines whose first non-blank byte is `#` print nothing. Every other line prints exactly one line: the frame's JSON
/// object or its error object with `"line"` (from 1). Nothing is dropped: an over-long line is an error line too.
///
/// Feed it chunks of any size with ``consume(_:into:)`` and call ``finish(into:)`` at the end of the input; it
/// appends the output to a buffer the caller writes out. One frame buffer, one key and one JSON writer are reused.
struct DecodeBatch {
    /// The longest line read (bytes, without its newline); a longer one is a `line_too_long` error line.
    static let maximumLineLength = 16 * 1024

    /// The protocol of lines without a protocol column.
    var defaultProtocol: FrameProtocol?
    /// The key of lines without a key column or with `-`.
    var defaultKey: AES128Key?
    /// Lines that printed their frame's JSON object.
    private(set) var decodedCount = 0
    /// Lines that printed an error object.
    private(set) var failedCount = 0

    private var renderer: FrameJSONRenderer
    private var lineNumber = 0
    /// The start of a line that began in an earlier chunk.
    private var pending: [UInt8] = []
    /// Whether the current line has passed ``maximumLineLength`` (its bytes are skipped until the newline).
    private var isOverlong = false
    private var frame: [UInt8] = []
    private var keyBytes: [UInt8] = []
    private var lastKeyText: [UInt8] = []
    private var lastKey: AES128Key?

    /// Creates a batch.
    /// - Parameters:
    ///   - defaultProtocol: The protocol of lines without a protocol column (`--protocol`).
    ///   - defaultKey: The key of lines without a key column (`--key`, `--key-file`).
    ///   - layouts: The DIF/VIF chains compact M-Bus frames may name (`--layout`).
    init(defaultProtocol: FrameProtocol?, defaultKey: AES128Key?, layouts: [MBusRecordLayout]) {
        self.defaultProtocol = defaultProtocol
        self.defaultKey = defaultKey
        renderer = FrameJSONRenderer(layouts: layouts)
        frame.reserveCapacity(1024)
        pending.reserveCapacity(1024)
    }

    /// Reads the next chunk of input and appends the output of every line it completes.
    /// - Parameters:
    ///   - chunk: Input bytes, continuing the previous chunk.
    ///   - output: Where the JSON lines are appended.
    mutating func consume(_ chunk: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        var start = 0
        while start < chunk.count {
            guard let newline = chunk[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                keep(UnsafeRawBufferPointer(rebasing: chunk[start...]))
                return
            }
            let piece = UnsafeRawBufferPointer(rebasing: chunk[start..<newline])
            start = newline + 1
            if pending.isEmpty && !isOverlong {
                guard piece.count <= Self.maximumLineLength else {
                    isOverlong = true
                    endLine(into: &output)
                    continue
                }
                lineNumber += 1
                handle(line: piece, into: &output)
            } else {
                keep(piece)
                endLine(into: &output)
            }
        }
    }

    /// Ends the input: a last line without a newline is read like any other.
    /// - Parameter output: Where its JSON line is appended.
    mutating func finish(into output: inout [UInt8]) {
        if !pending.isEmpty || isOverlong { endLine(into: &output) }
    }

    /// Keeps the part of a line that the next chunk continues.
    private mutating func keep(_ piece: UnsafeRawBufferPointer) {
        guard !isOverlong else { return }
        if pending.count + piece.count > Self.maximumLineLength {
            isOverlong = true
            pending.removeAll(keepingCapacity: true)
        } else {
            pending.append(contentsOf: piece)
        }
    }

    /// Handles the line kept in `pending` (or the over-long one) and starts the next.
    private mutating func endLine(into output: inout [UInt8]) {
        lineNumber += 1
        if isOverlong {
            isOverlong = false
            let message = "the line is longer than \(Self.maximumLineLength) bytes"
            fail(DecodeErrorDocument(code: "line_too_long", message: message), into: &output)
        } else {
            let line = pending
            line.withUnsafeBytes { handle(line: $0, into: &output) }
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Handles one complete line (without its LF).
    private mutating func handle(line: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        // Up to three columns between runs of blanks; a CR is a blank, so a CRLF line reads like an LF one.
        var columns: (Range<Int>, Range<Int>, Range<Int>) = (0..<0, 0..<0, 0..<0)
        var count = 0
        var index = 0
        while index < line.count {
            guard !Self.isBlank(line[index]) else {
                index += 1
                continue
            }
            let start = index
            while index < line.count && !Self.isBlank(line[index]) { index += 1 }
            if count == 0 && line[start] == UInt8(ascii: "#") { return }  // a comment
            switch count {
            case 0: columns.0 = start..<index
            case 1: columns.1 = start..<index
            case 2: columns.2 = start..<index
            default: break
            }
            count += 1
        }
        guard count > 0 else { return }  // an empty line
        guard count <= 3 else {
            let message = "a line holds a frame, then optionally a key and a protocol; this one has \(count) columns"
            return fail(DecodeErrorDocument(code: "bad_line", message: message), into: &output)
        }
        guard Self.parseHex(UnsafeRawBufferPointer(rebasing: line[columns.0]), into: &frame) else {
            return fail(DecodeErrorDocument(code: "bad_hex", message: DecodeCommand.badHex), into: &output)
        }
        var key = defaultKey
        if count >= 2 {
            let text = UnsafeRawBufferPointer(rebasing: line[columns.1])
            if !(text.count == 1 && text[0] == UInt8(ascii: "-")) {
                guard let parsed = self.key(text) else {
                    return fail(DecodeErrorDocument(code: "bad_key", message: DecodeCommand.badKey), into: &output)
                }
                key = parsed
            }
        }
        let frameProtocol: FrameProtocol
        if count == 3 {
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: line[columns.2]), as: UTF8.self)
            guard let named = FrameProtocol(rawValue: name) else {
                let message = "the protocol column must be native, cjt188, wmbus or mbus"
                return fail(DecodeErrorDocument(code: "bad_protocol", message: message), into: &output)
            }
            frameProtocol = named
        } else if let defaultProtocol {
            frameProtocol = defaultProtocol
        } else {
            let message = "the line has no protocol column and no --protocol was given"
            return fail(DecodeErrorDocument(code: "missing_protocol", message: message), into: &output)
        }
        let decoded = frame.withUnsafeBytes { renderer.render($0, protocol: frameProtocol, key: key, line: lineNumber) }
        if decoded { decodedCount += 1 } else { failedCount += 1 }
        output.append(contentsOf: renderer.writer.bytes)
        output.append(UInt8(ascii: "\n"))
    }

    private mutating func fail(_ document: DecodeErrorDocument, into output: inout [UInt8]) {
        var document = document
        document.line = lineNumber
        renderer.writeError(document)
        failedCount += 1
        output.append(contentsOf: renderer.writer.bytes)
        output.append(UInt8(ascii: "\n"))
    }

    /// The key a column names; the last one is kept, so a run of lines of one meter expands it once.
    private mutating func key(_ text: UnsafeRawBufferPointer) -> AES128Key? {
        if let lastKey, text.elementsEqual(lastKeyText) { return lastKey }
        guard text.count == 32, Self.parseHex(text, into: &keyBytes), let key = AES128Key(bytes: keyBytes) else {
            return nil
        }
        lastKeyText.removeAll(keepingCapacity: true)
        lastKeyText.append(contentsOf: text)
        lastKey = key
        return key
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }

    /// Parses hex digits (an even number, nothing else) into `bytes`, replacing what it held.
    private static func parseHex(_ text: UnsafeRawBufferPointer, into bytes: inout [UInt8]) -> Bool {
        bytes.removeAll(keepingCapacity: true)
        guard text.count % 2 == 0 else { return false }
        var index = 0
        while index < text.count {
            guard let high = nibble(text[index]), let low = nibble(text[index + 1]) else { return false }
            bytes.append(high << 4 | low)
            index += 2
        }
        return true
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

extension DecodeCommand {
    /// Runs a batch from a file or standard input to standard output.
    /// - Throws: `ExitCode(2)` when a line printed an error object, `ExitCode(1)` when the input cannot be read or
    ///   the output not written (the reason on standard error).
    static func runBatch(input: String, protocol name: FrameProtocol?, keyHex: String?, layouts: [String]) throws {
        let (key, parsedLayouts): (AES128Key?, [MBusRecordLayout])
        switch parseOptions(keyHex: keyHex, layouts: layouts) {
        case .failure(let failure):
            var renderer = FrameJSONRenderer()
            renderer.writeError(failure.document)
            print(String(decoding: renderer.writer.bytes, as: UTF8.self))
            throw ExitCode(2)
        case .success(let options):
            (key, parsedLayouts) = options
        }
        let descriptor = input == "-" ? STDIN_FILENO : open(input, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return try fatal("cannot open \(input): \(String(cString: strerror(errno)))") }
        defer { if descriptor != STDIN_FILENO { close(descriptor) } }

        var batch = DecodeBatch(defaultProtocol: name, defaultKey: key, layouts: parsedLayouts)
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        var output: [UInt8] = []
        output.reserveCapacity(512 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                try writeAll(output)
                return try fatal("cannot read \(input): \(reason)")
            }
            if count == 0 { break }
            chunk.withUnsafeBytes { batch.consume(UnsafeRawBufferPointer(rebasing: $0[..<count]), into: &output) }
            if output.count >= 256 * 1024 {
                try writeAll(output)
                output.removeAll(keepingCapacity: true)
            }
        }
        batch.finish(into: &output)
        try writeAll(output)
        if batch.failedCount > 0 {
            let summary = "\(batch.failedCount) of \(batch.failedCount + batch.decodedCount) frame lines failed; "
            try? writeAll(Array((summary + "their error objects name the line\n").utf8), to: STDERR_FILENO)
            throw ExitCode(2)
        }
    }

    /// Writes every byte to a descriptor, or fails with the reason.
    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32 = STDOUT_FILENO) throws {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                guard let base = buffer.baseAddress else { return 0 }
                return write(descriptor, base + written, buffer.count - written)
            }
            if count < 0 {
                if errno == EINTR { continue }
                if descriptor == STDERR_FILENO { return }
                return try fatal("cannot write the output: \(String(cString: strerror(errno)))")
            }
            written += count
        }
    }

    private static func fatal(_ message: String) throws {
        try? writeAll(Array("error: \(message)\n".utf8), to: STDERR_FILENO)
        throw ExitCode(1)
    }
}
