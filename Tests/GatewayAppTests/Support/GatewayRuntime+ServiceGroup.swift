import Logging
import ServiceLifecycle

@testable import GatewayApp

/// The whole gateway in process, for the end-to-end suites that run it without the binary.
extension GatewayRuntime {
    /// A service group running every part of the gateway, for in-process integration tests.
    func serviceGroup(logger: Logger) -> ServiceGroup {
        ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                logger: logger
            )
        )
    }
}
