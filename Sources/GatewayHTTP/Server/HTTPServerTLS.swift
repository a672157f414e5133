import HummingbirdCore
import HummingbirdTLS
import NIOSSL

/// TLS for ``GatewayHTTPServer``: the server's certificate and key, and optionally the CAs whose client
/// certificates it requires (mutual TLS).
///
/// Files are PEM. The certificate file may hold the whole chain (server certificate first). With
/// ``clientCAFile`` set, a client must present a certificate that chains to one of its CAs, or the handshake
/// fails before any HTTP is read; the bearer-token credentials are still required on top of it. TLS 1.2 is the
/// least version accepted.
public struct HTTPServerTLS: Sendable, Hashable {
    /// PEM certificate chain of the server, its own certificate first.
    public var certificateFile: String
    /// PEM private key of the server certificate (not encrypted).
    public var keyFile: String
    /// PEM CAs that sign the client certificates the server requires, or `nil` to require none.
    public var clientCAFile: String?

    /// Creates TLS settings.
    /// - Parameters:
    ///   - certificateFile: PEM certificate chain of the server.
    ///   - keyFile: PEM private key of the server certificate.
    ///   - clientCAFile: PEM CAs of the client certificates to require, or `nil` for none.
    public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.clientCAFile = clientCAFile
    }

    /// The server builder: HTTP/1.1 inside TLS.
    /// - Throws: ``HTTPServerTLSError`` naming the file that could not be loaded.
    func makeServerBuilder() throws(HTTPServerTLSError) -> HTTPServerBuilder {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw HTTPServerTLSError(file: certificateFile, problem: "no PEM certificate could be loaded (\(error))")
        }
        guard !chain.isEmpty else {
            throw HTTPServerTLSError(file: certificateFile, problem: "holds no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw HTTPServerTLSError(file: keyFile, problem: "no unencrypted PEM private key could be loaded")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
        configuration.minimumTLSVersion = .tlsv12
        if let clientCAFile {
            let authorities: [NIOSSLCertificate]
            do {
                authorities = try NIOSSLCertificate.fromPEMFile(clientCAFile)
            } catch {
                throw HTTPServerTLSError(file: clientCAFile, problem: "no PEM certificate could be loaded (\(error))")
            }
            guard !authorities.isEmpty else {
                throw HTTPServerTLSError(file: clientCAFile, problem: "holds no PEM certificate")
            }
            // A client certificate is required (not optional) and must chain to these CAs only, not to the
            // system's trust store; clients have no host name to check.
            configuration.trustRoots = .certificates(authorities)
            configuration.certificateVerification = .noHostnameVerification
            configuration.sendCANameList = true
        }
        do {
            return try .tls(.http1(), tlsConfiguration: configuration)
        } catch {
            throw HTTPServerTLSError(file: certificateFile, problem: "TLS could not be set up (\(error))")
        }
    }
}

/// A TLS file of ``HTTPServerTLS`` that could not be used. Names the file, never its content.
public struct HTTPServerTLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file's path.
    public var file: String
    /// What is wrong with it.
    public var problem: String

    public var description: String { "HTTP TLS: \(file): \(problem)" }
}
