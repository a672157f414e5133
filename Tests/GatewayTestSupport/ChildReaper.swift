public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Kills the `meter-gateway` children a test started and did not stop.
///
/// A test that fails (or throws) before it stops its gateway would otherwise leave the child running after the test
/// process has ended — holding database connections, broker sessions and ports that later runs then collide with.
/// Every child that ``IntegrationEnvironment/start(_:log:captureOutput:environment:)`` starts is tracked by
/// ``shared``, whose first use installs an `atexit` handler that sends `SIGKILL` to the children still running when
/// the test process exits. (`SIGKILL`, not `SIGTERM`: the test runner's threads block `SIGTERM`, and children inherit
/// that mask.)
public final class ChildReaper: @unchecked Sendable {
    /// The reaper of the test process, emptied at exit.
    public static let shared: ChildReaper = {
        atexit { ChildReaper.shared.killRunning() }
        return ChildReaper()
    }()

    private let lock = NSLock()
    private var children: [Process] = []

    /// A reaper of its own (tests of the reaper); children started by the environment use ``shared``.
    public init() {}

    /// Tracks `process` so that ``killRunning()`` kills it if it is still running then.
    /// - Parameter process: A started child.
    public func track(_ process: Process) {
        lock.withLock {
            children.removeAll { !$0.isRunning }
            children.append(process)
        }
    }

    /// Sends `SIGKILL` to every tracked child still running and forgets them all.
    /// - Returns: How many children were killed.
    @discardableResult
    public func killRunning() -> Int {
        lock.withLock {
            let running = children.filter(\.isRunning)
            for child in running { kill(child.processIdentifier, SIGKILL) }
            children.removeAll()
            return running.count
        }
    }
}
