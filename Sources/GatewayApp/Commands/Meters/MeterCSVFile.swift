import Foundation
import GatewayCore
import Synchronization

/// A meter CSV file read a chunk at a time for `meters import`: hands out batches of checked rows, writes each
/// problem to standard error as it is found and a progress line every ``progressEvery`` rows.
///
/// Thread rules: its state is behind a mutex, so the import may pull batches from the database's thread.
final class MeterCSVFile: Sendable {
    /// Thrown by ``nextBatch()`` when a record was too long to be a meter row: the import must write nothing.
    struct Aborted: Error {}

    /// Thrown by ``nextBatch()`` when the file could not be read.
    struct ReadFailed: Error {
        var reason: String
    }

    /// The counts once the file was read.
    struct Counts: Sendable {
        /// Data rows read (passed + rejected).
        var rows = 0
        /// Rows that passed every check of the file.
        var passed = 0
        /// Problems reported (a rejected row may have several).
        var problems = 0
    }

    static let chunkBytes = 64 * 1024
    static let progressEvery = 50_000

    let path: String
    private let batchRows: Int
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var handle: FileHandle
        var reader: MeterCSV.Reader
        var pending: [(line: Int, profile: MeterProfile)] = []
        var isAtEnd = false
        var counts = Counts()
        var nextProgress = MeterCSVFile.progressEvery
    }

    /// Opens the file.
    /// - Parameters:
    ///   - path: The file.
    ///   - batchRows: How many rows a batch holds at most.
    ///   - detectsDuplicates: Report repeated meters here (a dry run, which has no database to find them).
    /// - Throws: When the file cannot be opened.
    init(path: String, batchRows: Int, detectsDuplicates: Bool) throws {
        self.path = path
        self.batchRows = batchRows
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        state = Mutex(State(handle: handle, reader: MeterCSV.Reader(detectsDuplicates: detectsDuplicates)))
    }

    deinit {
        state.withLock { try? $0.handle.close() }
    }

    /// The columns of the header, whether it was valid, and the counts so far.
    var status: (columns: Set<MeterCSV.Column>, isHeaderValid: Bool, counts: Counts) {
        state.withLock { ($0.reader.columns, $0.reader.isHeaderValid, $0.counts) }
    }

    /// Reads until a batch is full or the file ends.
    /// - Returns: Up to `batchRows` rows that passed, or nil when the file is read and every row handed out.
    /// - Throws: ``Aborted`` after a record too long (reported); ``ReadFailed``.
    func nextBatch() throws -> [(line: Int, profile: MeterProfile)]? {
        try state.withLock { state in
            while state.pending.count < batchRows, !state.isAtEnd {
                var output = MeterCSV.Reader.Output()
                let chunk: Data
                do {
                    chunk = try state.handle.read(upToCount: Self.chunkBytes) ?? Data()
                } catch {
                    throw ReadFailed(reason: error.localizedDescription)
                }
                if chunk.isEmpty {
                    state.reader.finish(into: &output)
                    state.isAtEnd = true
                } else {
                    state.reader.feed([UInt8](chunk), into: &output)
                }
                for problem in output.problems { report(problem) }
                state.counts.problems += output.problems.count
                state.counts.passed += output.rows.count
                state.counts.rows = state.reader.rowCount
                state.pending += output.rows
                if state.reader.isAborted { throw Aborted() }
                if state.counts.rows >= state.nextProgress {
                    FileHandle.standardError.write(
                        Data(
                            "\(path): \(state.counts.rows) rows read, \(state.counts.passed) passed the checks\n".utf8
                        )
                    )
                    state.nextProgress += Self.progressEvery
                }
            }
            guard !state.pending.isEmpty else { return nil }
            let count = min(batchRows, state.pending.count)
            let batch = Array(state.pending.prefix(count))
            state.pending.removeFirst(count)
            return batch
        }
    }

    /// Writes a problem to standard error, prefixed with the file's path.
    func report(_ problem: MeterCSV.Problem) {
        FileHandle.standardError.write(Data("\(path): \(problem)\n".utf8))
    }
}
