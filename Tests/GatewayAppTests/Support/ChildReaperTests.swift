import Foundation
import GatewayTestSupport
import Testing

/// The test support kills children that a failing test left running (see ``ChildReaper``).
@Suite("Child reaper")
struct ChildReaperTests {
    @Test("a tracked child still running is killed; one that has exited is left alone and not counted")
    func killsOnlyRunningChildren() throws {
        let reaper = ChildReaper()
        let finished = try Self.start("/bin/true")
        finished.waitUntilExit()
        let lingering = try Self.start("/bin/sleep", "300")
        reaper.track(finished)
        reaper.track(lingering)

        #expect(reaper.killRunning() == 1)
        lingering.waitUntilExit()
        #expect(lingering.terminationReason == .uncaughtSignal)
        #expect(lingering.terminationStatus == SIGKILL)
        #expect(reaper.killRunning() == 0, "killed children are forgotten")
    }

    private static func start(_ path: String, _ arguments: String...) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        try process.run()
        return process
    }
}
