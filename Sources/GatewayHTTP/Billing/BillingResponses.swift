import GatewayCore
import GatewayDomain
import Hummingbird
import PostgresSink

/// `GET /billing/v1/daily-reads`: `{"reads":[…],"next_cursor":"…","has_more":bool}`.
struct BillingPageResponse: ResponseEncodable, Sendable {
    /// One published day of one meter.
    struct Read: Encodable, Sendable {
        struct Meter: Encodable, Sendable {
            var `protocol`: String
            var id: String
            @ExplicitNull var district: String?
        }

        struct Interval: Encodable, Sendable {
            var start: String
            var minutes: Int
            var volumeMillilitres: Int64
            /// `actual` or `estimated`.
            var quality: String

            enum CodingKeys: String, CodingKey {
                case start, minutes, quality
                case volumeMillilitres = "volume_ml"
            }
        }

        var meter: Meter
        var basis: String
        var day: String
        var dayStart: String
        var version: Int
        var isCorrection: Bool
        var startIndexMillilitres: Int64
        var endIndexMillilitres: Int64
        var volumeMillilitres: Int64
        var quality: String
        var reasons: [String]
        var intervals: [Interval]
        /// The weakest protection of what the day was derived from: `plain`, `encrypted` or `authenticated`.
        var protection: String

        enum CodingKeys: String, CodingKey {
            case meter, basis, day, version, quality, reasons, intervals, protection
            case dayStart = "day_start"
            case isCorrection = "is_correction"
            case startIndexMillilitres = "start_index_ml"
            case endIndexMillilitres = "end_index_ml"
            case volumeMillilitres = "volume_ml"
        }

        init(_ read: BillingRead) {
            self.meter = Meter(protocol: read.protocol.rawValue, id: read.meter, district: read.district)
            self.basis = read.basis.name
            self.day = read.day
            self.dayStart = read.dayStart.description
            self.version = read.version
            self.isCorrection = read.isCorrection
            self.startIndexMillilitres = read.startIndexMillilitres
            self.endIndexMillilitres = read.endIndexMillilitres
            self.volumeMillilitres = read.volumeMillilitres
            self.quality = read.quality.name
            self.reasons = read.reasons
            self.protection = read.protection.code
            self.intervals = read.intervals.map {
                Interval(
                    start: $0.start.description,
                    minutes: read.intervalMinutes ?? 0,
                    volumeMillilitres: $0.volumeMillilitres,
                    quality: $0.isEstimated ? "estimated" : "actual"
                )
            }
        }
    }

    var reads: [Read]
    var nextCursor: String
    var hasMore: Bool

    enum CodingKeys: String, CodingKey {
        case reads
        case nextCursor = "next_cursor"
        case hasMore = "has_more"
    }

    /// The page: the first `limit` of `reads`, the cursor after them, and whether more follow.
    /// - Parameters:
    ///   - reads: Up to `limit + 1` rows after the cursor; one more than `limit` means more follow.
    ///   - limit: The page size asked for.
    ///   - cursor: The feed position the page starts after.
    init(_ reads: [BillingRead], limit: Int, after cursor: Int64) {
        let shown = reads.prefix(limit)
        self.reads = shown.map(Read.init)
        self.nextCursor = BillingAPI.cursor(shown.last?.seq ?? cursor)
        self.hasMore = reads.count > limit
    }
}

/// `GET /meters/v1/verification-expired`: `{"as_of":"YYYY-MM-DD","meters":[…],"next_cursor":…}` (see ``Page``).
struct ExpiredMetersResponse: Encodable, Sendable {
    struct Meter: Encodable, Sendable {
        var `protocol`: String
        var meter: String
        @ExplicitNull var district: String?
        var verificationExpiresOn: String

        enum CodingKeys: String, CodingKey {
            case `protocol`, meter, district
            case verificationExpiresOn = "verification_expires_on"
        }
    }

    var asOf: String
    var meters: [Meter]
    @ExplicitNull var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case meters
        case asOf = "as_of"
        case nextCursor = "next_cursor"
    }

    init(asOf date: CivilDate, meters: [ExpiredMeter], nextCursor: String? = nil) {
        self.asOf = date.description
        self.nextCursor = nextCursor
        self.meters = meters.map {
            Meter(
                protocol: $0.protocol.rawValue,
                meter: $0.meter,
                district: $0.district,
                verificationExpiresOn: $0.expiresOn
            )
        }
    }
}

/// `GET /review/v1/held`: `{"held":[…],"next_cursor":…}` (see ``Page``), a reading with `read_at` and `kind`, a day
/// with `day`.
struct HeldResponse: Encodable, Sendable {
    struct Item: Encodable, Sendable {
        var `protocol`: String
        var meter: String
        var basis: String
        var readAt: String?
        var kind: Int16?
        var day: String?
        var volumeMillilitres: Int64
        var reasons: [String]
        /// The held reading's protection, or the weakest of what the held day was derived from.
        var protection: String
        /// Which key protected the held reading (`meter`, `default`); null when none did and for a held day.
        var keySource: String?

        enum CodingKeys: String, CodingKey {
            case `protocol`, meter, basis, kind, day, reasons, protection
            case readAt = "read_at"
            case volumeMillilitres = "volume_ml"
            case keySource = "key_source"
        }

        init(_ item: HeldItem) {
            self.protocol = item.protocol.rawValue
            self.meter = item.meter
            self.basis = item.basis.name
            switch item.target {
            case .reading(let readAt, let kind):
                self.readAt = readAt.description
                self.kind = kind.rawValue
            case .day(let day):
                self.day = day
            }
            self.volumeMillilitres = item.volumeMillilitres
            self.reasons = item.reasons
            self.protection = item.protection.code
            self.keySource = item.keySource?.code
        }
    }

    var held: [Item]
    @ExplicitNull var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case held
        case nextCursor = "next_cursor"
    }

    init(_ items: [HeldItem], nextCursor: String? = nil) {
        self.held = items.map(Item.init)
        self.nextCursor = nextCursor
    }
}
