/// Why a frame could not be decoded: a stable machine-readable ``Code`` plus a fixed human message.
///
/// Thrown with typed throws (`throws(FrameDecodingError)`) on every decode path, so a rejected frame costs no
/// allocation. The message names the check or field that failed; it never contains key material or payload bytes,
/// so it is safe to store in the quarantine table and to log.
public struct FrameDecodingError: Error, Sendable, CustomStringConvertible {
    /// A stable reason code; its ``description`` is the string stored as the quarantine reason.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: UInt8, Sendable, Hashable {
            case truncated
            case badFrame
            case unknownVersion
            case frameTooLarge
            case badLength
            case badCRC
            case unknownMeter
            case badMAC
            case unknownType
            case fieldOutOfRange
            case badChecksum
            case wrongKey
            case unsupportedSecurityMode
            case vendorFrame
            case unsupportedFrame
            case alreadyDecrypted
            case unknownFormat
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// Fewer bytes than the frame needs (`truncated`).
        public static let truncated = Code(.truncated)
        /// The bytes are not a frame of this protocol, e.g. wrong magic (`bad_frame`).
        public static let badFrame = Code(.badFrame)
        /// A protocol version this decoder does not implement (`unknown_version`).
        public static let unknownVersion = Code(.unknownVersion)
        /// The declared size exceeds the protocol's maximum (`frame_too_large`).
        public static let frameTooLarge = Code(.frameTooLarge)
        /// A length that does not match the declared length or the frame type (`bad_length`).
        public static let badLength = Code(.badLength)
        /// The CRC does not match (`bad_crc`).
        public static let badCRC = Code(.badCRC)
        /// No key is registered for the meter (`unknown_meter`).
        public static let unknownMeter = Code(.unknownMeter)
        /// The message authentication code does not verify, e.g. a wrong key (`bad_mac`).
        public static let badMAC = Code(.badMAC)
        /// A frame type this decoder does not know (`unknown_type`).
        public static let unknownType = Code(.unknownType)
        /// A field outside its documented range, or a reserved bit set (`field_out_of_range`).
        public static let fieldOutOfRange = Code(.fieldOutOfRange)

        /// An additive checksum (CJ/T 188 CS, wired M-Bus CS) does not match (`bad_checksum`).
        public static let badChecksum = Code(.badChecksum)
        /// Decryption with the registered key does not yield valid plaintext (`wrong_key`).
        public static let wrongKey = Code(.wrongKey)
        /// An encryption mode the gateway cannot decrypt, e.g. OMS modes 8–10 (`unsupported_security_mode`).
        public static let unsupportedSecurityMode = Code(.unsupportedSecurityMode)
        /// A vendor frame that only looks like a standard frame, e.g. a CJ/T 188-shaped push (`vendor_frame`).
        public static let vendorFrame = Code(.vendorFrame)
        /// A well-formed frame of a kind this decoder does not support, e.g. an M-Bus CI it does not read
        /// (`unsupported_frame`).
        public static let unsupportedFrame = Code(.unsupportedFrame)
        /// An "already decrypted" test-data frame where it is not allowed: a key is configured, or the live
        /// pipeline received it (`already_decrypted`).
        public static let alreadyDecrypted = Code(.alreadyDecrypted)
        /// A compact M-Bus frame whose format signature names no layout the gateway knows for its meter yet: the
        /// full frame with that layout has not arrived (`unknown_format`). `quarantine replay` re-admits it later.
        public static let unknownFormat = Code(.unknownFormat)

        /// Every code, in check order.
        public static let allCodes: [Code] = [
            .truncated, .badFrame, .unknownVersion, .frameTooLarge, .badLength, .badCRC, .unknownMeter, .badMAC,
            .unknownType, .fieldOutOfRange, .badChecksum, .wrongKey, .unsupportedSecurityMode, .vendorFrame,
            .unsupportedFrame, .alreadyDecrypted, .unknownFormat,
        ]

        /// The snake_case string form, e.g. `bad_crc`.
        public var description: String {
            switch base {
            case .truncated: "truncated"
            case .badFrame: "bad_frame"
            case .unknownVersion: "unknown_version"
            case .frameTooLarge: "frame_too_large"
            case .badLength: "bad_length"
            case .badCRC: "bad_crc"
            case .unknownMeter: "unknown_meter"
            case .badMAC: "bad_mac"
            case .unknownType: "unknown_type"
            case .fieldOutOfRange: "field_out_of_range"
            case .badChecksum: "bad_checksum"
            case .wrongKey: "wrong_key"
            case .unsupportedSecurityMode: "unsupported_security_mode"
            case .vendorFrame: "vendor_frame"
            case .unsupportedFrame: "unsupported_frame"
            case .alreadyDecrypted: "already_decrypted"
            case .unknownFormat: "unknown_format"
            }
        }
    }

    /// The machine-readable reason.
    public let code: Code
    private let staticMessage: StaticString

    /// Creates an error from a code and a fixed message naming the failed check or field.
    ///
    /// - Parameters:
    ///   - code: The reason code.
    ///   - message: A static text such as `"reading.battery_mv: 0xFFFF is the only sentinel"`.
    public init(_ code: Code, _ message: StaticString) {
        self.code = code
        self.staticMessage = message
    }

    /// The human-readable message (names checks and fields only, never key or payload bytes).
    public var message: String { staticMessage.description }

    /// `code: message`.
    public var description: String { "\(code): \(message)" }
}

/// Why a frame could not be encoded.
public struct FrameEncodingError: Error, Sendable, CustomStringConvertible {
    /// A stable reason code.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: UInt8, Sendable, Hashable {
            case bufferTooSmall
            case invalidFrame
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The caller's buffer cannot hold the frame (`buffer_too_small`).
        public static let bufferTooSmall = Code(.bufferTooSmall)
        /// The frame breaks a rule of its protocol, so a receiver would reject it (`invalid_frame`).
        public static let invalidFrame = Code(.invalidFrame)

        /// The snake_case string form.
        public var description: String {
            switch base {
            case .bufferTooSmall: "buffer_too_small"
            case .invalidFrame: "invalid_frame"
            }
        }
    }

    /// The machine-readable reason.
    public let code: Code
    /// For ``Code/invalidFrame``: the error a decoder gives for the frame, which names the rule it breaks.
    public let decodingError: FrameDecodingError?

    /// Creates an encoding error.
    ///
    /// - Parameters:
    ///   - code: The reason code.
    ///   - decodingError: The decoder's verdict on the frame, for ``Code/invalidFrame``.
    public init(_ code: Code, decodingError: FrameDecodingError? = nil) {
        self.code = code
        self.decodingError = decodingError
    }

    /// `code` or `code: decoder's reason`.
    public var description: String {
        guard let decodingError else { return code.description }
        return "\(code): \(decodingError)"
    }
}
