import GatewayFleet
import Testing

@Suite struct LatencySummaryTests {
    @Test func nearestRankPercentiles() {
        let summary = LatencySummary(milliseconds: (1...200).reversed().map(Double.init))
        #expect(summary.count == 200)
        #expect(summary.p50Milliseconds == 100)
        #expect(summary.p99Milliseconds == 198)
        #expect(summary.maxMilliseconds == 200)
    }

    @Test func fewValuesTakeTheLargestForP99() {
        let summary = LatencySummary(milliseconds: [5, 1, 3])
        #expect(summary.p50Milliseconds == 3)
        #expect(summary.p99Milliseconds == 5)
        #expect(summary.maxMilliseconds == 5)
    }

    @Test func noValuesGiveZeros() {
        let summary = LatencySummary(milliseconds: [])
        #expect(summary.count == 0)
        #expect(summary.p50Milliseconds == 0 && summary.p99Milliseconds == 0 && summary.maxMilliseconds == 0)
    }
}

@Suite struct AlarmLatencyRecorderTests {
    let start = ContinuousClock.now

    func publication(_ meter: UInt64, _ counter: UInt32, at milliseconds: Int) -> AlarmPublication {
        AlarmPublication(
            meterID: meter,
            frameCounter: counter,
            condition: "battery_low",
            publishedAt: start + .milliseconds(milliseconds)
        )
    }

    @Test func tiesArrivalsToPublicationsThroughTheAlarmIDs() {
        let recorder = AlarmLatencyRecorder()
        recorder.recordPublication(publication(1, 10, at: 0))
        recorder.recordPublication(publication(2, 20, at: 100))
        recorder.recordArrival(on: .notify, alarmID: 501, at: start + .milliseconds(12))
        recorder.recordArrival(on: .notify, alarmID: 502, at: start + .milliseconds(130))
        recorder.recordArrival(on: .dispatch, alarmID: 501, at: start + .milliseconds(40))
        // A redelivery of the same event does not count again.
        recorder.recordArrival(on: .dispatch, alarmID: 501, at: start + .milliseconds(900))
        // An alarm of another run or meter is left out.
        recorder.recordArrival(on: .notify, alarmID: 999, at: start + .milliseconds(5))
        #expect(recorder.arrivedAlarmIDs == [501, 502, 999])
        let frames: [Int64: AlarmLatencyRecorder.AlarmFrameKey] = [
            501: .init(meterID: 1, frameCounter: 10),
            502: .init(meterID: 2, frameCounter: 20),
        ]
        #expect(recorder.completeCount(frames: frames) == 1)
        let report = recorder.report(frames: frames)
        #expect(report.alarmsPublished == 2)
        #expect(report.notify.missing == 0)
        #expect(report.notify.latency.count == 2)
        #expect(abs(report.notify.latency.p50Milliseconds - 12) < 0.001)
        #expect(abs(report.notify.latency.maxMilliseconds - 30) < 0.001)
        #expect(report.dispatch.missing == 1)
        #expect(report.dispatch.latency.count == 1)
        #expect(abs(report.dispatch.latency.maxMilliseconds - 40) < 0.001)
    }

