public import GatewayCore
