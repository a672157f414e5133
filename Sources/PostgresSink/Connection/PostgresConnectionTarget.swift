internal import CLibPQ

/// Where a conninfo makes libpq connect and which `sslmode` it would use, read with libpq's own parser
/// (`PQconninfoParse`), so key/value strings and `postgresql://` URIs are read exactly as libpq reads them.
///
/// What the conninfo leaves out comes from the environment as libpq takes it (`PGHOST`, `PGHOSTADDR`,
/// `PGSSLMODE`, `PGSERVICE`), then libpq's defaults: the local Unix socket and `sslmode=prefer`. Only the
/// addresses and the mode are kept; the conninfo itself (which may hold a password) is not.
public struct PostgresConnectionTarget: Sendable, Equatable {
    /// Where each connection attempt goes, in order: the `hostaddr` entry where one is given, else the `host`
    /// entry. An entry starting with `/` or `@` is a Unix-domain socket; an empty entry is libpq's default socket.
    public var addresses: [String]
    /// The `sslmode` libpq would use: `disable`, `allow`, `prefer` (libpq's default), `require`, `verify-ca` or
    /// `verify-full`.
    public var sslMode: String
    /// The name of a `pg_service.conf` service the conninfo or `PGSERVICE` names, whose file may set the host and
    /// the mode where the conninfo does not; `nil` for none.
    public var service: String?

    /// Reads a conninfo.
    /// - Parameters:
    ///   - conninfo: A libpq connection string or URI.
    ///   - environment: The environment libpq would see (normally the process environment).
    /// - Returns: The addresses, the mode and the service.
    /// - Throws: `PostgresError` with code `.invalidArgument` when libpq cannot parse the conninfo; the message
    ///   never quotes it.
    public static func parse(conninfo: String, environment: [String: String]) throws -> PostgresConnectionTarget {
        guard !conninfo.utf8.contains(0) else {
            throw PostgresError(code: .invalidArgument, message: "conninfo contains a NUL byte")
        }
        var errorMessage: UnsafeMutablePointer<CChar>?
        let options = PQconninfoParse(conninfo, &errorMessage)
        if let errorMessage { PQfreemem(errorMessage) }
        guard let options else {
            throw PostgresError(code: .invalidArgument, message: "conninfo could not be parsed")
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                values[String(cString: keyword)] = String(cString: value)
            }
            option += 1
        }
        func value(_ keyword: String, _ variable: String) -> String? {
            if let given = values[keyword], !given.isEmpty { return given }
            if let given = environment[variable], !given.isEmpty { return given }
            return nil
        }
        let hosts = Self.split(value("host", "PGHOST"))
        let hostAddresses = Self.split(value("hostaddr", "PGHOSTADDR"))
        var addresses: [String] = []
        for index in 0..<max(hosts.count, hostAddresses.count, 1) {
            let address = index < hostAddresses.count ? hostAddresses[index] : ""
            let host = index < hosts.count ? hosts[index] : ""
            addresses.append(address.isEmpty ? host : address)
        }
        return PostgresConnectionTarget(
            addresses: addresses,
            sslMode: value("sslmode", "PGSSLMODE") ?? "prefer",
            service: value("service", "PGSERVICE")
        )
    }

    private static func split(_ list: String?) -> [String] {
        guard let list else { return [] }
        return list.split(separator: ",", omittingEmptySubsequences: false).map {
            String($0).trimmingSpaces()
        }
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
