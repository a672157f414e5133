import Foundation
import Synchronization

/// One alarm frame the fleet published: which meter and frame counter, and when it left the publishing task.
public struct AlarmPublication: Sendable, Hashable {
    /// The meter id.
    public var meterID: UInt64
    /// The frame counter of the alarm frame (the gateway stores it as `alarms.frame_counter`).
    public var frameCounter: UInt32
    /// The alarm's condition name (for the report only).
    public var condition: String
    /// When the frame was handed to the MQTT client.
    public var publishedAt: ContinuousClock.Instant
    /// What the gateway stores the alarm under besides the meter (`alarms` is unique on meter, `raised_at`,
    /// `raw_code`, `is_cleared`): the frame's meter time in seconds (0: clock not set, the gateway then uses its
    /// receive time, so no two frames share it), the alarm code and whether it reports the condition cleared.
    public var meterTime: UInt32
    /// The alarm code.
    public var rawCode: UInt16
    /// Whether the frame reports the condition cleared.
    public var isCleared: Bool

    /// A publication record.
    /// - Parameters:
    ///   - meterID: The meter id.
    ///   - frameCounter: The alarm frame's counter.
    ///   - condition: The condition name.
    ///   - publishedAt: When it was published.
    ///   - meterTime: The frame's meter time in seconds (0: not set).
    ///   - rawCode: The alarm code.
    ///   - isCleared: Whether the frame reports the condition cleared.
    public init(
        meterID: UInt64,
        frameCounter: UInt32,
        condition: String,
        publishedAt: ContinuousClock.Instant,
        meterTime: UInt32 = 0,
        rawCode: UInt16 = 0,
        isCleared: Bool = false
    ) {
        self.meterID = meterID
        self.frameCounter = frameCounter
        self.condition = condition
        self.publishedAt = publishedAt
        self.meterTime = meterTime
        self.rawCode = rawCode
        self.isCleared = isCleared
    }
}

/// p50, p99 and the maximum of a set of latencies, by the nearest-rank method (the p99 of 100 values is the 99th
/// smallest; of 10 values, the largest).
public struct LatencySummary: Codable, Sendable, Equatable {
    /// How many latencies the figures cover.
    public var count: Int
    /// The median in milliseconds (0 when `count` is 0).
    public var p50Milliseconds: Double
    /// The 99th percentile in milliseconds (0 when `count` is 0).
    public var p99Milliseconds: Double
    /// The largest in milliseconds (0 when `count` is 0).
    public var maxMilliseconds: Double

    /// Summarises latencies given in milliseconds (any order).
    /// - Parameter milliseconds: The latencies.
    public init(milliseconds: [Double]) {
        let sorted = milliseconds.sorted()
        count = sorted.count
        func rank(_ percentile: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            // Nearest rank: the smallest value with at least `percentile` % of the values at or below it.
            let index = Int((percentile / 100 * Double(sorted.count)).rounded(.up)) - 1
            return sorted[min(max(index, 0), sorted.count - 1)]
        }
        p50Milliseconds = rank(50)
        p99Milliseconds = rank(99)
        maxMilliseconds = sorted.last ?? 0
    }
}

/// What the alarm-latency benchmark found for one way the gateway announces a ticket event.
public struct AlarmChannelLatency: Codable, Sendable, Equatable {
    /// Latency from an alarm frame's publish to the first ticket event naming its alarm.
    public var latency: LatencySummary
    /// Alarms published whose ticket event never arrived on this channel within the wait.
    public var missing: Int
}

/// The alarm-latency benchmark's result (printed as JSON by `meter-gateway bench-alarms`).
public struct AlarmLatencyReport: Codable, Sendable, Equatable {
    /// Alarm frames the fleet published, each a stored alarm of its own (see ``merged``).
    public var alarmsPublished: Int
    /// Alarm frames of a meter that repeated an earlier frame's meter time (second), code and cleared flag: the
    /// gateway stores them as that earlier alarm (the key of `alarms`), so they have no ticket event of their own and
    /// are not in ``alarmsPublished``. A fleet that falls behind its schedule on a starved machine and catches up can
    /// send two frames of one meter within a second.
    public var merged: Int
    /// Publish → `NOTIFY ticket_events` (a session that ran `LISTEN ticket_events`).
    public var notify: AlarmChannelLatency
    /// Publish → the event's message on the MQTT dispatch topic `<prefix>/dispatch/tickets/<priority>`.
    public var dispatch: AlarmChannelLatency
    /// The same latencies split into stages (nil when the stored alarms' stamps were not given).
    public var stages: AlarmStageLatency?
}

