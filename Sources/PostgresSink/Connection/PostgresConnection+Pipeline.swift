internal import CLibPQ

/// One statement of a pipeline (``PostgresConnection/pipeline(_:)``): SQL and text parameters.
struct PipelinedStatement {
    let sql: String
    let parameters: [String?]

    init(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) {
        self.sql = sql
        self.parameters = parameters.map { $0?.postgresText }
    }

    init(_ sql: String, texts: [String?]) {
        self.sql = sql
        self.parameters = texts
    }
}

/// What one pipelined statement returned.
struct PipelinedResult {
    /// Its rows (empty for a statement without rows).
    let rows: [PostgresRow]
    /// The rows it affected (`PQcmdTuples`), 0 when it reports none.
    let affected: Int
}

extension PostgresConnection {
    /// Runs one statement on its own (one round trip) and returns its rows.
    /// - Throws: ``PostgresError``, as for ``query(_:parameters:)``.
    func rows(_ statement: PipelinedStatement) throws -> [PostgresRow] {
        try rows(statement.sql, statement.parameters)
    }

    /// Sends `statements` in libpq's pipeline mode, followed by one sync, and reads every result: the whole list
    /// costs one network round trip instead of one per statement.
    ///
    /// Each statement runs as a prepared statement of the session (``preparedName(for:)``): prepared on its first
    /// use, before the pipeline (one more round trip each, once per session), then only bound and executed. A
    /// statement that does not parse is thrown from there, with nothing sent.
    ///
    /// The statements run in order in the server's current transaction (or each in its own, outside one). If one
    /// fails, the server skips the rest up to the sync; that first error is thrown once every result was read and the
    /// connection has left pipeline mode, so the caller can run `ROLLBACK` (inside `BEGIN … COMMIT` the transaction is
    /// then failed). COPY is not possible in a pipeline: rows travel as array parameters (``ColumnArrays``).
    /// - Returns: One result per statement, in order.
    /// - Throws: ``PostgresError``: the first failing statement's error, `.connectionLost` (retryable) when the
    ///   connection broke, `.invalidArgument` for a parameter holding a NUL byte (nothing is sent then).
    func pipeline(_ statements: [PipelinedStatement]) throws -> [PipelinedResult] {
        let handle = try requireHandle()
        for statement in statements where statement.parameters.contains(where: { $0?.utf8.contains(0) ?? false }) {
            throw PostgresError(code: .invalidArgument, message: "a parameter contains a NUL byte")
        }
        let names = try statements.map { try preparedName(for: $0.sql) }
        guard PQenterPipelineMode(handle) == 1 else {
            throw makeError(nil, code: .unexpectedResult, file: #fileID, line: #line)
        }
        var sent = true
        for (statement, name) in zip(statements, names) where sent {
            sent =
                (try? withCStringArray(statement.parameters) { pointers in
                    let count = Int32(statement.parameters.count)
                    if let name { return PQsendQueryPrepared(handle, name, count, pointers, nil, nil, 0) == 1 }
                    return PQsendQueryParams(handle, statement.sql, count, nil, pointers, nil, nil, 0) == 1
                }) ?? false
        }
        sent = sent && PQpipelineSync(handle) == 1
        var firstError: PostgresError?
        if !sent { firstError = makeError(nil, code: .connectionLost, file: #fileID, line: #line) }
        var results: [PipelinedResult] = []
        results.reserveCapacity(statements.count)
        // Each statement's result is followed by a NULL; a broken connection yields its error, then NULLs.
        for _ in statements {
            var rows: [PostgresRow] = []
            var affected = 0
            while let raw = PQgetResult(handle) {
                let status = PQresultStatus(raw)
                if status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK {
                    let result = PostgresResult(raw)
                    rows = (0..<PQntuples(raw)).map { PostgresRow(result: result, row: $0) }
                    affected = Self.affectedRows(raw)
                } else {
                    if status != PGRES_PIPELINE_ABORTED, firstError == nil {
                        firstError = makeError(raw, code: .serverError, file: #fileID, line: #line)
                    }
                    PQclear(raw)
                }
            }
            results.append(PipelinedResult(rows: rows, affected: affected))
        }
        // The sync's own result ends the pipeline.
        while let raw = PQgetResult(handle) {
            let status = PQresultStatus(raw)
            PQclear(raw)
            if status == PGRES_PIPELINE_SYNC { break }
        }
        if PQstatus(handle) != CONNECTION_OK {
            // The error read first may predate libpq's noticing the broken socket (a terminated backend's 57P01).
            let lost = makeError(nil, code: .connectionLost, file: #fileID, line: #line)
            throw PostgresError(
                code: .connectionLost,
                sqlState: firstError?.sqlState,
                message: firstError?.message ?? lost.message
            )
        }
        if PQexitPipelineMode(handle) != 1 {
            // Results still pending: the connection's state is unknown, so it is not used again.
            let error = makeError(nil, code: .connectionLost, file: #fileID, line: #line)
            close()
            throw firstError ?? error
        }
        if let firstError { throw firstError }
        return results
    }
}
