public import GatewayCore

/// The M-Bus record layouts of full frames (`mbus_format_layouts`, migration v16), which compact frames (CI
/// 79/7B/73) name by their format signature. Every gateway reads them with the meter registry and writes the layouts
/// its admitted full frames carry in the batch transaction, so the layouts one gateway learned serve them all.
///
/// Thread rules: a value over a ``PostgresDatabase``; every statement runs on the database's own thread.
public struct FormatLayoutStore: Sendable {
    private let database: any PostgresDatabase

    /// Creates a store over a session or pool.
    /// - Parameter database: Where the SQL runs.
    public init(_ database: any PostgresDatabase) {
        self.database = database
    }

    /// Loads the most recently seen layouts of every meter (at most ``GatewayCore/FormatLayoutBook/layoutsPerMeter``
    /// each). A stored chain that is not a valid DIF/VIF chain is skipped.
    /// - Returns: The book.
    /// - Throws: ``PostgresError``.
    public func loadBook() async throws -> FormatLayoutBook {
        let rows = try await database.withConnection { connection in
            try connection.rows(FormatLayoutSQL.load, [FormatLayoutBook.layoutsPerMeter])
        }
        var book = FormatLayoutBook()
        for row in rows {
            let meterID = try row.decode(0, as: Int64.self)
            let chain = try row.decode(1, as: String.self)
            let lastSeen = try row.decode(2, as: Timestamp.self)
            guard let bytes = Hex.decode(chain), let layout = MBusRecordLayout(bytes: bytes) else { continue }
            book.remember(layout, meterID: meterID, lastSeen: lastSeen)
        }
        return book
    }

    /// Upserts layout rows in the caller's transaction: a new (meter, signature) is inserted; a known one keeps its
    /// `first_seen`, raises `last_seen` and takes the chain of the most recent full frame. Rows of a meter deleted
    /// meanwhile are skipped.
    /// - Parameters:
    ///   - records: The rows (``GatewayCore/SinkBatch/formatLayouts``).
    ///   - connection: The connection inside the write transaction.
    /// - Returns: The rows written.
    /// - Throws: ``PostgresError``.
    static func upsert(_ records: [FormatLayoutRecord], on connection: PostgresConnection) throws -> Int {
        var written = 0
        for record in records {
            written += try connection.execute(
                FormatLayoutSQL.upsert,
                parameters: [
                    String(record.meterID), String(record.signature), Hex.encode(record.chain),
                    String(record.seenAt.microsecondsSinceEpoch),
                ]
            )
        }
        return written
    }
}

enum FormatLayoutSQL {
    static let load = """
        SELECT meter_id, encode(chain, 'hex'), \(WriterSQL.epochMicros("last_seen"))
        FROM (
            SELECT *, row_number() OVER (PARTITION BY meter_id ORDER BY last_seen DESC, signature) AS rank
            FROM mbus_format_layouts
        ) ranked
        WHERE rank <= $1::integer
        ORDER BY meter_id, last_seen DESC
        """

    static let upsert = """
        INSERT INTO mbus_format_layouts AS f (meter_id, signature, chain, first_seen, last_seen)
        SELECT $1::bigint, $2::integer, decode($3, 'hex'), to_timestamp($4::bigint / 1000000.0),
            to_timestamp($4::bigint / 1000000.0)
        WHERE EXISTS (SELECT 1 FROM meters WHERE id = $1::bigint)
        ON CONFLICT (meter_id, signature) DO UPDATE SET
            chain = CASE WHEN EXCLUDED.last_seen >= f.last_seen THEN EXCLUDED.chain ELSE f.chain END,
            first_seen = least(f.first_seen, EXCLUDED.first_seen),
            last_seen = greatest(f.last_seen, EXCLUDED.last_seen)
        """
}