    @Test func aFrameRepeatingAnEarlierAlarmsKeyIsMergedNotMissing() {
        func frame(_ counter: UInt32, second: UInt32, code: UInt16 = 9, cleared: Bool = false) -> AlarmPublication {
            AlarmPublication(
                meterID: 1,
                frameCounter: counter,
                condition: "magnetic_attack",
                publishedAt: start,
                meterTime: second,
                rawCode: code,
                isCleared: cleared
            )
        }
        let recorder = AlarmLatencyRecorder()
        recorder.recordPublication(frame(10, second: 1_000))
        // Another frame of the meter in the same second with the same code: the gateway stores one alarm.
        recorder.recordPublication(frame(11, second: 1_000))
        // A retransmission of the first frame is that frame, not a merge.
        recorder.recordPublication(frame(10, second: 1_000))
        // A different second, code or cleared flag is an alarm of its own.
        recorder.recordPublication(frame(12, second: 1_001))
        recorder.recordPublication(frame(13, second: 1_000, code: 10))
        recorder.recordPublication(frame(14, second: 1_000, cleared: true))
        // Frames without a meter clock are stored at their receive time: never merged.
        recorder.recordPublication(frame(15, second: 0))
        recorder.recordPublication(frame(16, second: 0))
        for id in Int64(1)...6 {
            recorder.recordArrival(on: .notify, alarmID: id, at: start + .milliseconds(5))
            recorder.recordArrival(on: .dispatch, alarmID: id, at: start + .milliseconds(9))
        }
        let frames = Dictionary(
            uniqueKeysWithValues: [(1, 10), (2, 12), (3, 13), (4, 14), (5, 15), (6, 16)].map {
                (Int64($0.0), AlarmLatencyRecorder.AlarmFrameKey(meterID: 1, frameCounter: UInt32($0.1)))
            }
        )
        let report = recorder.report(frames: frames)
        #expect(report.alarmsPublished == 6)
        #expect(report.merged == 1)
        #expect(report.notify.missing == 0 && report.dispatch.missing == 0)
        #expect(recorder.completeCount(frames: frames) == recorder.publishedCount)
    }

    @Test func anUnresolvedAlarmIDCountsAsMissing() {
        let recorder = AlarmLatencyRecorder()
        recorder.recordPublication(publication(1, 10, at: 0))
        recorder.recordArrival(on: .notify, alarmID: 7, at: start + .milliseconds(3))
        let report = recorder.report(frames: [:])
        #expect(report.notify.missing == 1)
        #expect(report.notify.latency.count == 0)
    }
}

@Suite struct AlarmStageSplitTests {
    @Test func splitsEachAlarmIntoStagesOnTheWallClock() throws {
        let anchor = ContinuousClock.now
        // The monotonic anchor is 1,000,000 µs on the wall clock.
        let recorder = AlarmLatencyRecorder(anchor: anchor, anchorWallMicros: 1_000_000)
        recorder.recordPublication(
            AlarmPublication(meterID: 1, frameCounter: 10, condition: "leak", publishedAt: anchor + .milliseconds(10))
        )
        recorder.recordArrival(on: .notify, alarmID: 5, at: anchor + .milliseconds(40))
        recorder.recordArrival(on: .dispatch, alarmID: 5, at: anchor + .milliseconds(47))
        let frames: [Int64: AlarmLatencyRecorder.AlarmFrameKey] = [5: .init(meterID: 1, frameCounter: 10)]
        // Received 2 ms after the publish (12 ms after the anchor), notified 28 ms after that.
        let stored = [Int64(5): AlarmStoredTimes(receivedMicros: 1_012_000)]
        let stages = try #require(recorder.report(frames: frames, stored: stored).stages)
        #expect(abs(stages.publishToReceive.maxMilliseconds - 2) < 0.001)
        #expect(abs(stages.receiveToNotify.maxMilliseconds - 28) < 0.001)
        #expect(abs(stages.notifyToDispatch.maxMilliseconds - 7) < 0.001)
        #expect(recorder.report(frames: frames).stages == nil)
    }

    @Test func anAlarmWithoutNotificationHasOnlyItsReceiveStage() throws {
        let anchor = ContinuousClock.now
        let recorder = AlarmLatencyRecorder(anchor: anchor, anchorWallMicros: 0)
        recorder.recordPublication(
            AlarmPublication(meterID: 2, frameCounter: 3, condition: "leak", publishedAt: anchor)
        )
        let frames: [Int64: AlarmLatencyRecorder.AlarmFrameKey] = [9: .init(meterID: 2, frameCounter: 3)]
        let stages = try #require(
            recorder.report(frames: frames, stored: [9: AlarmStoredTimes(receivedMicros: 4_000)]).stages
        )
        #expect(stages.publishToReceive.count == 1)
        #expect(abs(stages.publishToReceive.p50Milliseconds - 4) < 0.001)
        #expect(stages.receiveToNotify.count == 0)
        #expect(stages.notifyToDispatch.count == 0)
    }
}
