import Foundation
import GatewayCore
import GatewayTestSupport
import Testing

/// Real wireless M-Bus gas and water telegrams that no one on this project wrote: the driver tests of wmbusmeters,
/// with the total volume wmbusmeters prints (`firmware-protocols/corpus-public/wmbus-telegrams.json`).
///
/// Every telegram is decoded the way the decode tool does (already-decrypted test data allowed, the test's key when
/// it has one) and its storage-0 instantaneous volume (Vm or plain volume) is compared with the printed total.
/// No telegram may ever give a different value; every telegram of an enforced class must give the right one, and so
/// must every compact frame whose meter's full frame is in the corpus and every proprietary payload the driver table
/// reads. The others are counted and printed, so the work on them can be measured.
@Suite struct PublicTelegramCorpusTests {
    /// The classes the decoder must read right. Add a class here once its decoding is implemented.
    static let enforcedClasses: Set<String> = ["standard", "trailing_crc", "mfct_mode"]

    struct CorpusFile: Decodable, Sendable {
        var telegrams: [Telegram]
    }

    struct Telegram: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var repo: String
        var path: String
        var `class`: String
        var telegram: String
        var key: String?
        var totalM3: String?

        var testDescription: String { "\(name) (\(`class`))" }
    }

    enum Outcome: Equatable, Sendable {
        /// The decoded total equals the printed one.
        case right
        /// Refused with an error code, or decoded without a volume (`no_volume`).
        case refused(String)
        /// A decoded total that differs from the printed one, or a total where the reference prints none.
        case wrong(String)
    }

    static let url = Repository.url("firmware-protocols/corpus-public/wmbus-telegrams.json")

    static let telegrams: [Telegram] = {
        guard let data = try? Data(contentsOf: url) else { return [] }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return (try? decoder.decode(CorpusFile.self, from: data))?.telegrams ?? []
    }()

    /// The record layouts the full frames of the corpus teach, per meter (registry key): what a gateway learns from
    /// admitted full frames before a compact frame of the same meter arrives (wmbus-oms.md §6.5).
    static let learnedLayouts: [UInt64: [MBusRecordLayout]] = {
        var table: [UInt64: [MBusRecordLayout]] = [:]
        for telegram in telegrams where telegram.class != "compact" {
            guard let frame = try? decode(telegram, layouts: [:]), let layout = frame.recordLayout else { continue }
            table[frame.meter.registryKey, default: []].append(layout)
        }
        return table
    }()

    /// Decodes a telegram as the decode tool does: already-decrypted test data allowed, the test's key when it has
    /// one, every driver (inferred ones too), and the layouts learned from the corpus's full frames.
    static func decode(_ telegram: Telegram, layouts: [UInt64: [MBusRecordLayout]]) throws(FrameDecodingError)
        -> MBusFrame
    {
        guard let bytes = Hex.decode(telegram.telegram) else {
            throw FrameDecodingError(.badFrame, "not hex")
        }
        let key = telegram.key.flatMap { AES128Key(hex: $0) }
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(FrameDecodingError) -> MBusFrame in
                try MBusDecoder.decodeWireless(
                    raw,
                    key: { _ in key },
                    allowAlreadyDecrypted: true,
                    layout: { meter, signature in layouts[meter.registryKey]?.first { $0.signature == signature } },
                    drivers: .all
                )
            }
        }
        return try result.get()
    }

    /// Telegrams of the checked kinds that the decoder refuses on purpose, with the code it must give.
    ///
    /// `kamwater/Votten-compact`: its full-frame CRC (`8054`) is the CRC of the records of the meter's earlier full
    /// frame (`kamwater/Votten`, whose flow was 0), not of the compact frame's own records reassembled (flow 35 l/h
    /// gives `335D`). Its layout signature matches, so the values could be read, but the gateway cannot tell this
    /// from a compact frame read against the wrong layout, and refuses it (`bad_crc`): a lost reading, never a wrong
    /// one (firmware-protocols/wmbus-oms.md §6.5).
    static let refusedOnPurpose: [String: String] = ["kamwater/Votten-compact": "bad_crc"]

    /// Whether the decoder must read this telegram right: an enforced class, a compact frame whose meter's full
    /// frame is in the corpus, or proprietary content for which the driver table has a driver.
    static func mustBeRight(_ telegram: Telegram) -> Bool {
        if enforcedClasses.contains(telegram.class) { return true }
        guard let bytes = Hex.decode(telegram.telegram) else { return false }
        switch telegram.class {
        case "compact":
            let meter = bytes.withUnsafeBytes { MBusDecoder.peekHeader($0, isWired: false)?.meter }
            return meter.map { learnedLayouts[$0.registryKey] != nil } ?? false
        case "proprietary":
            return telegram.name.hasPrefix("apator08/")
        default:
            return false
        }
    }

    /// Decodes one telegram and judges its total.
    static func outcome(of telegram: Telegram) -> Outcome {
        let frame: MBusFrame
        do {
            frame = try decode(telegram, layouts: learnedLayouts)
        } catch {
            return .refused(error.code.description)
        }
        let volume = frame.recordArray.first {
            $0.quantity == .volume && $0.storage == 0 && $0.tariff == 0 && $0.subunit == 0
                && $0.function == .instantaneous && $0.accumulation == .standard && $0.basis != .converted
        }
        guard let volume, let value = volume.value.exactDecimal(exponent: Int(volume.exponent)) else {
            return .refused("no_volume")
        }
        guard let expected = telegram.totalM3 else { return .wrong("\(value) where none is printed") }
        guard let got = Decimal(string: value.description), let want = Decimal(string: expected) else {
            return .wrong("unparsable \(value)")
        }
        return got == want ? .right : .wrong("\(value) instead of \(expected)")
    }

    @Test func corpusLoads() {
        #expect(Self.telegrams.count >= 60, "\(Self.url.path) holds \(Self.telegrams.count) telegrams")
        #expect(Set(Self.telegrams.map(\.name)).count == Self.telegrams.count, "duplicate names")
        let classes: Set<String> = [
            "standard", "trailing_crc", "mfct_mode", "compact", "proprietary", "default_key", "other",
        ]
        for telegram in Self.telegrams {
            #expect(classes.contains(telegram.class), "\(telegram.name): unknown class \(telegram.class)")
            #expect(telegram.repo == "wmbusmeters/wmbusmeters" && !telegram.path.isEmpty, "\(telegram.name)")
            #expect(Hex.decode(telegram.telegram) != nil, "\(telegram.name): not hex")
        }
    }

    @Test(arguments: PublicTelegramCorpusTests.telegrams)
    func neverAWrongValue(_ telegram: Telegram) {
        let outcome = Self.outcome(of: telegram)
        if case .wrong(let why) = outcome {
            Issue.record("\(telegram.name): \(why)")
        }
        if let code = Self.refusedOnPurpose[telegram.name] {
            #expect(outcome == .refused(code), "\(telegram.name): \(outcome)")
        } else if Self.mustBeRight(telegram) {
            #expect(outcome == .right, "\(telegram.name) (\(telegram.class)): \(outcome)")
        }
    }

    /// Prints right / refused (with the error codes) / wrong per class.
    @Test func printsFiguresPerClass() {
        var rows: [String: (right: Int, refused: [String: Int], wrong: Int)] = [:]
        for telegram in Self.telegrams {
            var row = rows[telegram.class] ?? (0, [:], 0)
            switch Self.outcome(of: telegram) {
            case .right: row.right += 1
            case .refused(let code): row.refused[code, default: 0] += 1
            case .wrong: row.wrong += 1
            }
            rows[telegram.class] = row
        }
        var lines = ["public telegram corpus: class | telegrams | right | refused | wrong"]
        for name in rows.keys.sorted() {
            let row = rows[name]!
            let refused = row.refused.values.reduce(0, +)
            let codes = row.refused.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
            let enforced = Self.enforcedClasses.contains(name) ? " (enforced)" : ""
            lines.append(
                "  \(name)\(enforced) | \(row.right + refused + row.wrong) | \(row.right) | \(refused) \(codes) | "
                    + "\(row.wrong)"
            )
        }
        print(lines.joined(separator: "\n"))
        #expect(rows.values.allSatisfy { $0.wrong == 0 })
    }
}
