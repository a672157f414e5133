import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The test certificate authority that `scripts/services.sh up` makes in `DIR/tls` (`GATEWAY_TEST_TLS_DIR`):
/// `ca.pem`; `server.pem`/`.key` for `localhost` and `127.0.0.1`; `other-host.pem`/`.key`, signed by the same CA for
/// `other-host.invalid` only; `client.pem`/`.key`; a second CA `wrong-ca.pem` and its `wrong-client.pem`/`.key`.
/// Test material only.
public enum TestCertificates {
    /// The folder, or `nil` when the services were not started by the scripts.
    public static let folder: String? = ProcessInfo.processInfo.environment["GATEWAY_TEST_TLS_DIR"]

    /// Whether the folder is there.
    public static var isAvailable: Bool { folder != nil }

    /// The path of one of the files.
    /// - Parameter name: The file's name, such as `ca.pem`.
    /// - Returns: Its path.
    /// - Throws: When `GATEWAY_TEST_TLS_DIR` is not set.
    public static func path(_ name: String) throws -> String {
        try #require(folder, "GATEWAY_TEST_TLS_DIR is not set (scripts/services.sh up)") + "/" + name
    }
}

/// Loopback ports for servers a test starts itself.
public enum LoopbackPort {
    /// A port on 127.0.0.1 that nothing listens on now (the kernel's choice).
    /// - Returns: The port.
    /// - Throws: When no socket could be bound.
    public static func free() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socket >= 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(socket, generic, length) == 0 && getsockname(socket, generic, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
