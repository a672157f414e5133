/// The version `meter-gateway --version` prints. It is the newest release heading of
/// Sources/GatewayApp/CHANGELOG.md
/// (`## 0.1.0 — …`); `GatewayVersionTests` fails when the two differ, so a release bumps both together.
enum GatewayVersion {
    static let current = "0.1.0"
}