/// Collects the times an alarm frame was published and the times its ticket event arrived on each channel, and
/// turns them into an ``AlarmLatencyReport``.
///
/// The channels name the stored alarm by its database id (`alarm_id` of the ticket event message); the caller
/// resolves those ids to the meter and frame counter the fleet published (``AlarmFrameKey``) before asking for the
/// report. Only the first arrival per alarm and channel counts (a ticket event may be delivered more than once).
///
/// Thread rules: every method may be called from any thread (the MQTT network thread, the listener's consumer,
/// the fleet's task); the state sits behind one mutex.
public final class AlarmLatencyRecorder: Sendable {
    /// The two ways a ticket event reaches a dispatcher.
    public enum Channel: Sendable, Hashable {
        /// `NOTIFY ticket_events`.
        case notify
        /// The MQTT dispatch topic.
        case dispatch
    }

    /// The fleet-side name of a stored alarm: its meter and frame counter.
    public struct AlarmFrameKey: Sendable, Hashable {
        /// The meter id.
        public var meterID: UInt64
        /// The frame counter.
        public var frameCounter: UInt32

        /// A key.
        /// - Parameters:
        ///   - meterID: The meter id.
        ///   - frameCounter: The frame counter.
        public init(meterID: UInt64, frameCounter: UInt32) {
            self.meterID = meterID
            self.frameCounter = frameCounter
        }
    }

    /// What `alarms` is unique on: meter, meter time (seconds), alarm code, cleared flag.
    private struct StoredKey: Hashable {
        var meterID: UInt64
        var meterTime: UInt32
        var rawCode: UInt16
        var isCleared: Bool
    }

    private struct State {
        var published: [AlarmFrameKey: ContinuousClock.Instant] = [:]
        /// The frame each stored key was first published in (frames with the clock set only).
        var firstFrame: [StoredKey: AlarmFrameKey] = [:]
        var merged = 0
        var arrivals: [Channel: [Int64: ContinuousClock.Instant]] = [.notify: [:], .dispatch: [:]]
    }

    private let state = Mutex(State())
    /// A monotonic instant and the wall-clock time (µs since 1970) read together, to put publish and arrival
    /// instants on the gateway's wall clock for the stage split.
    private let anchor: ContinuousClock.Instant
    private let anchorWallMicros: Int64

