#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Sends systemd service notifications (`sd_notify(3)`) without libsystemd: one datagram per state to the unix socket
/// named by `$NOTIFY_SOCKET`.
///
/// systemd sets `NOTIFY_SOCKET` for a unit of `Type=notify` (and `WatchdogSec=`'s `WATCHDOG_USEC`); without it
/// (started by hand, in a container, in tests) ``init(environment:)`` returns `nil` and nothing is sent. A path
/// starting with `@` is a Linux abstract socket, as in libsystemd. Each send opens, uses and closes its own socket, so
/// the value is freely `Sendable`; a send that fails is reported to the caller and otherwise harmless.
struct SystemdNotifier: Sendable {
    /// The socket's path as given (`@name` for an abstract socket).
    let socketPath: String

    /// Reads `NOTIFY_SOCKET`.
    /// - Parameter environment: The process environment.
    /// - Returns: `nil` when the variable is missing, empty, or neither an absolute path nor `@name`.
    init?(environment: [String: String]) {
        guard let path = environment["NOTIFY_SOCKET"], path.hasPrefix("/") || path.hasPrefix("@"),
            path.utf8.count > 1, path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        else { return nil }
        self.socketPath = path
    }

    /// How often to send `WATCHDOG=1`: half of `WATCHDOG_USEC` (as `sd_watchdog_enabled(3)` advises), or `nil`
    /// when no watchdog is set for this process (`WATCHDOG_PID`, when given, must be this process).
    /// - Parameter environment: The process environment.
    /// - Returns: The ping interval.
    static func watchdogInterval(environment: [String: String]) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 else {
            return nil
        }
        if let pid = environment["WATCHDOG_PID"], pid != String(getpid()) { return nil }
        return .microseconds(microseconds / 2)
    }

    /// Sends one notification, such as `READY=1` or `STOPPING=1` (several assignments separated by newlines).
    /// - Parameter state: The assignments.
    /// - Returns: Whether the datagram was sent.
    @discardableResult
    func send(_ state: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (pathBytes[0] == 0 ? 0 : 1))
        let bytes = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bytes.withUnsafeBytes { buffer in
                    sendto(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
        return sent == bytes.count
    }
}
