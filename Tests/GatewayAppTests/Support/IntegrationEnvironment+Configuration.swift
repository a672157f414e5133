import Foundation
import GatewayTestSupport

@testable import GatewayApp

extension IntegrationEnvironment {
    /// Writes a configuration for `database` in a fresh folder and loads it (with `environment` overrides).
    func configuration(
        database: String,
        clientID: String,
        environment: [String: String] = [:]
    ) throws
        -> GatewayConfiguration
    {
        let path = try writeConfiguration(in: try makeFolder(), database: database, clientID: clientID)
        return try GatewayConfiguration.load(
            tomlText: try String(contentsOfFile: path, encoding: .utf8),
            environment: environment
        )
    }
}