    /// An empty recorder; the wall clock is read now, once.
    public init() {
        anchor = .now
        anchorWallMicros = Int64((Date().timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// An empty recorder whose monotonic `anchor` corresponds to `anchorWallMicros` on the wall clock (tests).
    /// - Parameters:
    ///   - anchor: A monotonic instant.
    ///   - anchorWallMicros: The wall-clock time at that instant, in µs since 1970.
    public init(anchor: ContinuousClock.Instant, anchorWallMicros: Int64) {
        self.anchor = anchor
        self.anchorWallMicros = anchorWallMicros
    }

    /// Records an alarm frame's publish (the fleet's ``SimulatorOptions/onAlarmPublished``).
    /// - Parameter publication: The alarm frame.
    public func recordPublication(_ publication: AlarmPublication) {
        let key = AlarmFrameKey(meterID: publication.meterID, frameCounter: publication.frameCounter)
        state.withLock { state in
            // A retransmission (same frame) keeps its first publish time.
            guard state.published[key] == nil else { return }
            if publication.meterTime != 0 {
                let stored = StoredKey(
                    meterID: publication.meterID,
                    meterTime: publication.meterTime,
                    rawCode: publication.rawCode,
                    isCleared: publication.isCleared
                )
                if let first = state.firstFrame[stored], first != key {
                    state.merged += 1
                    return
                }
                state.firstFrame[stored] = key
            }
            state.published[key] = publication.publishedAt
        }
    }

    /// Records that a ticket event naming a stored alarm arrived on a channel; later arrivals of the same alarm on
    /// the same channel are ignored.
    /// - Parameters:
    ///   - channel: Where it arrived.
    ///   - alarmID: The `alarm_id` of the event.
    ///   - time: When it arrived.
    public func recordArrival(on channel: Channel, alarmID: Int64, at time: ContinuousClock.Instant) {
        state.withLock { state in
            if state.arrivals[channel]?[alarmID] == nil { state.arrivals[channel, default: [:]][alarmID] = time }
        }
    }

    /// Alarm frames published so far.
    public var publishedCount: Int { state.withLock { $0.published.count } }

    /// The alarm ids that arrived on any channel, for the caller to resolve.
    public var arrivedAlarmIDs: [Int64] {
        state.withLock { state in
            Array(Set(state.arrivals.values.flatMap(\.keys))).sorted()
        }
    }

    /// How many published alarms have an arrival on both channels, given the resolution of alarm ids.
    /// - Parameter frames: The fleet-side key of each stored alarm id.
    /// - Returns: The count.
    public func completeCount(frames: [Int64: AlarmFrameKey]) -> Int {
        state.withLock { state in
            let byKey = Self.arrivalsByKey(state.arrivals, frames: frames)
            return state.published.keys.filter { byKey[.notify]?[$0] != nil && byKey[.dispatch]?[$0] != nil }.count
        }
    }

    /// The latencies of every published alarm, per channel, and split into stages when `stored` is given.
    /// - Parameters:
    ///   - frames: The fleet-side key of each stored alarm id (alarm ids without one are not the fleet's alarms of
    ///     this run and are left out).
    ///   - stored: The gateway's stamps of each stored alarm id (empty: no stage split).
    /// - Returns: The report.
    public func report(frames: [Int64: AlarmFrameKey], stored: [Int64: AlarmStoredTimes] = [:]) -> AlarmLatencyReport {
        state.withLock { state in
            let byKey = Self.arrivalsByKey(state.arrivals, frames: frames)
            func channel(_ channel: Channel) -> AlarmChannelLatency {
                var milliseconds: [Double] = []
                var missing = 0
                for (key, published) in state.published {
                    guard let arrived = byKey[channel]?[key] else {
                        missing += 1
                        continue
                    }
                    let elapsed = arrived - published
                    milliseconds.append(
                        Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
                    )
                }
                return AlarmChannelLatency(latency: LatencySummary(milliseconds: milliseconds), missing: missing)
            }
            return AlarmLatencyReport(
                alarmsPublished: state.published.count,
                merged: state.merged,
                notify: channel(.notify),
                dispatch: channel(.dispatch),
                stages: stored.isEmpty ? nil : stages(state, byKey: byKey, frames: frames, stored: stored)
            )
        }
    }

    /// The stage split of the alarms whose stamps are known (each stage over the alarms that have both its ends).
    private func stages(
        _ state: State,
        byKey: [Channel: [AlarmFrameKey: ContinuousClock.Instant]],
        frames: [Int64: AlarmFrameKey],
        stored: [Int64: AlarmStoredTimes]
    ) -> AlarmStageLatency {
        var toReceive: [Double] = []
        var toNotify: [Double] = []
        var toDispatch: [Double] = []
        for (id, times) in stored {
            guard let key = frames[id], let published = state.published[key] else { continue }
            toReceive.append(Double(times.receivedMicros - wallMicros(published)) / 1e3)
            guard let notified = byKey[.notify]?[key] else { continue }
            toNotify.append(Double(wallMicros(notified) - times.receivedMicros) / 1e3)
            if let dispatched = byKey[.dispatch]?[key] {
                toDispatch.append(Double(wallMicros(dispatched) - wallMicros(notified)) / 1e3)
            }
        }
        return AlarmStageLatency(
            publishToReceive: LatencySummary(milliseconds: toReceive),
            receiveToNotify: LatencySummary(milliseconds: toNotify),
            notifyToDispatch: LatencySummary(milliseconds: toDispatch)
        )
    }

    /// A monotonic instant on the wall clock, in µs since 1970.
    private func wallMicros(_ instant: ContinuousClock.Instant) -> Int64 {
        let elapsed = instant - anchor
        return anchorWallMicros + elapsed.components.seconds * 1_000_000
            + elapsed.components.attoseconds / 1_000_000_000_000
    }

    private static func arrivalsByKey(
        _ arrivals: [Channel: [Int64: ContinuousClock.Instant]],
        frames: [Int64: AlarmFrameKey]
    ) -> [Channel: [AlarmFrameKey: ContinuousClock.Instant]] {
        arrivals.mapValues { byID in
            var byKey: [AlarmFrameKey: ContinuousClock.Instant] = [:]
            for (id, time) in byID {
                guard let key = frames[id] else { continue }
                if let earlier = byKey[key], earlier <= time { continue }
                byKey[key] = time
            }
            return byKey
        }
    }
}
