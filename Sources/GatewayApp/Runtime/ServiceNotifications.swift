import Logging
import ServiceLifecycle
import Synchronization

/// Tells systemd (``SystemdNotifier``) when the gateway is ready, that it is alive, and when it stops.
///
/// * `READY=1` once `isReady` holds — MQTT connected with every subscription acknowledged, the database connected
///   and migrated, and the HTTP server listening (when enabled) — checked every 100 ms; until then a unit of
///   `Type=notify` stays "activating" and units ordered after it wait.
/// * `WATCHDOG=1` every half `WATCHDOG_USEC` (the unit's `WatchdogSec=`) from then on: a gateway whose Swift
///   runtime stops scheduling tasks stops pinging and systemd restarts it. Readiness is not required for the ping:
///   a database outage must not restart a gateway that keeps spooling frames.
/// * `STOPPING=1` as soon as graceful shutdown begins (SIGTERM). It is the last service in the group, so the
///   group shuts it down first.
struct ServiceNotifications: Service, CustomStringConvertible {
    let notifier: SystemdNotifier
    let watchdogInterval: Duration?
    let isReady: @Sendable () -> Bool
    let logger: Logger

    var description: String { "ServiceNotifications" }

    func run() async throws {
        await withGracefulShutdownHandler {
            await notifyAndPing()
        } onGracefulShutdown: {
            notifier.send("STOPPING=1\nSTATUS=stopping: draining the spool and committing the last batch")
            logger.info("systemd notified: STOPPING=1")
        }
    }

    private func notifyAndPing() async {
        while !isReady() {
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(100)) }
        }
        if Task.isShuttingDownGracefully || Task.isCancelled { return }
        let sent = notifier.send("READY=1\nSTATUS=ready: subscribed, database migrated, HTTP listening")
        logger.info(
            "systemd notified: READY=1",
            metadata: ["systemd.notify_socket": "\(notifier.socketPath)", "systemd.sent": "\(sent)"]
        )
        guard let watchdogInterval else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            notifier.send("WATCHDOG=1")
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: watchdogInterval) }
        }
    }
}

/// Set once the HTTP server listens (Hummingbird's `onServerRunning`); read by the readiness check.
final class ListeningFlag: Sendable {
    private let value = Atomic<Bool>(false)

    /// Whether the server listens.
    var isListening: Bool { value.load(ordering: .acquiring) }

    /// Records that the server listens.
    func set() { value.store(true, ordering: .releasing) }
}
